// -t: the container's stdin, stdout and stderr are the slave side of a new
// pseudo-terminal; nook holds the master and copies bytes between it and its
// own stdin/stdout, with the local terminal in raw mode (so ^C, ^D and the
// arrow keys reach the container as bytes) and the window size following
// SIGWINCH, as docker run -t does.
import { closeSync, writeSync } from "node:fs";
import { ReadStream } from "node:tty";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { errnoName } from "../lib/errors.js";
import { openpty, setWindowSize } from "../sys/libc.js";

export interface Terminal {
  /** The fd the container gets as stdin, stdout and stderr. */
  readonly slave: number;
  /** After the helper started: nook's copy of the slave goes, the copying starts. */
  readonly attach: (interactive: boolean) => void;
  /** Resolves once everything the container wrote has been copied out. */
  readonly drained: Promise<void>;
  /** Puts the local terminal back as it was. */
  readonly restore: () => void;
}

const size = (): { rows: number; cols: number } => ({
  rows: process.stdout.rows || 24,
  cols: process.stdout.columns || 80,
});

const writeAll = (fd: number, b: Buffer): void => {
  for (let off = 0; off < b.length;) off += writeSync(fd, b, off, b.length - off);
};

export const openTerminal = async (): Promise<E.Either<NookError, Terminal>> => {
  const { rows, cols } = size();
  const pty = await openpty(rows, cols);
  if (E.isLeft(pty))
    return E.left({ _tag: "TerminalFailed", message: `openpty: ${errnoName(pty.left.errno)}` });
  const { master, slave } = pty.right;
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  let done = (): void => {};
  const drained = new Promise<void>((r) => (done = r));
  const onResize = (): void => {
    const s = size();
    void setWindowSize(master, s.rows, s.cols);
  };
  const onInput = (chunk: Buffer): void => writeAll(master, chunk);
  return E.right({
    slave,
    attach: (interactive) => {
      closeSync(slave);
      // The master reads EIO once the last slave fd is closed: the container is gone.
      const out = new ReadStream(master);
      out.on("data", (d: Buffer) => process.stdout.write(d));
      out.on("error", () => done());
      out.on("close", () => done());
      process.on("SIGWINCH", onResize);
      if (interactive) {
        if (stdin.isTTY) stdin.setRawMode(true);
        stdin.on("data", onInput);
        stdin.resume();
      }
    },
    drained,
    restore: () => {
      process.off("SIGWINCH", onResize);
      stdin.off("data", onInput);
      stdin.pause();
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
    },
  });
};
