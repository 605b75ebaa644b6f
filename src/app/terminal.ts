// -t: the container's stdin, stdout and stderr are the slave side of a
// pseudo-terminal made in the container's own devpts (so that ttyname() and
// /dev/console inside name something that exists there). The helper sends
// its master to nook over a socket; nook copies bytes between it and its own
// stdin/stdout, with the local terminal in raw mode (so ^C, ^D and the arrow
// keys reach the container as bytes) and the window size following SIGWINCH,
// as docker run -t does.
import { closeSync, writeSync } from "node:fs";
import { ReadStream } from "node:tty";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { errnoName } from "../lib/errors.js";
import { receiveFd, setWindowSize, socketPair } from "../sys/libc.js";

export interface Terminal {
  /** The helper's end of the socket the pty's master comes over. */
  readonly socket: number;
  /** The size the pty starts with: the local terminal's. */
  readonly rows: number;
  readonly cols: number;
  /** After the helper exec'd the command: takes the master and starts copying. */
  readonly attach: (interactive: boolean) => Promise<E.Either<NookError, void>>;
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

const closeQuietly = (fd: number): void => {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
};

export const openTerminal = async (): Promise<E.Either<NookError, Terminal>> => {
  const pair = await socketPair();
  if (E.isLeft(pair))
    return E.left({ _tag: "TerminalFailed", message: `socketpair: ${errnoName(pair.left.errno)}` });
  const [ours, theirs] = pair.right;
  const stdin = process.stdin;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  let master = -1;
  let done = (): void => {};
  const drained = new Promise<void>((r) => (done = r));
  const onResize = (): void => {
    const s = size();
    if (master >= 0) void setWindowSize(master, s.rows, s.cols);
  };
  let closed = false;
  const onInput = (chunk: Buffer): void => {
    // Typing after the container's end (the master is closed): dropped.
    if (closed || master < 0) return;
    try {
      writeAll(master, chunk);
    } catch {
      closed = true;
    }
  };
  return E.right({
    socket: theirs,
    ...size(),
    attach: async (interactive) => {
      closeQuietly(theirs);
      // Sent before the exec that told nook the command runs: already queued.
      const got = await receiveFd(ours);
      closeQuietly(ours);
      if (E.isLeft(got))
        return E.left({
          _tag: "TerminalFailed",
          message: `the container's terminal did not arrive: ${got.left.call}${got.left.errno ? ` (${errnoName(got.left.errno)})` : ""}`,
        });
      master = got.right;
      // The master reads EIO once the last slave fd is closed: the container is gone.
      const out = new ReadStream(master);
      out.on("data", (d: Buffer) => process.stdout.write(d));
      out.on("error", () => {
        closed = true;
        done();
      });
      out.on("close", () => {
        closed = true;
        done();
      });
      process.on("SIGWINCH", onResize);
      onResize();
      if (interactive) {
        if (stdin.isTTY) stdin.setRawMode(true);
        stdin.on("data", onInput);
        stdin.resume();
      }
      return E.right(undefined);
    },
    drained,
    restore: () => {
      closeQuietly(theirs);
      closeQuietly(ours);
      process.off("SIGWINCH", onResize);
      stdin.off("data", onInput);
      stdin.pause();
      if (stdin.isTTY) stdin.setRawMode(wasRaw);
    },
  });
};
