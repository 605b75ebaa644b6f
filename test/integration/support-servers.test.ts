// The servers nook's pull is tested against, checked with an independent
// client (skopeo, as root) before any nook test leans on them: the basic- and
// token-auth registries let the right credentials in and keep the rest out,
// and the fault proxy passes a pull through untouched until a fault is armed,
// then breaks it exactly as announced.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { startAuthRegistry, type AuthRegistry } from "../support/auth-registry.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let scratch = "";
beforeAll(() => {
  scratch = mkdtempSync("/tmp/nook-support-servers-");
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** skopeo with no stored credentials in reach: only what the arguments give. */
const skopeo = (args: readonly string[]): Promise<Result> =>
  new Promise((resolve) => {
    const env = { ...process.env, REGISTRY_AUTH_FILE: join(scratch, "no-auth.json") };
    execFile("skopeo", args, { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });

/** Credentials flags: "user:password", or none at all (anonymous). */
const credsFlag = (flag: string, creds?: string): string[] =>
  creds === undefined ? [`--${flag.replace("creds", "no-creds")}`] : [`--${flag}`, creds];

const inspectDigest = async (host: string, creds?: string): Promise<Result & { digest?: string }> => {
  const r = await skopeo([
    "inspect",
    "--tls-verify=false",
    ...credsFlag("creds", creds),
    `docker://${host}/busybox:latest`,
  ]);
  return r.code === 0 ? { ...r, digest: (JSON.parse(r.stdout) as { Digest: string }).Digest } : r;
};

let copies = 0;
const copyBusybox = (host: string, creds?: string): Promise<Result> =>
  skopeo([
    "copy",
    "--quiet",
    "--src-tls-verify=false",
    ...credsFlag("src-creds", creds),
    `docker://${host}/busybox:latest`,
    `dir:${join(scratch, `copy-${++copies}`)}`,
  ]);

/** The busybox manifest from the plain test registry: what every server here must serve. */
const busybox = async (): Promise<{ digest: string; blobs: string[] }> => {
  const r = await fetch(`http://${inject("registry")}/v2/busybox/manifests/latest`, {
    headers: { Accept: OCI_MANIFEST },
  });
  const m = (await r.json()) as { config: { digest: string }; layers: { digest: string }[] };
  return {
    digest: r.headers.get("docker-content-digest") ?? "",
    blobs: [m.config.digest, ...m.layers.map((l) => l.digest)],
  };
};

const expectRefused = (r: Result): void => {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/unauthorized|authentication required|401/i);
};

describe.each(["basic", "token"] as const)("the %s-auth registry", (kind) => {
  let registry: AuthRegistry;
  beforeAll(async () => {
    registry = await startAuthRegistry(kind, inject("fixtures"));
  });
  afterAll(() => registry?.stop());
  afterEach((ctx) => {
    if (ctx.task.result?.state === "fail")
      process.stderr.write(`${kind}-auth registry log:\n${registry.log()}\n`);
  });

  it("challenges an anonymous client with its scheme", async () => {
    const r = await fetch(`http://${registry.host}/v2/`);
    expect(r.status).toBe(401);
    const challenge = r.headers.get("www-authenticate") ?? "";
    if (kind === "basic") expect(challenge).toMatch(/^Basic realm="/);
    else expect(challenge).toBe(`Bearer realm="${registry.realm}",service="nook-test-registry"`);
  });

  it("lets skopeo inspect and copy busybox with the right credentials", async () => {
    const creds = `${registry.user}:${registry.password}`;
    const inspected = await inspectDigest(registry.host, creds);
    expect(inspected.stderr).toBe("");
    expect(inspected.digest).toBe((await busybox()).digest);
    expect(await copyBusybox(registry.host, creds)).toMatchObject({ code: 0 });
  });

  it("refuses skopeo with a wrong password, an unknown user and no credentials", async () => {
    expectRefused(await inspectDigest(registry.host, `${registry.user}:wrong`));
    expectRefused(await inspectDigest(registry.host, `nobody:${registry.password}`));
    expectRefused(await inspectDigest(registry.host));
    expectRefused(await copyBusybox(registry.host));
  });

  // Token only: what the token server hands out, and that the registry checks it.
  if (kind === "token")
    it("issues tokens with only the access due, and the registry checks their signature", async () => {
      const url = `${registry.realm}?service=nook-test-registry&scope=repository:busybox:pull`;
      const claims = (token: string): { access: unknown[]; aud: string } =>
        JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as {
          access: unknown[];
          aud: string;
        };
      const anonymous = (await (await fetch(url)).json()) as { token: string };
      expect(claims(anonymous.token)).toMatchObject({ access: [], aud: "nook-test-registry" });
      const wrong = await fetch(url, {
        headers: { Authorization: `Basic ${Buffer.from(`${registry.user}:wrong`).toString("base64")}` },
      });
      expect(wrong.status).toBe(401);
      // The test user may pull, not push: a push scope comes back cut down to pull.
      const basic = `Basic ${Buffer.from(`${registry.user}:${registry.password}`).toString("base64")}`;
      const granted = (await (await fetch(`${url},push`, { headers: { Authorization: basic } })).json()) as {
        token: string;
      };
      expect(claims(granted.token).access).toEqual([
        { type: "repository", name: "busybox", actions: ["pull"] },
      ]);
      // The registry checks the signature: the same claims re-encoded under the old signature are refused.
      const [h, c, s] = granted.token.split(".");
      const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims(granted.token), exp: 9999999999 })).toString("base64url")}.${s}`;
      const manifest = (token: string): Promise<Response> =>
        fetch(`http://${registry.host}/v2/busybox/manifests/latest`, {
          headers: { Authorization: `Bearer ${token}`, Accept: OCI_MANIFEST },
        });
      expect((await manifest(`${h}.${c}.${s}`)).status).toBe(200);
      expect((await manifest(forged)).status).toBe(401);
    });

  it("keeps its challenge and credentials working through the fault proxy", async () => {
    const proxy = await startFaultProxy(registry.host);
    try {
      const inspected = await inspectDigest(proxy.host, `${registry.user}:${registry.password}`);
      expect(inspected.digest).toBe((await busybox()).digest);
      expect(proxy.requests.find((r) => r.path === "/v2/")?.status).toBe(401);
    } finally {
      await proxy.stop();
    }
  });
});

interface Download {
  readonly status: number;
  readonly length: number;
  readonly received: number;
  readonly complete: boolean;
}

/** A GET that counts the bytes it gets, and says whether the body arrived whole. */
const download = (url: string, headers: Record<string, string> = {}): Promise<Download> =>
  new Promise((resolve, reject) => {
    get(url, { headers, agent: false }, (res) => {
      let received = 0;
      res.on("data", (d: Buffer) => (received += d.length));
      res.on("error", () => undefined); // "aborted": seen through res.complete
      res.on("close", () =>
        resolve({
          status: res.statusCode ?? 0,
          length: Number(res.headers["content-length"] ?? -1),
          received,
          complete: res.complete,
        }),
      );
    }).on("error", reject);
  });

describe("the fault proxy", () => {
  let proxy: FaultProxy;
  let blobs: string[] = [];
  beforeAll(async () => {
    proxy = await startFaultProxy(inject("registry"));
    blobs = (await busybox()).blobs;
  });
  afterAll(() => proxy?.stop());
  afterEach(() => {
    proxy.disarm();
    proxy.requests.length = 0;
  });
  const blobUrl = (digest: string): string => `http://${proxy.host}/v2/busybox/blobs/${digest}`;
  const layer = (): string => blobs[1] ?? "";

  it("passes a skopeo copy through and logs its requests", async () => {
    expect(await copyBusybox(proxy.host)).toMatchObject({ code: 0, stderr: "" });
    const gets = proxy.requests.filter((r) => r.method === "GET" && r.path.includes("/blobs/"));
    expect(gets.map((r) => r.path.split("/").pop()).sort()).toEqual([...blobs].sort());
    expect(gets.every((r) => r.status === 200 && r.fault === undefined)).toBe(true);
  });

  it("makes skopeo's copy fail on a corrupted blob, which skopeo catches by its digest", async () => {
    proxy.arm({ kind: "corrupt-blob", digest: layer() });
    const r = await copyBusybox(proxy.host);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/digest/i);
    expect(proxy.requests).toContainEqual(
      expect.objectContaining({ method: "GET", path: `/v2/busybox/blobs/${layer()}`, fault: "corrupt-blob" }),
    );
    // Armed once: the next copy is clean again.
    expect(await copyBusybox(proxy.host)).toMatchObject({ code: 0 });
  });

  it("keeps a corrupted blob's length", async () => {
    proxy.arm({ kind: "corrupt-blob" });
    const d = await download(blobUrl(layer()));
    expect(d).toMatchObject({ status: 200, complete: true, received: d.length });
  });

  it("cuts a blob at half its announced length", async () => {
    proxy.arm({ kind: "truncate-blob", digest: layer() });
    const d = await download(blobUrl(layer()));
    expect(d.status).toBe(200);
    expect(d.complete).toBe(false);
    expect(d.received).toBe(Math.floor(d.length / 2));
    expect(await download(blobUrl(layer()))).toMatchObject({ complete: true, received: d.length });
  });

  it("passes Range requests through and cuts a ranged answer too", async () => {
    const whole = await download(blobUrl(layer()));
    const from = 1000;
    proxy.arm({ kind: "truncate-blob" });
    const cut = await download(blobUrl(layer()), { Range: `bytes=${from}-` });
    expect(cut).toMatchObject({ status: 206, length: whole.length - from, complete: false });
    const rest = await download(blobUrl(layer()), { Range: `bytes=${from}-` });
    expect(rest).toMatchObject({ status: 206, complete: true, received: whole.length - from });
    expect(proxy.requests.filter((r) => r.range).map((r) => [r.range, r.status, r.fault])).toEqual([
      [`bytes=${from}-`, 206, "truncate-blob"],
      [`bytes=${from}-`, 206, undefined],
    ]);
  });

  it("dies in the middle of a blob and refuses connections until revived", async () => {
    proxy.arm({ kind: "die-mid-blob" });
    const d = await download(blobUrl(layer()));
    expect(d).toMatchObject({ status: 200, complete: false, received: Math.floor(d.length / 2) });
    await expect(fetch(`http://${proxy.host}/v2/`)).rejects.toMatchObject({
      cause: expect.objectContaining({ code: "ECONNREFUSED" }),
    });
    await proxy.revive();
    expect((await fetch(`http://${proxy.host}/v2/`)).status).toBe(200);
  });

  it("answers an armed status with no body as many times as asked", async () => {
    proxy.arm({ kind: "status", status: 503, times: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await download(blobUrl(layer())));
    expect(statuses.map((d) => [d.status, d.received])).toEqual([
      [503, 0],
      [503, 0],
      [200, statuses[2]?.length],
    ]);
  });
});
