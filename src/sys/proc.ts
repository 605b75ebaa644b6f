// What /proc says about a process: alive or not (a zombie counts as gone),
// and when it started, so that a recycled pid is never taken for the process
// nook recorded (proc(5), /proc/PID/stat fields 3 and 22).
import { readFileSync } from "node:fs";

export interface ProcessStat {
  readonly state: string;
  /** Clock ticks after boot when it started. */
  readonly start: number;
}

export const processStat = (pid: number): ProcessStat | undefined => {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) S ppid ...": comm may hold spaces and ")", so count from the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "?", start: Number(fields[19]) };
};

const live = (s: ProcessStat | undefined): s is ProcessStat =>
  s !== undefined && s.state !== "Z" && s.state !== "X";

/**
 * Whether a process still runs. A zombie counts as dead: its work stopped,
 * and on hosts whose PID 1 reaps slowly (containers, CI sandboxes) it can
 * linger for a long time.
 */
export const isRunning = (pid: number): boolean => live(processStat(pid));

/** The process `pid` that started at `start` still runs (not a zombie). */
export const stillRunning = (pid: number, start: number): boolean => {
  const s = processStat(pid);
  return live(s) && s.start === start;
};

/** This boot's id: a record from another boot names processes that are all gone. */
export const bootId = (): string => {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown";
  }
};
