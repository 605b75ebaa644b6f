// One layer from registry to store, as one stream: the compressed bytes are
// hashed as they arrive and fed straight to the unpacker (which decompresses,
// hashes the tar for the diff id, and writes the tree), so nothing lands on
// disk twice. Both digests are checked before the layer is renamed into the
// store; on any failure its temp directory is removed.
//
// A connection that breaks mid-blob is resumed with a Range request at the
// byte where it broke. A registry that answers the Range with the whole blob
// (200) cannot be resumed into a half-unpacked tree: the layer starts over.
import { createHash } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import * as E from "fp-ts/lib/Either.js";
import type { Digest } from "../image/digest.js";
import type { RegistryClient } from "../registry/client.js";
import type { RegistryError } from "../registry/errors.js";
import { unpackLayer, type UnpackError, type UnpackOptions } from "../rootfs/unpack.js";
import type { Store, StoreError } from "../store/store.js";

export type LayerError = RegistryError | UnpackError | StoreError;

export interface LayerJob {
  readonly digest: Digest;
  readonly diffId: Digest;
  readonly size: number;
}

export interface LayerProgress {
  (bytes: number): void;
}

const MAX_RESUMES = 5;
const MAX_RESTARTS = 2;

/** Waits for room in `sink`, or for its end (the unpacker stops reading when it refuses a layer). */
const drained = (sink: PassThrough): Promise<void> =>
  new Promise((resolve) => {
    const done = (): void => {
      sink.off("drain", done);
      sink.off("close", done);
      resolve();
    };
    sink.once("drain", done);
    sink.once("close", done);
  });

/** Feeds `body` into `sink` until it ends; resolves with the bytes fed and whether it broke. */
const pump = async (
  body: Readable,
  sink: PassThrough,
  hash: ReturnType<typeof createHash>,
  onBytes: (n: number) => void,
): Promise<{ fed: number; broke: string | undefined }> => {
  let fed = 0;
  try {
    for await (const chunk of body) {
      const b = chunk as Buffer;
      hash.update(b);
      fed += b.length;
      onBytes(b.length);
      if (!sink.write(b)) await drained(sink);
      // The unpacker refused the layer and destroyed its input: stop reading.
      if (sink.destroyed) {
        body.destroy();
        return { fed, broke: undefined };
      }
    }
    return { fed, broke: undefined };
  } catch (e) {
    return { fed, broke: (e as Error).message };
  }
};

type Attempt = E.Either<LayerError | { readonly _tag: "Restart" }, { unpackedBytes: number }>;

/** One pass over the blob into `tree`; resumes with Range, asks for a restart when it cannot. */
const attempt = async (
  client: RegistryClient,
  job: LayerJob,
  tree: string,
  opts: UnpackOptions,
  progress: LayerProgress,
): Promise<Attempt> => {
  const sink = new PassThrough({ highWaterMark: 1 << 20 });
  const unpacked = unpackLayer(sink, tree, opts);
  const hash = createHash("sha256");
  let received = 0;
  const abort = async <L>(left: L): Promise<E.Either<L, never>> => {
    sink.destroy();
    await unpacked.catch(() => undefined);
    return E.left(left);
  };
  for (let resumes = 0; ; resumes++) {
    const got = await client.blob(job.digest, received);
    if (E.isLeft(got)) return abort(got.left);
    if (received > 0 && !got.right.resumed) {
      got.right.body.destroy();
      return abort({ _tag: "Restart" as const });
    }
    const { fed, broke } = await pump(got.right.body, sink, hash, progress);
    received += fed;
    if (sink.destroyed) break;
    if (broke === undefined && received >= job.size) break;
    if (resumes >= MAX_RESUMES)
      return abort({
        _tag: "RegistryUnreachable" as const,
        message: `${client.name}: download of ${job.digest} kept breaking (${received} of ${job.size} bytes)${broke ? `: ${broke}` : ""}`,
      });
  }
  sink.end();
  const result = await unpacked;
  if (E.isLeft(result)) return result;
  const digest = `sha256:${hash.digest("hex")}`;
  if (digest !== job.digest)
    return E.left({
      _tag: "DigestMismatch",
      message: `${client.name}: layer ${job.digest} arrived with digest ${digest}: refusing it`,
    });
  if (result.right.diffId !== job.diffId)
    return E.left({
      _tag: "DigestMismatch",
      message: `${client.name}: layer ${job.digest} unpacks to diff id ${result.right.diffId}, but the image config says ${job.diffId}`,
    });
  return E.right({ unpackedBytes: result.right.bytes });
};

/** Downloads, verifies and stores one layer. Right(true) when stored, Right(false) when another process stored it first. */
export const fetchLayer = async (
  client: RegistryClient,
  store: Store,
  job: LayerJob,
  opts: UnpackOptions,
  progress: LayerProgress,
): Promise<E.Either<LayerError, boolean>> => {
  for (let restarts = 0; ; restarts++) {
    const dir = await store.tempDir("layer");
    const tree = join(dir, "diff");
    await mkdir(tree, { mode: 0o755 });
    const r = await attempt(client, job, tree, opts, progress);
    if (E.isRight(r)) {
      const committed = await store.commitLayer(dir, {
        diffId: job.diffId,
        digest: job.digest,
        size: r.right.unpackedBytes,
        whiteouts: opts.whiteouts,
        owners: opts.preserveOwner ? "mapped" : "squashed",
      });
      if (E.isLeft(committed) || !committed.right) await rm(dir, { recursive: true, force: true });
      return committed;
    }
    await rm(dir, { recursive: true, force: true });
    if (r.left._tag !== "Restart") return E.left(r.left);
    if (restarts >= MAX_RESTARTS)
      return E.left({
        _tag: "RegistryUnreachable",
        message: `${client.name}: download of ${job.digest} broke ${restarts + 1} times and the registry cannot resume it`,
      });
  }
};
