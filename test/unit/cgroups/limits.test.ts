import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  cgroupFiles,
  controllersFor,
  cpuMask,
  parseBytes,
  parseLimits,
  sharesToWeight,
  unitProperties,
} from "../../../src/cgroups/limits.js";

describe("resource flags, Docker's units", () => {
  it("reads byte sizes", () => {
    expect(parseBytes("512m")).toBe(512 * 1024 ** 2);
    expect(parseBytes("2G")).toBe(2 * 1024 ** 3);
    expect(parseBytes("1.5g")).toBe(1.5 * 1024 ** 3);
    expect(parseBytes("1048576")).toBe(1048576);
    expect(parseBytes("64mb")).toBe(64 * 1024 ** 2);
    expect(parseBytes("ten")).toBeUndefined();
    expect(parseBytes("-1")).toBeUndefined();
  });

  it("turns every flag into its cgroup v2 file", () => {
    const l = parseLimits(
      {
        memory: "64m",
        memorySwap: "96m",
        memoryReservation: "32m",
        cpus: "0.5",
        cpuShares: "1024",
        cpusetCpus: "0",
        pidsLimit: "32",
        blkioWeight: "500",
      },
      2,
    );
    expect(E.isRight(l)).toBe(true);
    if (E.isLeft(l)) return;
    expect(cgroupFiles(l.right)).toEqual([
      ["memory.max", String(64 * 1024 ** 2)],
      ["memory.swap.max", String(32 * 1024 ** 2)],
      ["memory.low", String(32 * 1024 ** 2)],
      ["cpu.max", "50000 100000"],
      ["cpu.weight", "39"],
      ["cpuset.cpus", "0"],
      ["pids.max", "32"],
      ["io.weight", "default 4950"],
    ]);
    expect(controllersFor(l.right).sort()).toEqual(["cpu", "cpuset", "io", "memory", "pids"]);
  });

  it("gives systemd the same limits as unit properties", () => {
    const l = parseLimits(
      { memory: "64m", memorySwap: "-1", cpus: "1.5", pidsLimit: "100", cpusetCpus: "0,9" },
      16,
    );
    if (E.isLeft(l)) throw new Error(l.left);
    expect(unitProperties(l.right)).toEqual([
      ["MemoryMax", "t", 64n * 1024n ** 2n],
      ["MemorySwapMax", "t", 0xffffffffffffffffn],
      ["CPUQuotaPerSecUSec", "t", 1_500_000n],
      ["CPUQuotaPeriodUSec", "t", 100_000n],
      ["AllowedCPUs", "ay", new Uint8Array([1, 2])],
      ["TasksMax", "t", 100n],
    ]);
    expect(cpuMask("0-2,4")).toEqual(new Uint8Array([0b10111]));
  });

  it("maps cpu-shares onto cpu.weight as crun does", () => {
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262144)).toBe(10000);
    expect(sharesToWeight(1024)).toBe(39);
  });

  it("refuses bad values in one line naming the flag", () => {
    const bad = (f: Parameters<typeof parseLimits>[0]): string => {
      const r = parseLimits(f, 2);
      return E.isLeft(r) ? r.left : "accepted";
    };
    expect(bad({ memory: "lots" })).toBe("--memory takes a size (512m, 2g, 1048576), not lots");
    expect(bad({ memory: "1m" })).toBe("--memory: the minimum is 6m, not 1m");
    expect(bad({ memorySwap: "1g" })).toBe("--memory-swap needs --memory (it is memory plus swap)");
    expect(bad({ memory: "1g", memorySwap: "512m" })).toBe(
      "--memory-swap (512m) must be at least --memory (1g)",
    );
    expect(bad({ cpus: "0" })).toBe("--cpus takes a positive number (1.5), not 0");
    expect(bad({ cpus: "3" })).toBe("--cpus 3: this machine has 2 CPUs");
    expect(bad({ cpuShares: "1" })).toBe("--cpu-shares takes 2 to 262144, not 1");
    expect(bad({ cpusetCpus: "0-" })).toBe("--cpuset-cpus takes CPUs like 0-2,4, not 0-");
    expect(bad({ cpusetCpus: "5" })).toBe("--cpuset-cpus: CPU 5 does not exist (0-1)");
    expect(bad({ pidsLimit: "x" })).toBe("--pids-limit takes a number (-1 or 0: unlimited), not x");
    expect(bad({ blkioWeight: "5" })).toBe("--blkio-weight takes 10 to 1000 (0: none), not 5");
  });

  it("takes -1 and 0 as no pids limit", () => {
    expect(parseLimits({ pidsLimit: "-1" }, 2)).toEqual(E.right({}));
    expect(parseLimits({ pidsLimit: "0" }, 2)).toEqual(E.right({}));
  });
});
