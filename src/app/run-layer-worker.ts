// Runs fetch-layer.ts in worker threads (layer-worker.ts), one per core,
// started on first use and ended with the pull; in this thread when the layer
// is small (a worker's start costs more than it saves) or the worker script
// is not there (tests that run the sources).
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import * as E from "fp-ts/lib/Either.js";
import type { RegistryClient } from "../registry/client.js";
import type { UnpackOptions } from "../rootfs/unpack.js";
import type { Store } from "../store/store.js";
import { fetchLayer, type LayerError, type LayerJob, type LayerProgress } from "./fetch-layer.js";
import type { LayerTask, LayerWorkerMessage } from "./layer-worker.js";

const WORKER_MIN_BYTES = 4 << 20;

/** dist/layer-worker.mjs, beside the bundle; this code sits in dist/ or dist/chunks/. */
const workerScript = (): string | undefined => {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, "layer-worker.mjs"), join(here, "..", "layer-worker.mjs")].find((p) => existsSync(p));
};

interface Slot {
  readonly worker: Worker;
  busy: boolean;
}

type Result = E.Either<LayerError, boolean>;

export class LayerWorkers {
  private readonly slots: Slot[] = [];
  private readonly waiting: ((s: Slot) => void)[] = [];
  private readonly script = workerScript();

  constructor(private readonly size = Math.max(1, availableParallelism())) {}

  private async acquire(script: string): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) {
      free.busy = true;
      return free;
    }
    if (this.slots.length < this.size) {
      const slot = { worker: new Worker(script), busy: true };
      slot.worker.unref();
      this.slots.push(slot);
      return slot;
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: Slot): void {
    const next = this.waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  }

  fetch(
    client: RegistryClient,
    store: Store,
    job: LayerJob,
    opts: UnpackOptions,
    progress: LayerProgress,
  ): Promise<Result> {
    if (!this.script || job.size < WORKER_MIN_BYTES) return fetchLayer(client, store, job, opts, progress);
    return this.inWorker(this.script, client, store, job, opts, progress);
  }

  private async inWorker(
    script: string,
    client: RegistryClient,
    store: Store,
    job: LayerJob,
    opts: UnpackOptions,
    progress: LayerProgress,
  ): Promise<Result> {
    const slot = await this.acquire(script);
    const task: LayerTask = {
      endpoint: client.endpoint,
      repository: client.repository,
      credentials: client.credentialsInUse,
      authorization: client.currentAuthorization,
      scheme: client.currentScheme,
      storeRoot: store.root,
      job,
      unpack: opts,
    };
    const result = await new Promise<Result>((resolve) => {
      const fail = (why: string): void => {
        cleanup();
        resolve(E.left({ _tag: "StoreIo", message: `layer ${job.digest}: worker ${why}` }));
      };
      const onMessage = (m: LayerWorkerMessage): void => {
        if (m.type === "bytes") return progress(m.n);
        cleanup();
        resolve(m.result);
      };
      const onError = (e: Error): void => fail(`failed: ${e.message}`);
      const onExit = (code: number): void => fail(`exited with ${code} before finishing`);
      const cleanup = (): void => {
        slot.worker.off("message", onMessage);
        slot.worker.off("error", onError);
        slot.worker.off("exit", onExit);
      };
      slot.worker.on("message", onMessage);
      slot.worker.on("error", onError);
      slot.worker.on("exit", onExit);
      slot.worker.postMessage(task);
    });
    this.release(slot);
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
