// Pull progress in the shapes users know: Docker's per-layer lines
// ("3f4a9c2b1d0e: Downloading  12.3MB/25.1MB", redrawn in place on a
// terminal; one line per finished step otherwise), nothing with --quiet, and
// NDJSON events with --format json for scripts.
import type { LayerJob } from "../app/fetch-layer.js";
import type { PullEvents } from "../app/pull-events.js";

export interface Sink {
  write(s: string): unknown;
}

const shortId = (job: LayerJob): string => job.digest.slice(7, 19);

export const humanSize = (n: number): string => {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 2 : 1)}${units[u]}`;
};

export const quietEvents = (): PullEvents => ({
  trying: () => {},
  resolved: () => {},
  layerExists: () => {},
  layerStarted: () => {},
  layerBytes: () => {},
  layerDone: () => {},
});

export const jsonEvents = (out: Sink): PullEvents => {
  const emit = (o: Record<string, unknown>): void => void out.write(`${JSON.stringify(o)}\n`);
  const got = new Map<string, number>();
  const lastEmit = new Map<string, number>();
  return {
    trying: (source) => emit({ event: "trying", source }),
    resolved: (name, layers) =>
      emit({ event: "resolved", name, layers: layers.map((l) => ({ digest: l.digest, size: l.size })) }),
    layerExists: (job) => emit({ event: "layer", digest: job.digest, status: "exists" }),
    layerStarted: (job) =>
      emit({ event: "layer", digest: job.digest, status: "downloading", bytes: 0, total: job.size }),
    layerBytes: (job, n) => {
      const bytes = (got.get(job.digest) ?? 0) + n;
      got.set(job.digest, bytes);
      const now = Date.now();
      if (now - (lastEmit.get(job.digest) ?? 0) < 200) return;
      lastEmit.set(job.digest, now);
      emit({ event: "layer", digest: job.digest, status: "downloading", bytes, total: job.size });
    },
    layerDone: (job) =>
      emit({
        event: "layer",
        digest: job.digest,
        status: "done",
        bytes: got.get(job.digest) ?? job.size,
        total: job.size,
      }),
  };
};

/** One line per finished step: what a log file or CI output wants. */
export const lineEvents = (out: Sink): PullEvents => ({
  trying: (source) => void out.write(`Trying to pull ${source}...\n`),
  resolved: () => {},
  layerExists: (job) => void out.write(`${shortId(job)}: Already exists\n`),
  layerStarted: () => {},
  layerBytes: () => {},
  layerDone: (job) => void out.write(`${shortId(job)}: Pull complete\n`),
});

/** Docker's live view: one line per layer, redrawn in place at most 10 times a second. */
export const terminalEvents = (out: Sink): PullEvents => {
  const order: string[] = [];
  const state = new Map<string, { text: string; bytes: number; total: number; start: number }>();
  let drawn = 0;
  let last = 0;
  const draw = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let s = drawn > 0 ? `\x1b[${drawn}A` : "";
    for (const id of order) {
      const st = state.get(id)!;
      s += `\x1b[2K${id}: ${st.text}\n`;
    }
    drawn = order.length;
    out.write(s);
  };
  const bar = (bytes: number, total: number, start: number): string => {
    const width = 30;
    const done = total > 0 ? Math.min(width, Math.floor((bytes / total) * width)) : 0;
    const secs = Math.max((Date.now() - start) / 1000, 0.001);
    return `Downloading [${"=".repeat(Math.max(done - 1, 0))}${done > 0 ? ">" : ""}${" ".repeat(width - done)}] ${humanSize(bytes)}/${humanSize(total)} ${humanSize(bytes / secs)}/s`;
  };
  return {
    trying: (source) => void out.write(`Trying to pull ${source}...\n`),
    resolved: (_name, layers) => {
      for (const l of layers) {
        const id = shortId(l);
        if (!state.has(id)) order.push(id);
        state.set(id, { text: "Waiting", bytes: 0, total: l.size, start: Date.now() });
      }
      draw(true);
    },
    layerExists: (job) => {
      state.get(shortId(job))!.text = "Already exists";
      draw(true);
    },
    // A layer may wait for a free worker after it starts: it says Waiting until its first bytes.
    layerStarted: () => {},
    layerBytes: (job, n) => {
      const st = state.get(shortId(job))!;
      if (st.bytes === 0) st.start = Date.now();
      st.bytes += n;
      st.text = bar(st.bytes, st.total, st.start);
      draw(false);
    },
    layerDone: (job) => {
      state.get(shortId(job))!.text = "Pull complete";
      draw(true);
    },
  };
};
