// The registry integration tests pull from: Debian's docker-registry (the
// CNCF distribution server) on 127.0.0.1 and a free port, its storage in a
// temporary directory, started and stopped by the test run, seeded by skopeo
// with the fixture images scripts/fixtures/build.sh made with umoci.
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../..", import.meta.url));

export interface Registry {
  /** "127.0.0.1:PORT", as an image reference names it. */
  readonly host: string;
  readonly stop: () => Promise<void>;
}

/**
 * What the registry holds after seeding: repository name -> how skopeo puts
 * it there. `all` copies an index with every image it lists; `format` makes
 * skopeo convert to Docker's v2 schema 2 manifests.
 */
export const SEEDED: Readonly<Record<string, { tag: string; all?: boolean; format?: "v2s2" }>> = {
  busybox: { tag: "busybox" },
  "busybox-docker": { tag: "busybox", format: "v2s2" },
  layers: { tag: "layers" },
  multiarch: { tag: "multiarch", all: true },
  "hostile-traversal": { tag: "hostile-traversal" },
  "hostile-symlink": { tag: "hostile-symlink" },
  big: { tag: "big" },
};

/** Builds the fixture images, or finds them in the cache; returns their directory. */
export const buildFixtures = async (): Promise<string> => {
  const { stdout } = await run("bash", [join(repo, "scripts/fixtures/build.sh")], {
    maxBuffer: 1 << 20,
  });
  return stdout.trim().split("\n").pop() ?? "";
};

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const addr = server.address();
      server.close(() =>
        typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port")),
      );
    });
  });

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const configYaml = (
  storage: string,
  port: number,
  tls?: { cert: string; key: string },
): string => `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
${tls ? `  tls:\n    certificate: ${tls.cert}\n    key: ${tls.key}\n` : ""}`;

/** A self-signed certificate for 127.0.0.1, made with openssl; returns the file names. */
const selfSigned = (dir: string): { cert: string; key: string } => {
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return { cert, key };
};

/** GET https://host/v2/ without checking the certificate: the status, or throws when not listening. */
const httpsStatus = (host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const r = httpsGet(`https://${host}/v2/`, { rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    r.once("error", reject);
  });

/**
 * Waits until GET /v2/ answers as `ready` says (200 for an open registry, a
 * challenge for one with auth), or the server dies, or 20 s pass.
 */
export const waitReady = async (
  child: ChildProcess,
  host: string,
  logFile: string,
  ready: (r: Response) => boolean = (r) => r.status === 200,
): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`docker-registry exited early: ${readFileSync(logFile, "utf8").trim()}`);
    try {
      if (ready(await fetch(`http://${host}/v2/`))) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`docker-registry did not answer on ${host} within 20 s`);
};

const waitListening = async (child: ChildProcess, host: string, logFile: string): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`docker-registry exited early: ${readFileSync(logFile, "utf8").trim()}`);
    if ((await httpsStatus(host).catch(() => 0)) === 200) return;
    await sleep(50);
  }
  throw new Error(`docker-registry did not answer on https://${host} within 20 s`);
};

export const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  const timeout = sleep(5_000).then(() => child.kill("SIGKILL"));
  await Promise.race([exited, timeout]);
  await exited;
};

/** Starts docker-registry on 127.0.0.1 and a free port (with TLS: a self-signed certificate); stop() ends it and removes its storage. */
export const startRegistry = async (opts: { tls?: boolean } = {}): Promise<Registry & { cert?: string }> => {
  const dir = mkdtempSync("/tmp/nook-registry-");
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const tls = opts.tls ? selfSigned(dir) : undefined;
  writeFileSync(join(dir, "config.yml"), configYaml(join(dir, "storage"), port, tls));
  const logFile = join(dir, "registry.log");
  const log = openSync(logFile, "a");
  const child = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", log, log],
  });
  const stop = async (): Promise<void> => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", (e) => reject(new Error(`cannot start docker-registry: ${e.message}`)));
    });
    if (tls) await waitListening(child, host, logFile);
    else await waitReady(child, host, logFile);
  } catch (e) {
    await stop();
    throw e;
  }
  return { host, stop, ...(tls ? { cert: tls.cert } : {}) };
};

/** Pushes every fixture image into the registry with skopeo, as a user's CI would. */
export const seedRegistry = async (registry: Registry, fixtures: string): Promise<void> => {
  await Promise.all(
    Object.entries(SEEDED).map(([name, how]) =>
      run("skopeo", [
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        ...(how.all ? ["--all"] : []),
        ...(how.format ? ["--format", how.format] : []),
        `oci:${join(fixtures, "oci")}:${how.tag}`,
        `docker://${registry.host}/${name}:latest`,
      ]),
    ),
  );
};
