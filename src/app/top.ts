// nook top: the processes of a running container, seen from the host: every
// process in the pid namespace of its pid 1 (the same /proc/PID/ns/pid).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { canSignal } from "../runtime/state.js";
import type { Store } from "../store/store.js";
import { findContainer } from "./containers.js";

export interface TopRow {
  readonly uid: number;
  readonly pid: number;
  readonly ppid: number;
  readonly command: string;
}

const row = (pid: number): TopRow | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    return { uid, pid, ppid: Number(fields[1]), command: cmdline || `[${comm}]` };
  } catch {
    return undefined;
  }
};

export const containerTop = async (store: Store, ref: string): Promise<E.Either<NookError, TopRow[]>> => {
  const found = await findContainer(store, ref);
  if (E.isLeft(found)) return found;
  const v = found.right;
  const ok = canSignal({ status: v.status, name: v.record.name }, "top");
  if (E.isLeft(ok)) return E.left({ _tag: "ContainerFailed", message: ok.left });
  let ns: string;
  try {
    ns = readlinkSync(`/proc/${v.pid}/ns/pid`);
  } catch (e) {
    return E.left({
      _tag: "ContainerFailed",
      message: `container ${v.record.name}: ${(e as Error).message}`,
    });
  }
  const rows: TopRow[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/ns/pid`) !== ns) continue;
    } catch {
      continue;
    }
    const r = row(Number(name));
    if (r) rows.push(r);
  }
  return E.right(rows.sort((a, b) => a.pid - b.pid));
};
