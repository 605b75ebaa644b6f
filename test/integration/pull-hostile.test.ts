// Hostile images from the registry: layers that try to write outside their
// directory, by .. and through a symlink. The pull must fail in one line,
// keep nothing, and write nothing where the escape would have landed.
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, inject, it } from "vitest";
import { describeAs } from "../support/nook.js";
import { dumpTree, freshStore, type TestStore } from "../support/store.js";

const TARGETS = ["/tmp/nook-escape-traversal", "/tmp/nook-escape-symlink"];

let stores: TestStore[] = [];
beforeEach(() => {
  for (const t of TARGETS) rmSync(t, { recursive: true, force: true });
});
afterEach(async () => {
  await Promise.all(stores.map((s) => s.remove()));
  stores = [];
});

for (const kind of ["sub", "nosub"] as const) {
  describeAs(kind, `hostile layers (${kind === "sub" ? "with" : "without"} subordinate ranges)`, (user) => {
    for (const [image, what] of [
      ["hostile-traversal", /\.\./],
      ["hostile-symlink", /symlink/],
    ] as const) {
      it(`refuses ${image} and writes nothing outside the store`, async () => {
        const s = await freshStore(user());
        stores.push(s);
        const r = await s.nook(["pull", `${inject("registry")}/${image}`]);
        expect(r.code).toBe(125);
        const [line, ...rest] = r.stderr.split("\n").filter((l) => l);
        expect(line).toMatch(/^nook: /);
        expect(line).toMatch(what);
        expect(rest.length).toBeLessThanOrEqual(1);
        for (const t of TARGETS) expect(existsSync(t), t).toBe(false);
        expect((await dumpTree(s, join(s.dataHome, "nook", "tmp"))).map((e) => e.path)).toEqual([]);
        expect((await s.nook(["images", "-q"])).stdout).toBe("");
      });
    }
  });
}
