// nook pull: reference -> registry endpoints (registries.conf) -> manifest
// (an index picks the platform) -> config -> layers (missing ones only, a few
// at a time, each streamed into the store) -> image record and tag.
//
// This runs inside the user's user namespace (the command re-executes itself
// there, see cli/commands/pull.ts), so the unpacker's chown lands the image's
// owners on the subordinate ids, and removing a failed layer's files works.
import * as E from "fp-ts/lib/Either.js";
import { readdir, readFile } from "node:fs/promises";
import { type ImageConfig, checkConfigAgainstManifest, parseImageConfig } from "../image/config.js";
import type { Digest } from "../image/digest.js";
import { type ImageManifest, parseManifestDocument } from "../image/manifest.js";
import { ACCEPT_MANIFESTS } from "../image/media-types.js";
import { formatPlatform, hostPlatform, selectManifest, type Platform } from "../image/platform.js";
import { formatReference, type Reference } from "../image/reference.js";
import { candidates, loadRegistriesConf, registriesConfPaths } from "../image/registries-conf.js";
import type { NookError } from "../lib/errors.js";
import { trace } from "../lib/trace.js";
import { RegistryClient, type FetchedManifest } from "../registry/client.js";
import { credentialsFor } from "../registry/credentials.js";
import type { UnpackOptions } from "../rootfs/unpack.js";
import type { ImageRecord } from "../store/records.js";
import { Store } from "../store/store.js";
import type { LayerJob } from "./fetch-layer.js";
import { LayerWorkers } from "./run-layer-worker.js";
import type { PullEvents } from "./pull-events.js";
import { ownEnv } from "./locations.js";

export interface PullOptions {
  readonly platform?: Platform;
  readonly unpack: UnpackOptions;
  readonly events: PullEvents;
  /** Layers fetched at once (Docker's max-concurrent-downloads is 3; 4 keeps two cores busy when one layer waits on the network). */
  readonly concurrency?: number;
  /** false: plain HTTP for every endpoint, as podman pull --tls-verify=false. */
  readonly tlsVerify?: boolean;
}

export interface Pulled {
  readonly id: Digest;
  readonly name: string;
  readonly manifestDigest: Digest;
  readonly downloaded: number;
}

/** The file system for loadRegistriesConf: a missing file or directory is undefined, not an error. */
const confReader = {
  readFile: (p: string): Promise<string | undefined> => readFile(p, "utf8").catch(() => undefined),
  readDir: async (p: string): Promise<readonly string[] | undefined> => {
    const entries = await readdir(p, { withFileTypes: true }).catch(() => undefined);
    return entries?.filter((e) => e.isFile()).map((e) => e.name);
  },
};

/** Runs `jobs` with at most `n` at a time; the first failure stops new ones from starting. */
const bounded = async <L, R>(
  n: number,
  jobs: readonly (() => Promise<E.Either<L, R>>)[],
): Promise<E.Either<L, R[]>> => {
  const results: R[] = [];
  let failed: L | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < jobs.length) {
      const i = next++;
      const r = await jobs[i]!();
      if (E.isLeft(r)) failed ??= r.left;
      else results[i] = r.right;
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, worker));
  return failed !== undefined ? E.left(failed) : E.right(results);
};

/** The manifest for this platform: the document itself, or the index's pick. */
const resolveManifest = async (
  client: RegistryClient,
  ref: Reference,
  want: Platform,
): Promise<
  E.Either<NookError, { manifest: ImageManifest; fetched: FetchedManifest; platform: Platform }>
> => {
  const refName = formatReference(ref);
  const first = await client.manifest(ref.digest ?? ref.tag ?? "latest", ACCEPT_MANIFESTS);
  if (E.isLeft(first)) return first;
  const doc = parseManifestDocument(first.right.bytes, first.right.contentType, `manifest ${refName}`);
  if (E.isLeft(doc)) return doc;
  if (doc.right.kind === "manifest")
    return E.right({ manifest: doc.right.manifest, fetched: first.right, platform: want });
  const picked = selectManifest(doc.right.index, want, refName);
  if (E.isLeft(picked)) return picked;
  const second = await client.manifest(picked.right.digest, ACCEPT_MANIFESTS);
  if (E.isLeft(second)) return second;
  const inner = parseManifestDocument(
    second.right.bytes,
    second.right.contentType,
    `manifest ${refName}@${picked.right.digest}`,
  );
  if (E.isLeft(inner)) return inner;
  if (inner.right.kind !== "manifest")
    return E.left({
      _tag: "InvalidManifest",
      message: `${refName}: an index inside an index is not supported`,
    });
  return E.right({
    manifest: inner.right.manifest,
    fetched: second.right,
    platform: picked.right.platform ?? want,
  });
};

const fetchConfig = async (
  client: RegistryClient,
  store: Store,
  manifest: ImageManifest,
  refName: string,
): Promise<E.Either<NookError, { config: ImageConfig; bytes: Buffer }>> => {
  const digest = manifest.config.digest;
  let bytes = await store.getBlob(digest);
  if (!bytes) {
    const got = await client.blob(digest);
    if (E.isLeft(got)) return got;
    const chunks: Buffer[] = [];
    try {
      for await (const c of got.right.body) chunks.push(c as Buffer);
    } catch (e) {
      return E.left({
        _tag: "RegistryUnreachable",
        message: `${client.name}: config ${digest}: ${(e as Error).message}`,
      });
    }
    bytes = Buffer.concat(chunks);
    const stored = await store.putBlob(digest, bytes);
    if (E.isLeft(stored))
      return E.left({
        _tag: "DigestMismatch",
        message: `${client.name}: config ${digest}: ${stored.left.message}`,
      });
  }
  const config = parseImageConfig(bytes, `config of ${refName}`);
  if (E.isLeft(config)) return config;
  const consistent = checkConfigAgainstManifest(config.right, manifest, `config of ${refName}`);
  if (E.isLeft(consistent)) return consistent;
  return E.right({ config: config.right, bytes });
};

/** Pulls from one endpoint. */
const pullFrom = async (
  client: RegistryClient,
  store: Store,
  ref: Reference,
  opts: PullOptions,
): Promise<E.Either<NookError, Pulled>> => {
  const refName = formatReference(ref);
  const want = opts.platform ?? hostPlatform();
  trace("resolve manifest");
  const resolved = await resolveManifest(client, ref, want);
  trace("manifest resolved");
  if (E.isLeft(resolved)) return resolved;
  const { manifest, fetched } = resolved.right;
  const cfg = await fetchConfig(client, store, manifest, refName);
  if (E.isLeft(cfg)) return cfg;
  const { config } = cfg.right;
  const jobs: LayerJob[] = manifest.layers.map((l, i) => ({
    digest: l.digest,
    diffId: config.rootfs.diff_ids[i]!,
    size: l.size,
  }));
  trace("config fetched");
  // Held from before the presence checks until the image record lists them.
  const release = await store.holdLayers(jobs.map((j) => j.diffId));
  try {
    opts.events.resolved(refName, jobs);
    let downloaded = 0;
    const tasks = jobs.map((job) => async (): Promise<E.Either<NookError, void>> => {
      if (await store.hasLayer(job.diffId)) {
        opts.events.layerExists(job);
        return E.right(undefined);
      }
      opts.events.layerStarted(job);
      trace(`layer ${job.digest.slice(7, 19)} started`);
      const r = await workers.fetch(client, store, job, opts.unpack, (n) => opts.events.layerBytes(job, n));
      if (E.isLeft(r)) return r;
      downloaded++;
      trace(`layer ${job.digest.slice(7, 19)} stored`);
      opts.events.layerDone(job);
      return E.right(undefined);
    });
    // Largest first: the long layers start at once and the small ones fill the
    // gaps, instead of one big layer running alone at the end.
    const bySize = tasks.map((t, i) => ({ t, size: jobs[i]!.size })).sort((a, b) => b.size - a.size);
    const workers = new LayerWorkers();
    const all = await bounded(
      opts.concurrency ?? 4,
      bySize.map((x) => x.t),
    ).finally(() => workers.close());
    if (E.isLeft(all)) return all;
    const stored = await store.putBlob(fetched.digest, fetched.bytes);
    if (E.isLeft(stored)) return stored;
    const record: ImageRecord = {
      id: manifest.config.digest,
      manifestDigest: fetched.digest,
      repoDigests: [`${ref.registry}/${ref.repository}@${fetched.digest}`],
      layers: jobs.map((j) => ({ diffId: j.diffId, digest: j.digest, size: j.size })),
      os: config.os,
      architecture: config.architecture,
      stored: new Date().toISOString(),
      ...(config.variant ? { variant: config.variant } : {}),
      ...(config.created ? { created: config.created } : {}),
    };
    const previous = await store.getImage(record.id);
    if (E.isRight(previous))
      record.repoDigests.push(...previous.right.repoDigests.filter((d) => !record.repoDigests.includes(d)));
    await store.putImage(record);
    trace("image stored");
    if (ref.tag !== undefined) await store.setTag(refName, record.id);
    return E.right({ id: record.id, name: refName, manifestDigest: fetched.digest, downloaded });
  } finally {
    await release();
  }
};

/** Pulls `ref`, trying each registry that registries.conf gives for it, mirrors first. */
export const pull = async (
  ref: Reference,
  store: Store,
  opts: PullOptions,
): Promise<E.Either<NookError, Pulled>> => {
  store.init();
  store.clearStaleTemp();
  const env = ownEnv();
  const conf = await loadRegistriesConf(registriesConfPaths(env, env.HOME ?? "/"), confReader)();
  if (E.isLeft(conf)) return conf;
  const sources = candidates(ref, conf.right);
  if (E.isLeft(sources)) return sources;
  let lastError: NookError | undefined;
  for (const source of sources.right) {
    for (const listed of source.endpoints) {
      const endpoint = opts.tlsVerify === false ? { ...listed, insecure: true } : listed;
      const creds = credentialsFor(
        endpoint.host === "registry-1.docker.io" ? "docker.io" : endpoint.host,
        env,
      );
      if (E.isLeft(creds)) return creds;
      const client = new RegistryClient(endpoint, endpoint.repository, creds.right);
      opts.events.trying(`${endpoint.host}/${endpoint.repository}`);
      const r = await pullFrom(client, store, source.reference, opts);
      if (E.isRight(r)) return r;
      lastError = r.left;
      // A failed verification is not the mirror's problem to retry elsewhere: stop.
      if (r.left._tag === "DigestMismatch" || r.left._tag === "UnsafeLayerEntry") return r;
    }
  }
  return E.left(
    lastError ?? { _tag: "NoSource", message: `no registry to pull ${formatReference(ref)} from` },
  );
};

export { formatPlatform };
