// nook stats: docker stats' columns for running containers, from their
// cgroups (cgroups/stats.ts) and their network namespace's /proc/PID/net/dev.
import { readFileSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { cpuPercent, sampleCgroup, type CgroupSample } from "../cgroups/stats.js";
import type { NookError } from "../lib/errors.js";
import type { Store } from "../store/store.js";
import { findContainer, listContainers, type ContainerView } from "./containers.js";

export interface StatsRow {
  readonly id: string;
  readonly name: string;
  /** undefined: the container has no cgroup (manager none). */
  readonly cpuPercent?: number;
  readonly memory?: number;
  readonly memoryLimit?: number;
  readonly pids?: number;
  readonly blockRead?: number;
  readonly blockWrite?: number;
  readonly netRx: number;
  readonly netTx: number;
}

/** Bytes received and sent on every interface but lo of PID's network namespace. */
const netIo = (pid: number | undefined): [number, number] => {
  if (pid === undefined) return [0, 0];
  try {
    return readFileSync(`/proc/${pid}/net/dev`, "utf8")
      .split("\n")
      .slice(2)
      .map((l) => l.trim().split(/[:\s]+/))
      .filter((f) => f.length > 9 && f[0] !== "lo")
      .reduce<[number, number]>(([rx, tx], f) => [rx + Number(f[1]), tx + Number(f[9])], [0, 0]);
  } catch {
    return [0, 0];
  }
};

/** The containers named, or every running one. */
export const statsTargets = async (
  store: Store,
  refs: readonly string[],
): Promise<E.Either<NookError, ContainerView[]>> => {
  if (refs.length === 0) return E.right((await listContainers(store)).filter((v) => v.status === "running"));
  const out: ContainerView[] = [];
  for (const ref of refs) {
    const v = await findContainer(store, ref);
    if (E.isLeft(v)) return v;
    out.push(v.right);
  }
  return E.right(out);
};

/** One row per container: two samples `intervalMs` apart, for the CPU rate. */
export const sampleStats = async (
  views: readonly ContainerView[],
  intervalMs: number,
): Promise<StatsRow[]> => {
  const first = new Map<string, CgroupSample | undefined>(
    views.map((v) => [
      v.record.id,
      v.cgroupPath && v.status === "running" ? sampleCgroup(v.cgroupPath) : undefined,
    ]),
  );
  await new Promise((r) => setTimeout(r, intervalMs));
  return views.map((v) => {
    const a = first.get(v.record.id);
    const b = a && v.cgroupPath ? sampleCgroup(v.cgroupPath) : undefined;
    const [netRx, netTx] = v.status === "running" ? netIo(v.pid) : [0, 0];
    const base = { id: v.record.id, name: v.record.name, netRx, netTx };
    if (!a || !b) return base;
    return {
      ...base,
      cpuPercent: cpuPercent(a, b),
      memory: b.memory,
      memoryLimit: b.memoryLimit,
      pids: b.pids,
      blockRead: b.blockRead,
      blockWrite: b.blockWrite,
    };
  });
};

const scaled = (n: number, base: number, units: readonly string[]): string => {
  let i = 0;
  while (n >= base && i < units.length - 1) {
    n /= base;
    i++;
  }
  return `${Number(n.toPrecision(4))}${units[i]}`;
};

/** go-units BytesSize (binary), as docker stats prints memory. */
export const bytesSize = (n: number): string => scaled(n, 1024, ["B", "KiB", "MiB", "GiB", "TiB"]);
/** go-units HumanSize (decimal), as docker stats prints I/O. */
export const humanSize = (n: number): string => scaled(n, 1000, ["B", "kB", "MB", "GB", "TB"]);

/** docker stats --format json's keys, the table's cells. */
export const statsCells = (r: StatsRow): Record<string, string> => {
  const has = r.memory !== undefined;
  return {
    ID: r.id.slice(0, 12),
    Container: r.id.slice(0, 12),
    Name: r.name,
    CPUPerc: has ? `${(r.cpuPercent ?? 0).toFixed(2)}%` : "--",
    MemUsage: has ? `${bytesSize(r.memory ?? 0)} / ${bytesSize(r.memoryLimit ?? 0)}` : "-- / --",
    MemPerc: has && r.memoryLimit ? `${(((r.memory ?? 0) / r.memoryLimit) * 100).toFixed(2)}%` : "--",
    NetIO: `${humanSize(r.netRx)} / ${humanSize(r.netTx)}`,
    BlockIO: has ? `${humanSize(r.blockRead ?? 0)} / ${humanSize(r.blockWrite ?? 0)}` : "-- / --",
    PIDs: has ? String(r.pids ?? 0) : "--",
  };
};
