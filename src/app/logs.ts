// nook logs: a detached container's log, written by its monitor in Podman's
// k8s-file format ("TIME STREAM F|P TEXT" per line; P: a piece of a line the
// next entry of that stream continues), read back as the lines the container
// wrote, each to the stream it wrote it to.
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { Containers } from "../store/containers.js";
import type { Store } from "../store/store.js";
import { findContainer, observe } from "./containers.js";

export interface LogLine {
  readonly time: string;
  readonly stream: "stdout" | "stderr";
  readonly text: string;
}

/** Whole lines from k8s-file text; `pending` carries pieces (P) across calls. */
export const parseLog = (text: string, pending: Map<string, string> = new Map()): LogLine[] => {
  const out: LogLine[] = [];
  for (const entry of text.split("\n")) {
    const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(entry);
    if (!m) continue;
    const [, time = "", stream = "stdout", tag, body = ""] = m;
    const text = (pending.get(stream) ?? "") + body;
    if (tag === "P") pending.set(stream, text);
    else {
      pending.delete(stream);
      out.push({ time, stream: stream as LogLine["stream"], text });
    }
  }
  return out;
};

/** --since: an RFC 3339 time, a Unix time, or a duration back from now (10m, 1h30m, 45s). */
export const parseSince = (s: string, now: Date): Date | undefined => {
  if (/^\d+(\.\d+)?$/.test(s)) return new Date(Number(s) * 1000);
  const units: Record<string, number> = { h: 3600e3, m: 60e3, s: 1e3, ms: 1 };
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length > 0 && parts.map((p) => p[0]).join("") === s)
    return new Date(now.getTime() - parts.reduce((t, p) => t + Number(p[1]) * (units[p[2] ?? "s"] ?? 0), 0));
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
};

export interface LogOptions {
  readonly follow: boolean;
  readonly tail?: number;
  readonly timestamps: boolean;
  readonly since?: Date;
}

const readFrom = (file: string, pos: number): { text: string; end: number } => {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return { text: "", end: pos };
  }
  try {
    const size = statSync(file).size;
    const start = size < pos ? 0 : pos; // rotated: a new file
    const buf = Buffer.alloc(size - start);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    // Only whole entries: a half-written last one waits for the next read.
    const text = buf.subarray(0, got).toString("utf8");
    const last = text.lastIndexOf("\n") + 1;
    return { text: text.slice(0, last), end: start + Buffer.byteLength(text.slice(0, last)) };
  } finally {
    closeSync(fd);
  }
};

export const showLogs = async (
  store: Store,
  ref: string,
  o: LogOptions,
  write: (line: LogLine, text: string) => void,
): Promise<E.Either<NookError, void>> => {
  const found = await findContainer(store, ref);
  if (E.isLeft(found)) return found;
  const containers = new Containers(store);
  const file = containers.logFile(found.right.record.id);
  const emit = (lines: LogLine[]): void => {
    for (const l of lines) {
      if (o.since && Date.parse(l.time) < o.since.getTime()) continue;
      write(l, `${o.timestamps ? `${l.time} ` : ""}${l.text}\n`);
    }
  };
  const pending = new Map<string, string>();
  let old = "";
  try {
    old = readFileSync(`${file}.1`, "utf8");
  } catch {
    // not rotated yet
  }
  const first = readFrom(file, 0);
  const lines = parseLog(old + first.text, pending);
  emit(o.tail !== undefined ? lines.slice(Math.max(0, lines.length - o.tail)) : lines);
  if (!o.follow) return E.right(undefined);
  let pos = first.end;
  for (;;) {
    const running = (await observe(containers, found.right.record)).status === "running";
    const next = readFrom(file, pos);
    pos = next.end;
    emit(parseLog(next.text, pending));
    if (!running && next.text === "") return E.right(undefined);
    await new Promise((r) => setTimeout(r, 100));
  }
};
