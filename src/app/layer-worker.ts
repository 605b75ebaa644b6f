// A worker thread that fetches and stores layers (fetch-layer.ts), so that
// layers hash, decompress and unpack on all cores at once: a Node process
// does all of that on one thread otherwise. Its own entry point in dist/
// (scripts/build.mjs). A pull starts one per core and sends each a layer at a
// time, with what the registry client needs (the token the parent already
// has included); the worker answers with byte counts and the result.
import { parentPort } from "node:worker_threads";
import type { Credentials, Endpoint } from "../registry/client.js";
import { RegistryClient } from "../registry/client.js";
import type { UnpackOptions } from "../rootfs/unpack.js";
import { Store } from "../store/store.js";
import { fetchLayer, type LayerJob } from "./fetch-layer.js";

export interface LayerTask {
  readonly endpoint: Endpoint;
  readonly repository: string;
  readonly credentials: Credentials | undefined;
  readonly authorization: string | undefined;
  readonly scheme: "https" | "http" | undefined;
  readonly storeRoot: string;
  readonly job: LayerJob;
  readonly unpack: UnpackOptions;
}

export type LayerWorkerMessage =
  | { readonly type: "bytes"; readonly n: number }
  | { readonly type: "done"; readonly result: Awaited<ReturnType<typeof fetchLayer>> };

const port = parentPort!;

const runTask = async (d: LayerTask): Promise<void> => {
  const client = new RegistryClient(
    d.endpoint,
    d.repository,
    d.credentials,
    undefined,
    d.authorization,
    d.scheme,
  );
  // Progress goes up at most every 100 ms: a message per chunk would cost more than the chunk.
  let pending = 0;
  const timer = setInterval(() => {
    if (pending > 0) port.postMessage({ type: "bytes", n: pending } satisfies LayerWorkerMessage);
    pending = 0;
  }, 100);
  try {
    const result = await fetchLayer(client, new Store(d.storeRoot), d.job, d.unpack, (n) => (pending += n));
    if (pending > 0) port.postMessage({ type: "bytes", n: pending } satisfies LayerWorkerMessage);
    port.postMessage({ type: "done", result } satisfies LayerWorkerMessage);
  } finally {
    clearInterval(timer);
  }
};

port.on("message", (task: LayerTask) => void runTask(task));
