import { describe, expect, it } from "vitest";
import {
  fuseMappingText,
  keepIdPlan,
  mapsInside,
  planIdMap,
  translateIds,
  type IdMapPlan,
} from "../../../src/runtime/idmap.js";

const subid = (uid: number, ranges: { start: number; count: number }[]): IdMapPlan => {
  const r = planIdMap({ uid, gid: uid, name: "u" }, ranges, ranges);
  if (!("plan" in r)) throw new Error("no plan");
  return r.plan;
};

describe("keepIdPlan", () => {
  it("puts the user's id at its own number and the subordinate ids around it", () => {
    const plan = keepIdPlan(subid(1000, [{ start: 100000, count: 65536 }]), { uid: 1000, gid: 1000 });
    expect(plan.uids).toEqual([
      { inside: 0, outside: 100000, count: 1000 },
      { inside: 1000, outside: 1000, count: 1 },
      { inside: 1001, outside: 101000, count: 64536 },
    ]);
    // Same number of ids as the plain map: nothing lost, nothing doubled.
    expect(plan.uids.reduce((n, e) => n + e.count, 0)).toBe(65537);
  });

  it("splits several ranges at the user's id", () => {
    const plan = keepIdPlan(
      subid(1500, [
        { start: 200000, count: 1000 },
        { start: 300000, count: 1000 },
      ]),
      { uid: 1500, gid: 1500 },
    );
    expect(plan.uids).toEqual([
      { inside: 0, outside: 200000, count: 1000 },
      { inside: 1000, outside: 300000, count: 500 },
      { inside: 1500, outside: 1500, count: 1 },
      { inside: 1501, outside: 300500, count: 500 },
    ]);
  });

  it("leaves a gap when the range is smaller than the user's id", () => {
    const plan = keepIdPlan(subid(5000, [{ start: 100000, count: 10 }]), { uid: 5000, gid: 5000 });
    expect(plan.uids).toEqual([
      { inside: 0, outside: 100000, count: 10 },
      { inside: 5000, outside: 5000, count: 1 },
    ]);
  });

  it("maps the one id to itself without subordinate ids, and leaves root's map alone", () => {
    const single = planIdMap({ uid: 1500, gid: 100, name: "hpc" }, [], []);
    if (!("plan" in single)) throw new Error("no plan");
    expect(keepIdPlan(single.plan, { uid: 1500, gid: 100 })).toEqual({
      kind: "single",
      uids: [{ inside: 1500, outside: 1500, count: 1 }],
      gids: [{ inside: 100, outside: 100, count: 1 }],
    });
    const root = planIdMap({ uid: 0, gid: 0, name: "root" }, [], []);
    if (!("plan" in root)) throw new Error("no plan");
    expect(keepIdPlan(root.plan, { uid: 0, gid: 0 })).toBe(root.plan);
  });
});

describe("translateIds", () => {
  it("shows the image's owners through a keep-id namespace", () => {
    const plain = subid(1000, [{ start: 100000, count: 65536 }]);
    const keep = keepIdPlan(plain, { uid: 1000, gid: 1000 });
    const t = translateIds(plain.uids, keep.uids);
    // Image root (the user on disk) is seen as 1000 in keep-id and shown as 0;
    // image 1..1000 are seen one lower; the rest keep their number.
    expect(t).toEqual([
      { inside: 0, outside: 1000, count: 1 },
      { inside: 1, outside: 0, count: 1000 },
      { inside: 1001, outside: 1001, count: 64536 },
    ]);
    expect(fuseMappingText(t)).toBe("1000:0:1:0:1:1000:1001:1001:64536");
  });

  it("is the identity for the same map", () => {
    const plain = subid(1000, [{ start: 100000, count: 65536 }]);
    expect(translateIds(plain.uids, plain.uids)).toEqual([
      { inside: 0, outside: 0, count: 1 },
      { inside: 1, outside: 1, count: 65536 },
    ]);
  });
});

describe("mapsInside", () => {
  it("says which ids exist in the namespace", () => {
    const plan = subid(1000, [{ start: 100000, count: 65536 }]);
    expect(mapsInside(plan.uids, 0)).toBe(true);
    expect(mapsInside(plan.uids, 65536)).toBe(true);
    expect(mapsInside(plan.uids, 65537)).toBe(false);
  });
});
