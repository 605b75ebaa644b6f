import { describe, expect, it } from "vitest";
import { statFs } from "../../../src/sys/fs-type.js";

const fake =
  (types: Record<string, number>) =>
  (
    p: string,
  ): { type: number; bsize: number; blocks: number; bavail: number; files: number; ffree: number } => {
    const type = types[p];
    if (type === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
    return { type, bsize: 1024, blocks: 10, bavail: 4, files: 100, ffree: 7 };
  };

describe("statFs", () => {
  it("names the network and cluster file systems by their magic numbers", () => {
    const cases: [number, string, boolean][] = [
      [0x6969, "nfs", true],
      [0x0bd00bd0, "lustre", true],
      [0x47504653, "gpfs", true],
      [0x19830326, "beegfs", true],
      [0xff534d42, "cifs", true],
      [0xfe534d42, "smb2", true],
      [0xef53, "ext4", false],
      [0x58465342, "xfs", false],
      [0x01021994, "tmpfs", false],
      [0x12345678, "0x12345678", false],
    ];
    for (const [magic, type, network] of cases)
      expect(statFs("/m", fake({ "/m": magic }))).toMatchObject({ type, network });
  });

  it("asks the nearest existing parent for a path not made yet, and counts space and inodes", () => {
    expect(statFs("/home/u/.local/share/nook", fake({ "/home/u": 0x6969 }))).toEqual({
      path: "/home/u",
      type: "nfs",
      network: true,
      freeBytes: 4096,
      totalBytes: 10240,
      freeInodes: 7,
      totalInodes: 100,
    });
    expect(statFs("/x", fake({}))).toBeUndefined();
  });
});
