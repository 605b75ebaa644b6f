// What a pull tells its caller as it goes; the command turns these into
// progress lines, bars or NDJSON (cli/pull-progress.ts).
import type { LayerJob } from "./fetch-layer.js";

export interface PullEvents {
  /** About to ask this endpoint ("127.0.0.1:5000/busybox"). */
  trying(source: string): void;
  /** The manifest and config are in: these are the layers. */
  resolved(name: string, layers: readonly LayerJob[]): void;
  layerExists(job: LayerJob): void;
  layerStarted(job: LayerJob): void;
  layerBytes(job: LayerJob, bytes: number): void;
  layerDone(job: LayerJob): void;
}
