import { describe, expect, it } from "vitest";
import { nssSubidService, parseGetsubids, rangesFor } from "../../../src/runtime/subid.js";

const file = `
# comment
alice:100000:65536
1001:300000:1000
bob:165536:65536
alice:400000:10
broken line
carol:x:10
dave:5:0
erin:4294967295:2
`;

describe("rangesFor", () => {
  it("finds every range of a user by name, in file order", () => {
    expect(rangesFor(file, { name: "alice", id: 1000 })).toEqual([
      { start: 100000, count: 65536 },
      { start: 400000, count: 10 },
    ]);
  });

  it("matches a numeric owner field against the uid", () => {
    expect(rangesFor(file, { name: "frank", id: 1001 })).toEqual([{ start: 300000, count: 1000 }]);
  });

  it("matches by uid when the user has no name", () => {
    expect(rangesFor(file, { name: undefined, id: 1001 })).toEqual([{ start: 300000, count: 1000 }]);
  });

  it("ignores malformed, empty and out-of-range entries", () => {
    expect(rangesFor(file, { name: "carol", id: 1 })).toEqual([]);
    expect(rangesFor(file, { name: "dave", id: 2 })).toEqual([]);
    expect(rangesFor(file, { name: "erin", id: 3 })).toEqual([]);
  });

  it("does not match a name that is a prefix of another", () => {
    expect(rangesFor("alicex:100:5\n", { name: "alice", id: 9 })).toEqual([]);
  });
});

describe("subordinate ids from NSS", () => {
  it("finds the subid service in nsswitch.conf, files meaning none", () => {
    expect(nssSubidService("passwd: files\nsubid: sss # FreeIPA\n")).toBe("sss");
    expect(nssSubidService("subid:   files\n")).toBeUndefined();
    expect(nssSubidService("passwd: files systemd\n")).toBeUndefined();
    expect(nssSubidService("# subid: sss\n")).toBeUndefined();
  });

  it("reads getsubids' lines as ranges", () => {
    expect(parseGetsubids("0: alice 100000 65536\n1: alice 300000 10\n")).toEqual([
      { start: 100000, count: 65536 },
      { start: 300000, count: 10 },
    ]);
    expect(parseGetsubids("Error fetching ranges\n")).toEqual([]);
  });
});
