// nook attach and start -a: a client of a detached container's monitor
// (native/src/monitor.c). The monitor serves a stream socket, DIR/attach, in
// the container's directory: frames of a type byte, a big-endian 32-bit
// length and the bytes. It sends the container's stdout and stderr (a pty's
// output is stdout) and ends the connection once the exit is recorded; the
// client sends input, end of input and window sizes.
import { closeSync, constants as fsc, openSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { constants as osc } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { Containers } from "../store/containers.js";
import type { Store } from "../store/store.js";
import { findContainer, killContainer, waitExit, type ContainerView } from "./containers.js";

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const CLOSE_STDIN = 3;
const RESIZE = 4;
const HEAD = 5;
/** The monitor takes frames of at most 64 KiB. */
const FRAME_MAX = 65536;

export interface AttachOptions {
  /** Send this terminal's input to the container (it was made with -i). */
  readonly stdin: boolean;
  /** The end of our input closes the container's stdin (start -a -i, as Docker's StdinOnce). */
  readonly closeStdin: boolean;
  /** The bytes that detach from a container with a terminal, Docker's ctrl-p,ctrl-q by default. */
  readonly detachKeys: readonly number[];
  /** Signals to nook go on to the container (without a terminal, as docker attach --sig-proxy). */
  readonly sigProxy: boolean;
}

const fail = (message: string, hint?: string): E.Either<NookError, never> =>
  E.left({ _tag: "ContainerFailed", message, ...(hint ? { hint } : {}) });

/** Docker's --detach-keys: comma-separated "ctrl-X" or single characters; "" turns detaching off. */
export const parseDetachKeys = (spec: string): E.Either<string, number[]> => {
  if (spec === "") return E.right([]);
  const out: number[] = [];
  for (const part of spec.split(",")) {
    const ctrl = /^ctrl-(.)$/i.exec(part);
    if (ctrl) {
      // ctrl-@ is 0, ctrl-a to ctrl-z 1 to 26, then [ \ ] ^ _ up to 31.
      const code = "@abcdefghijklmnopqrstuvwxyz[\\]^_".indexOf(ctrl[1]!.toLowerCase());
      if (code < 0) return E.left(`--detach-keys: bad key ${JSON.stringify(part)}`);
      out.push(code);
    } else if (part.length === 1) out.push(part.charCodeAt(0));
    else
      return E.left(`--detach-keys: bad key ${JSON.stringify(part)} (give ctrl-<letter> or one character)`);
  }
  return E.right(out);
};

const frame = (type: number, body: Buffer): Buffer => {
  const head = Buffer.alloc(HEAD);
  head[0] = type;
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
};

const connectAttach = (dir: string): Promise<E.Either<string, Socket>> =>
  new Promise((resolve) => {
    let dirFd: number;
    try {
      dirFd = openSync(dir, fsc.O_RDONLY | fsc.O_DIRECTORY);
    } catch (e) {
      return resolve(E.left((e as NodeJS.ErrnoException).code ?? "open failed"));
    }
    // Through /proc/self/fd: the store's path may be longer than a socket address holds.
    const sock = connect(`/proc/self/fd/${dirFd}/attach`);
    const done = (r: E.Either<string, Socket>): void => {
      closeSync(dirFd);
      resolve(r);
    };
    sock.once("connect", () => {
      sock.removeAllListeners("error");
      done(E.right(sock));
    });
    sock.once("error", (e: NodeJS.ErrnoException) => done(E.left(e.code ?? e.message)));
  });

/** Splits the monitor's frames, and stops reading while our stdout or stderr is full. */
const pipeOutput = (sock: Socket): void => {
  let buf: Buffer = Buffer.alloc(0);
  sock.on("data", (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= HEAD) {
      const len = buf.readUInt32BE(1);
      if (buf.length < HEAD + len) break;
      const type = buf[0];
      const body = buf.subarray(HEAD, HEAD + len);
      buf = buf.subarray(HEAD + len);
      const out = type === STDERR ? process.stderr : type === STDOUT ? process.stdout : undefined;
      if (out && !out.write(body)) {
        sock.pause();
        out.once("drain", () => sock.resume());
      }
    }
  });
};

/** Finds the detach sequence in typed input: what goes to the container, and whether it was typed. */
const detachScanner = (keys: readonly number[]) => {
  let matched = 0;
  return (chunk: Buffer): { send: Buffer; detach: boolean } => {
    if (keys.length === 0) return { send: chunk, detach: false };
    const send: number[] = [];
    for (const b of chunk) {
      if (b === keys[matched]) {
        matched++;
        if (matched === keys.length) return { send: Buffer.from(send), detach: true };
        continue;
      }
      // A false start: the held bytes go on after all.
      send.push(...keys.slice(0, matched));
      matched = b === keys[0] ? 1 : 0;
      if (matched === 0) send.push(b);
    }
    return { send: Buffer.from(send), detach: false };
  };
};

const PROXIED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;

/**
 * Copies a running container's output here (and our input there) until it
 * ends, or until the detach keys; resolves to its exit code (0 on detach).
 */
export const attachTo = async (
  store: Store,
  view: ContainerView,
  opts: AttachOptions,
): Promise<E.Either<NookError, number>> => {
  const record = view.record;
  if (view.status !== "running")
    return fail(
      `container ${record.name} is not running`,
      view.status === "exited" || view.status === "created"
        ? `start it with: nook start -a ${record.name}`
        : undefined,
    );
  const conn = await connectAttach(new Containers(store).dir(record.id));
  if (E.isLeft(conn))
    return fail(
      `container ${record.name}: its monitor takes no attach (${conn.left})`,
      "its output is in: nook logs -f " + record.name,
    );
  const sock = conn.right;
  const stdin = process.stdin;
  const raw = record.tty && opts.stdin && stdin.isTTY;
  const wasRaw = stdin.isTTY ? stdin.isRaw : false;
  let detached = false;
  const scan = detachScanner(record.tty ? opts.detachKeys : []);
  const onInput = (chunk: Buffer): void => {
    const { send, detach } = scan(chunk);
    for (let off = 0; off < send.length; off += FRAME_MAX)
      sock.write(frame(STDIN, send.subarray(off, off + FRAME_MAX)));
    if (detach) {
      // What came before the keys still goes; the monitor then lets us go.
      detached = true;
      sock.end();
    }
  };
  const onInputEnd = (): void => {
    if (opts.closeStdin && !sock.destroyed) sock.write(frame(CLOSE_STDIN, Buffer.alloc(0)));
  };
  const onResize = (): void => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(process.stdout.rows || 24, 0);
    b.writeUInt16BE(process.stdout.columns || 80, 2);
    if (!sock.destroyed) sock.write(frame(RESIZE, b));
  };
  const proxy = (sig: NodeJS.Signals): void => {
    void killContainer(store, record.id, osc.signals[sig]);
  };
  const ended = new Promise<void>((r) => {
    sock.once("close", () => r());
    sock.once("error", () => r());
  });
  pipeOutput(sock);
  if (record.tty && process.stdout.isTTY) {
    process.on("SIGWINCH", onResize);
    onResize();
  }
  if (!record.tty && opts.sigProxy) for (const s of PROXIED) process.on(s, proxy);
  if (opts.stdin) {
    if (raw) stdin.setRawMode(true);
    stdin.on("data", onInput);
    stdin.once("end", onInputEnd);
    stdin.resume();
  }
  try {
    await ended;
  } finally {
    process.off("SIGWINCH", onResize);
    for (const s of PROXIED) process.off(s, proxy);
    stdin.off("data", onInput);
    stdin.off("end", onInputEnd);
    stdin.pause();
    if (raw) stdin.setRawMode(wasRaw);
  }
  if (detached) return E.right(0);
  const done = await waitExit(store, record);
  return E.right(done.exitCode ?? 0);
};

/** nook attach CONTAINER. */
export const attachContainer = async (
  store: Store,
  ref: string,
  opts: AttachOptions,
): Promise<E.Either<NookError, number>> => {
  const found = await findContainer(store, ref);
  if (E.isLeft(found)) return found;
  return attachTo(store, found.right, { ...opts, stdin: opts.stdin && found.right.record.interactive });
};
