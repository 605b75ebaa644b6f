// nook info, as each kind of test user: its facts agree with the host and
// with what nook run then does.
import { expect, inject, it } from "vitest";
import { describeAs } from "../support/nook.js";
import { freshStore } from "../support/store.js";

interface Info {
  idMap: { kind: string; uids: string };
  storage: { root: string; driver: string; overlayInUserNamespace: boolean; filesystem: string };
  cgroups: { version: string };
}

for (const kind of ["sub", "nosub"] as const) {
  describeAs(kind, `nook info (${kind})`, (user) => {
    it("reports the id map, the store, and a storage driver that runs a container", async () => {
      const s = await freshStore(user());
      try {
        const r = await s.nook(["info", "--format", "json"]);
        expect(r.stderr).toBe("");
        const info = JSON.parse(r.stdout) as Info;
        expect(info.idMap.kind).toBe(kind === "sub" ? "subid" : "single");
        expect(info.idMap.uids.split(" ")[0]).toBe(`0:${user().uid}:1`);
        expect(info.storage.root).toBe(`${s.dataHome}/nook`);
        expect(["overlay", "fuse-overlayfs", "copy"]).toContain(info.storage.driver);
        const run = await s.nook([
          "run",
          "--rm",
          "-u",
          "0",
          "--storage-driver",
          info.storage.driver,
          `${inject("registry")}/busybox`,
          "true",
        ]);
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const text = await s.nook(["info"]);
        expect(text.stdout).toMatch(new RegExp(`^  driver: ${info.storage.driver}$`, "m"));
      } finally {
        await s.remove();
      }
    });
  });
}
