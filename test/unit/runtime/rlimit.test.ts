import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { containerRlimits, currentLimits, parseUlimit } from "../../../src/runtime/rlimit.js";

const PROC = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             4096                 96365                processes
Max open files            1024                 524288               files
Max core file size        0                    unlimited            bytes
`;

describe("parseUlimit", () => {
  it("reads Docker's NAME=SOFT[:HARD], with -1 and unlimited", () => {
    expect(parseUlimit("nofile=1024:2048")).toEqual(
      E.right({ resource: 7, name: "nofile", soft: 1024, hard: 2048 }),
    );
    expect(parseUlimit("nproc=512")).toEqual(E.right({ resource: 6, name: "nproc", soft: 512, hard: 512 }));
    expect(parseUlimit("core=-1")).toEqual(
      E.right({ resource: 4, name: "core", soft: "unlimited", hard: "unlimited" }),
    );
    expect(parseUlimit("stack=8192:unlimited")).toEqual(
      E.right({ resource: 3, name: "stack", soft: 8192, hard: "unlimited" }),
    );
  });

  it("refuses unknown names, bad numbers and a soft limit above the hard one, in one line", () => {
    expect(parseUlimit("files=10")).toMatchObject({
      left: expect.stringMatching(/^--ulimit files=10: unknown limit files \(known: cpu, /),
    });
    expect(parseUlimit("nofile")).toEqual(E.left("--ulimit nofile: expected NAME=SOFT[:HARD]"));
    expect(parseUlimit("nofile=1k")).toEqual(
      E.left("--ulimit nofile=1k: limits are numbers, -1 or unlimited, as SOFT or SOFT:HARD"),
    );
    expect(parseUlimit("nofile=1:2:3")).toMatchObject({ _tag: "Left" });
    expect(parseUlimit("nofile=20:10")).toEqual(
      E.left("--ulimit nofile=20:10: the soft limit is above the hard limit"),
    );
    expect(parseUlimit("nofile=unlimited:10")).toMatchObject({ _tag: "Left" });
  });
});

describe("containerRlimits", () => {
  const current = currentLimits(PROC);

  it("reads /proc/self/limits", () => {
    expect(current.get("nofile")).toEqual([1024, 524288]);
    expect(current.get("cpu")).toEqual(["unlimited", "unlimited"]);
    expect(current.get("core")).toEqual([0, "unlimited"]);
  });

  it("raises open files and processes to the hard limit by default, as rootless Podman", () => {
    expect(containerRlimits([], current)).toEqual(
      E.right([
        { resource: 7, name: "nofile", soft: 524288, hard: 524288 },
        { resource: 6, name: "nproc", soft: 96365, hard: 96365 },
      ]),
    );
  });

  it("lets --ulimit replace a default, and refuses a hard limit above the user's", () => {
    const asked = [parseUlimit("nofile=100:200"), parseUlimit("core=unlimited")].map((r) =>
      E.isRight(r) ? r.right : undefined!,
    );
    expect(containerRlimits(asked, current)).toEqual(
      E.right([
        { resource: 7, name: "nofile", soft: 100, hard: 200 },
        { resource: 6, name: "nproc", soft: 96365, hard: 96365 },
        { resource: 4, name: "core", soft: "unlimited", hard: "unlimited" },
      ]),
    );
    const tooMuch = parseUlimit("nofile=1000000");
    expect(containerRlimits(E.isRight(tooMuch) ? [tooMuch.right] : [], current)).toMatchObject({
      left: expect.stringMatching(/^--ulimit nofile: a hard limit of 1000000 is above yours \(524288\)/),
    });
  });
});
