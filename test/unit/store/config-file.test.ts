import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/store/config-file.js";

describe("config.toml", () => {
  it("reads the four settings", () => {
    const text =
      'root = "/scratch/me/nook"\nrunroot = "/tmp/me"\nnetwork = "slirp4netns"\ncgroup_manager = "cgroupfs"\n';
    expect(parseConfig(text, "c.toml")).toEqual(
      E.right({
        root: "/scratch/me/nook",
        runroot: "/tmp/me",
        network: "slirp4netns",
        cgroup_manager: "cgroupfs",
      }),
    );
    expect(parseConfig("", "c.toml")).toEqual(E.right({}));
  });

  it("refuses an unknown key rather than ignoring a misspelt one", () => {
    const r = parseConfig('storage = "/x"\n', "c.toml");
    expect(E.isLeft(r) && [r.left.message, r.left.hint]).toEqual([
      "c.toml: unknown key storage",
      "the keys are root, runroot, network, cgroup_manager",
    ]);
  });

  it("names the bad value and the file", () => {
    const rel = parseConfig('root = "relative"\n', "c.toml");
    expect(E.isLeft(rel) && rel.left.message).toBe('c.toml.root: expected an absolute path, got "relative"');
    const mgr = parseConfig('cgroup_manager = "docker"\n', "c.toml");
    expect(E.isLeft(mgr) && mgr.left.message).toBe(
      'c.toml.cgroup_manager: expected systemd, cgroupfs or none, got "docker"',
    );
    const syntax = parseConfig("root = ", "c.toml");
    expect(E.isLeft(syntax) && syntax.left.message).toMatch(/^c\.toml: not TOML/);
  });
});
