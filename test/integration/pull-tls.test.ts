// A registry that speaks HTTPS with a certificate nobody signed, on a
// loopback address: nook tries TLS first for a registry it may not verify
// (loopback, or marked insecure) and falls back to plain HTTP only when the
// server does not speak TLS, as containers/image does.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, expect, inject, it } from "vitest";
import { describeAs } from "../support/nook.js";
import { startRegistry, type Registry } from "../support/registry.js";
import { freshStore, type TestStore } from "../support/store.js";

const run = promisify(execFile);

describeAs("sub", "nook pull over HTTPS", (user) => {
  let reg: Registry;
  const stores: TestStore[] = [];
  beforeAll(async () => {
    reg = await startRegistry({ tls: true });
    await run("skopeo", [
      "copy",
      "--quiet",
      "--dest-tls-verify=false",
      `oci:${inject("fixtures")}/oci:busybox`,
      `docker://${reg.host}/busybox:latest`,
    ]);
  });
  afterAll(async () => reg.stop());
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.remove()));
  });

  it("pulls from a loopback registry with a self-signed certificate", async () => {
    const s = await freshStore(user());
    stores.push(s);
    const r = await s.nook(["pull", "-q", `${reg.host}/busybox`]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`${reg.host}/busybox:latest\n`);
  });

  it("still pulls over plain HTTP from a loopback registry without TLS", async () => {
    const s = await freshStore(user());
    stores.push(s);
    const r = await s.nook(["pull", "-q", `${inject("registry")}/busybox`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
