import { describe, expect, it } from "vitest";
import { mapFileText, newidmapArgs, planIdMap } from "../../../src/runtime/idmap.js";

const alice = { uid: 1000, gid: 1000, name: "alice" };

describe("planIdMap", () => {
  it("stacks the user's own id then every subordinate range", () => {
    const r = planIdMap(
      alice,
      [
        { start: 100000, count: 65536 },
        { start: 400000, count: 10 },
      ],
      [{ start: 200000, count: 5 }],
    );
    expect(r).toEqual({
      plan: {
        kind: "subid",
        uids: [
          { inside: 0, outside: 1000, count: 1 },
          { inside: 1, outside: 100000, count: 65536 },
          { inside: 65537, outside: 400000, count: 10 },
        ],
        gids: [
          { inside: 0, outside: 1000, count: 1 },
          { inside: 1, outside: 200000, count: 5 },
        ],
      },
    });
  });

  it("falls back to a single-id map without ranges", () => {
    expect(planIdMap({ uid: 1500, gid: 100, name: "hpc" }, [], [])).toEqual({
      plan: {
        kind: "single",
        uids: [{ inside: 0, outside: 1500, count: 1 }],
        gids: [{ inside: 0, outside: 100, count: 1 }],
      },
    });
  });

  it("refuses a user with subuid ranges but no subgid ranges, naming the file", () => {
    const r = planIdMap(alice, [{ start: 1, count: 1 }], []);
    expect(r).toMatchObject({
      error: { _tag: "SubgidMissing", message: expect.stringContaining("/etc/subgid") },
    });
  });

  it("refuses the opposite too", () => {
    expect(planIdMap(alice, [], [{ start: 1, count: 1 }])).toMatchObject({
      error: { _tag: "SubuidMissing" },
    });
  });

  it("maps the whole id space onto itself for root", () => {
    const r = planIdMap({ uid: 0, gid: 0, name: "root" }, [], []);
    expect(r).toMatchObject({ plan: { kind: "root", uids: [{ inside: 0, outside: 0, count: 4294967295 }] } });
  });
});

describe("map formats", () => {
  const entries = [
    { inside: 0, outside: 1000, count: 1 },
    { inside: 1, outside: 100000, count: 65536 },
  ];

  it("writes one line per entry for /proc/PID/uid_map", () => {
    expect(mapFileText(entries)).toBe("0 1000 1\n1 100000 65536\n");
  });

  it("gives newuidmap the pid then inside/outside/count triples", () => {
    expect(newidmapArgs(42, entries)).toEqual(["42", "0", "1000", "1", "1", "100000", "65536"]);
  });
});
