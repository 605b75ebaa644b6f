import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Digest } from "../../../src/image/digest.js";
import { Store } from "../../../src/store/store.js";

const d = (c: string): Digest => `sha256:${c.repeat(64)}` as Digest;
/** A pid that is not running: a child that has exited and been reaped. */
const deadPid = (): number => spawnSync("true").pid!;

let root = "";
let store: Store;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "nook-store-unit-"));
  store = new Store(root);
  store.init();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("Store", () => {
  it("stores a blob only when its bytes have its digest", async () => {
    const bytes = Buffer.from("hello");
    const good = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" as Digest;
    expect(await store.putBlob(good, bytes)).toEqual(E.right(undefined));
    expect((await store.getBlob(good))?.toString()).toBe("hello");
    const bad = await store.putBlob(d("a"), bytes);
    expect(E.isLeft(bad) && bad.left._tag).toBe("StoreCorrupt");
    expect(await store.hasBlob(d("a"))).toBe(false);
  });

  it("commits a layer once: a second process's copy is reported, not an error", async () => {
    const record = {
      diffId: d("b"),
      digest: d("c"),
      size: 1,
      whiteouts: "overlay" as const,
      owners: "mapped" as const,
    };
    const first = await store.tempDir("layer");
    mkdirSync(join(first, "diff"));
    const second = await store.tempDir("layer");
    mkdirSync(join(second, "diff"));
    writeFileSync(join(second, "diff", "f"), "x");
    expect(await store.commitLayer(first, record)).toEqual(E.right(true));
    expect(await store.commitLayer(second, record)).toEqual(E.right(false));
    expect(await store.hasLayer(d("b"))).toBe(true);
    expect(await store.readLayer(d("b"))).toEqual(E.right(record));
  });

  it("reports a layer record that does not decode, naming the file", async () => {
    mkdirSync(store.layerDir(d("e")));
    writeFileSync(join(store.layerDir(d("e")), "layer.json"), JSON.stringify({ diffId: "nope" }));
    const r = await store.readLayer(d("e"));
    expect(E.isLeft(r) && r.left.message).toMatch(/layer\.json\).*diffId/);
  });

  it("clears temp work of dead processes only", async () => {
    const mine = await store.tempDir("layer");
    const dead = join(root, "tmp", `layer-${deadPid()}-abc`);
    mkdirSync(dead);
    store.clearStaleTemp();
    expect(existsSync(mine)).toBe(true);
    expect(existsSync(dead)).toBe(false);
  });

  it("holds layers for a live process until released, and ignores a dead one's hold", async () => {
    const release = await store.holdLayers([d("1"), d("2")]);
    expect([...store.heldLayers()].sort()).toEqual([d("1"), d("2")]);
    await release();
    expect(store.heldLayers().size).toBe(0);
    writeFileSync(join(root, "tmp", `hold-${deadPid()}-x`), JSON.stringify([d("3")]));
    expect(store.heldLayers().size).toBe(0);
  });

  it("keeps tags one file each, by full name", async () => {
    await store.setTag("docker.io/library/busybox:latest", d("f"));
    await store.setTag("127.0.0.1:5000/x:1", d("f"));
    expect((await store.listTags()).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: "127.0.0.1:5000/x:1", id: d("f") },
      { name: "docker.io/library/busybox:latest", id: d("f") },
    ]);
    expect(await store.removeTag("127.0.0.1:5000/x:1")).toBe(true);
    expect(readdirSync(join(root, "tags"))).toHaveLength(1);
  });
});
