// What a container's cgroup says about its use: memory against its limit,
// CPU time, tasks, block I/O (docker stats' columns), read from cgroup v2 files.
import { readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { ROOT } from "./manager.js";

export interface CgroupSample {
  /** memory.current minus inactive file pages, as Docker shows it. */
  readonly memory: number;
  /** memory.max, or the machine's memory when unlimited. */
  readonly memoryLimit: number;
  /** cpu.stat usage_usec. */
  readonly cpuUsec: number;
  readonly pids: number;
  readonly blockRead: number;
  readonly blockWrite: number;
  /** When the sample was taken (ms, monotonic enough for rates). */
  readonly at: number;
}

const read = (dir: string, file: string): string => {
  try {
    return readFileSync(join(dir, file), "utf8");
  } catch {
    return "";
  }
};

/** "key value" lines (memory.stat, cpu.stat). */
const keyed = (text: string): Map<string, number> =>
  new Map(
    text
      .split("\n")
      .map((l) => l.split(" "))
      .filter((p) => p.length === 2)
      .map(([k, v]) => [k ?? "", Number(v)]),
  );

export const sampleCgroup = (path: string): CgroupSample | undefined => {
  const dir = join(ROOT, path);
  const current = read(dir, "memory.current");
  if (current === "") return undefined;
  const inactive = keyed(read(dir, "memory.stat")).get("inactive_file") ?? 0;
  const max = read(dir, "memory.max").trim();
  let blockRead = 0;
  let blockWrite = 0;
  for (const line of read(dir, "io.stat").split("\n")) {
    blockRead += Number(/rbytes=(\d+)/.exec(line)?.[1] ?? 0);
    blockWrite += Number(/wbytes=(\d+)/.exec(line)?.[1] ?? 0);
  }
  return {
    memory: Math.max(0, Number(current) - inactive),
    memoryLimit: max === "max" || max === "" ? totalmem() : Number(max),
    cpuUsec: keyed(read(dir, "cpu.stat")).get("usage_usec") ?? 0,
    pids: Number(read(dir, "pids.current").trim() || 0),
    blockRead,
    blockWrite,
    at: Date.now(),
  };
};

/** CPU use between two samples, in percent of one CPU (docker stats: 100% is one CPU busy). */
export const cpuPercent = (a: CgroupSample, b: CgroupSample): number => {
  const wall = (b.at - a.at) * 1000;
  return wall > 0 ? ((b.cpuUsec - a.cpuUsec) / wall) * 100 : 0;
};
