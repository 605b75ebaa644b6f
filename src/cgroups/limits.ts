// The resource flags with Docker's units and meanings, parsed once into
// Limits, and what each manager makes of them: cgroup v2 files (cgroupfs)
// or systemd unit properties (a transient scope). Pure: no I/O here.
import * as E from "fp-ts/lib/Either.js";
import type { UnitProperty } from "../sys/sdbus.js";

/** What the user asked for; absent fields are not limited. */
export interface Limits {
  /** memory.max, bytes (-m). */
  readonly memory?: number;
  /** memory.swap.max, bytes: Docker's --memory-swap is memory + swap; "unlimited" for -1. */
  readonly swap?: number | "unlimited";
  /** memory.low, bytes (--memory-reservation). */
  readonly memoryLow?: number;
  /** cpu.max quota per 100 ms period, in microseconds (--cpus). */
  readonly cpuQuota?: number;
  /** cpu.weight, 1-10000 (--cpu-shares, converted). */
  readonly cpuWeight?: number;
  /** cpuset.cpus, as given ("0-2,4"). */
  readonly cpuset?: string;
  /** pids.max. */
  readonly pids?: number;
  /** io.weight, 1-10000 (--blkio-weight, converted). */
  readonly ioWeight?: number;
}

/** The flags as given on the command line (undefined: not given). */
export interface LimitFlags {
  readonly memory?: string;
  readonly memorySwap?: string;
  readonly memoryReservation?: string;
  readonly cpus?: string;
  readonly cpuShares?: string;
  readonly cpusetCpus?: string;
  readonly pidsLimit?: string;
  readonly blkioWeight?: string;
}

/** Each limit's flag, for errors that name what the user typed. */
export const FLAG: Record<keyof Limits, string> = {
  memory: "--memory",
  swap: "--memory-swap",
  memoryLow: "--memory-reservation",
  cpuQuota: "--cpus",
  cpuWeight: "--cpu-shares",
  cpuset: "--cpuset-cpus",
  pids: "--pids-limit",
  ioWeight: "--blkio-weight",
};

/** The cgroup v2 controller each limit needs. */
export const CONTROLLER: Record<keyof Limits, string> = {
  memory: "memory",
  swap: "memory",
  memoryLow: "memory",
  cpuQuota: "cpu",
  cpuWeight: "cpu",
  cpuset: "cpuset",
  pids: "pids",
  ioWeight: "io",
};

export const CPU_PERIOD_US = 100_000;

const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's byte sizes: a number with an optional b, k, m, g or t (either case, an optional trailing b). */
export const parseBytes = (s: string): number | undefined => {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i.exec(s.trim());
  if (!m) return undefined;
  const n = Math.floor(Number(m[1]) * (UNITS[(m[2] ?? "").toLowerCase()] ?? 1));
  return Number.isSafeInteger(n) ? n : undefined;
};

/** cpu-shares (2-262144, Docker's default 1024) onto cpu.weight (1-10000), crun's linear mapping. */
export const sharesToWeight = (shares: number): number => 1 + Math.floor(((shares - 2) * 9999) / 262142);

/** blkio-weight (10-1000) onto io.weight (1-10000), crun's mapping. */
export const blkioToIoWeight = (w: number): number => 1 + Math.floor(((w - 10) * 9999) / 990);

const CPUSET = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** Every flag checked and converted; the first bad one is one line. */
export const parseLimits = (f: LimitFlags, cpuCount: number): E.Either<string, Limits> => {
  const out: { -readonly [K in keyof Limits]: Limits[K] } = {};
  if (f.memory !== undefined) {
    const b = parseBytes(f.memory);
    if (b === undefined) return E.left(`--memory takes a size (512m, 2g, 1048576), not ${f.memory}`);
    // Docker's floor: below it the container cannot even start.
    if (b < 6 * 1024 ** 2) return E.left(`--memory: the minimum is 6m, not ${f.memory}`);
    out.memory = b;
  }
  if (f.memorySwap !== undefined) {
    if (f.memorySwap === "-1") out.swap = "unlimited";
    else {
      const b = parseBytes(f.memorySwap);
      if (b === undefined) return E.left(`--memory-swap takes a size or -1, not ${f.memorySwap}`);
      if (out.memory === undefined) return E.left("--memory-swap needs --memory (it is memory plus swap)");
      if (b < out.memory)
        return E.left(`--memory-swap (${f.memorySwap}) must be at least --memory (${f.memory})`);
      out.swap = b - out.memory;
    }
  }
  if (f.memoryReservation !== undefined) {
    const b = parseBytes(f.memoryReservation);
    if (b === undefined) return E.left(`--memory-reservation takes a size, not ${f.memoryReservation}`);
    if (out.memory !== undefined && b > out.memory)
      return E.left("--memory-reservation must not be above --memory");
    out.memoryLow = b;
  }
  if (f.cpus !== undefined) {
    const n = /^\d+(\.\d+)?$/.test(f.cpus) ? Number(f.cpus) : NaN;
    if (!(n > 0)) return E.left(`--cpus takes a positive number (1.5), not ${f.cpus}`);
    if (n > cpuCount) return E.left(`--cpus ${f.cpus}: this machine has ${cpuCount} CPUs`);
    out.cpuQuota = Math.round(n * CPU_PERIOD_US);
    // The kernel's floor for cpu.max's quota.
    if (out.cpuQuota < 1000) return E.left(`--cpus: the minimum is 0.01, not ${f.cpus}`);
  }
  if (f.cpuShares !== undefined) {
    const n = /^\d+$/.test(f.cpuShares) ? Number(f.cpuShares) : NaN;
    if (!(n >= 2 && n <= 262144)) return E.left(`--cpu-shares takes 2 to 262144, not ${f.cpuShares}`);
    out.cpuWeight = sharesToWeight(n);
  }
  if (f.cpusetCpus !== undefined) {
    if (!CPUSET.test(f.cpusetCpus)) return E.left(`--cpuset-cpus takes CPUs like 0-2,4, not ${f.cpusetCpus}`);
    const beyond = f.cpusetCpus
      .split(/[,-]/)
      .map(Number)
      .find((c) => c >= cpuCount);
    if (beyond !== undefined)
      return E.left(`--cpuset-cpus: CPU ${beyond} does not exist (0-${cpuCount - 1})`);
    out.cpuset = f.cpusetCpus;
  }
  if (f.pidsLimit !== undefined) {
    const n = /^-?\d+$/.test(f.pidsLimit) ? Number(f.pidsLimit) : NaN;
    if (Number.isNaN(n) || n < -1)
      return E.left(`--pids-limit takes a number (-1 or 0: unlimited), not ${f.pidsLimit}`);
    if (n > 0) out.pids = n;
  }
  if (f.blkioWeight !== undefined) {
    const n = /^\d+$/.test(f.blkioWeight) ? Number(f.blkioWeight) : NaN;
    if (!(n === 0 || (n >= 10 && n <= 1000)))
      return E.left(`--blkio-weight takes 10 to 1000 (0: none), not ${f.blkioWeight}`);
    if (n > 0) out.ioWeight = blkioToIoWeight(n);
  }
  return E.right(out);
};

export const limitKeys = (l: Limits): (keyof Limits)[] =>
  (Object.keys(l) as (keyof Limits)[]).filter((k) => l[k] !== undefined);

/** The controllers the limits need, each once. */
export const controllersFor = (l: Limits): string[] => [...new Set(limitKeys(l).map((k) => CONTROLLER[k]))];

/** cgroup v2 file -> value, for a cgroup of our own (cgroupfs). */
export const cgroupFiles = (l: Limits): [string, string][] => {
  const out: [string, string][] = [];
  if (l.memory !== undefined) out.push(["memory.max", String(l.memory)]);
  if (l.swap !== undefined) out.push(["memory.swap.max", l.swap === "unlimited" ? "max" : String(l.swap)]);
  if (l.memoryLow !== undefined) out.push(["memory.low", String(l.memoryLow)]);
  if (l.cpuQuota !== undefined) out.push(["cpu.max", `${l.cpuQuota} ${CPU_PERIOD_US}`]);
  if (l.cpuWeight !== undefined) out.push(["cpu.weight", String(l.cpuWeight)]);
  if (l.cpuset !== undefined) out.push(["cpuset.cpus", l.cpuset]);
  if (l.pids !== undefined) out.push(["pids.max", String(l.pids)]);
  if (l.ioWeight !== undefined) out.push(["io.weight", `default ${l.ioWeight}`]);
  return out;
};

/** cpuset "0-2,4" as systemd's AllowedCPUs bit mask (byte i, bit j: CPU 8i+j). */
export const cpuMask = (set: string): Uint8Array => {
  const cpus = set.split(",").flatMap((part) => {
    const [a, b] = part.split("-").map(Number);
    const lo = a ?? 0;
    const hi = b ?? lo;
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  });
  const mask = new Uint8Array(Math.floor(Math.max(...cpus) / 8) + 1);
  for (const c of cpus) mask[c >> 3]! |= 1 << (c & 7);
  return mask;
};

/** The limits as properties of a transient scope (systemd.resource-control(5)). */
export const unitProperties = (l: Limits): UnitProperty[] => {
  const out: UnitProperty[] = [];
  if (l.memory !== undefined) out.push(["MemoryMax", "t", BigInt(l.memory)]);
  if (l.swap !== undefined)
    out.push(["MemorySwapMax", "t", l.swap === "unlimited" ? 0xffffffffffffffffn : BigInt(l.swap)]);
  if (l.memoryLow !== undefined) out.push(["MemoryLow", "t", BigInt(l.memoryLow)]);
  if (l.cpuQuota !== undefined) {
    // systemd's quota is per second of wall time.
    out.push(["CPUQuotaPerSecUSec", "t", BigInt(Math.round((l.cpuQuota * 1_000_000) / CPU_PERIOD_US))]);
    out.push(["CPUQuotaPeriodUSec", "t", BigInt(CPU_PERIOD_US)]);
  }
  if (l.cpuWeight !== undefined) out.push(["CPUWeight", "t", BigInt(l.cpuWeight)]);
  if (l.cpuset !== undefined) out.push(["AllowedCPUs", "ay", cpuMask(l.cpuset)]);
  if (l.pids !== undefined) out.push(["TasksMax", "t", BigInt(l.pids)]);
  if (l.ioWeight !== undefined) out.push(["IOWeight", "t", BigInt(l.ioWeight)]);
  return out;
};
