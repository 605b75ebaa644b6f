// The one place that loads libc through koffi (DESIGN.md section 1). Only
// stateless calls live here; nothing that changes the Node process's
// namespaces or mounts. Each wrapper reads errno right after its call, before
// any other JavaScript can run a libc call of its own, and returns a typed
// result instead of a sentinel.
//
// koffi is loaded on first use, not at start-up: most commands never need it,
// and `nook --version` should not pay for a native module.
import * as E from "fp-ts/lib/Either.js";

export interface SysError {
  readonly call: string;
  readonly errno: number;
}

interface Libc {
  readonly koffi: typeof import("koffi");
  readonly getxattr: (path: string, name: string, value: Buffer | null, size: number) => number;
  readonly lgetxattr: (path: string, name: string, value: Buffer | null, size: number) => number;
  readonly lsetxattr: (path: string, name: string, value: Buffer, size: number, flags: number) => number;
  readonly llistxattr: (path: string, list: Buffer | null, size: number) => number;
  readonly mknod: (path: string, mode: number, dev: number) => number;
  readonly ioctlWinsize: (fd: number, request: number, winp: Buffer) => number;
  readonly socketpair: (domain: number, type: number, protocol: number, sv: number[]) => number;
  readonly socket: (domain: number, type: number, protocol: number) => number;
  readonly connect: (fd: number, addr: Buffer, len: number) => number;
  readonly close: (fd: number) => number;
  readonly recvmsg: (fd: number, msg: MsgHdr, flags: number) => number;
  readonly flock: (fd: number, op: number) => number;
  readonly pidfdOpen: (pid: number, flags: number) => number;
  readonly pidfdSendSignal: (pidfd: number, sig: number, info: null, flags: number) => number;
}

/**
 * pidfd_open(2) and pidfd_send_signal(2): glibc wraps them since 2.36; before
 * that, syscall(2) with their numbers (434 and 424, the same on x86-64 and arm64).
 */
const bindPidfd = (lib: import("koffi").LibraryHandle): Pick<Libc, "pidfdOpen" | "pidfdSendSignal"> => {
  try {
    return {
      pidfdOpen: lib.func("int pidfd_open(int pid, unsigned int flags)") as Libc["pidfdOpen"],
      pidfdSendSignal: lib.func(
        "int pidfd_send_signal(int pidfd, int sig, void *info, unsigned int flags)",
      ) as Libc["pidfdSendSignal"],
    };
  } catch {
    const syscall = lib.func("long syscall(long number, ...)") as (...args: unknown[]) => number;
    return {
      pidfdOpen: (pid, flags) => syscall(434, "int", pid, "unsigned int", flags),
      pidfdSendSignal: (fd, sig, _info, flags) =>
        syscall(424, "int", fd, "int", sig, "void *", null, "unsigned int", flags),
    };
  }
};

/** struct msghdr with one iovec, as koffi marshals it (the Buffers are passed by address). */
interface MsgHdr {
  readonly name: null;
  readonly namelen: number;
  readonly iov: { readonly base: Buffer; readonly len: number };
  readonly iovlen: number;
  readonly control: Buffer;
  readonly controllen: number;
  readonly flags: number;
}

/**
 * glibc exports mknod(3) as a symbol only since 2.33; before that the header
 * inlined a call to __xmknod(_MKNOD_VER, ...), whose version is 0 on the
 * 64-bit ports nook runs on (x86_64, aarch64).
 */
const bindMknod = (lib: import("koffi").LibraryHandle): Libc["mknod"] => {
  try {
    return lib.func("int mknod(const char *path, uint32_t mode, uint64_t dev)") as Libc["mknod"];
  } catch {
    const xmknod = lib.func("int __xmknod(int ver, const char *path, uint32_t mode, uint64_t *dev)") as (
      ver: number,
      path: string,
      mode: number,
      dev: bigint[],
    ) => number;
    return (path, mode, dev) => xmknod(0, path, mode, [BigInt(dev)]);
  }
};

let libc: Promise<Libc> | undefined;

const loadLibc = async (): Promise<Libc> => {
  const mod: unknown = await import("koffi");
  // koffi is CommonJS; imported from ESM its exports sit on `default`.
  const koffi = ((mod as { default?: unknown }).default ?? mod) as typeof import("koffi");
  const lib = koffi.load("libc.so.6");
  return {
    koffi,
    getxattr: lib.func(
      "long getxattr(const char *path, const char *name, _Out_ void *value, size_t size)",
    ) as Libc["getxattr"],
    lgetxattr: lib.func(
      "long lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)",
    ) as Libc["lgetxattr"],
    lsetxattr: lib.func(
      "int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)",
    ) as Libc["lsetxattr"],
    llistxattr: lib.func(
      "long llistxattr(const char *path, _Out_ void *list, size_t size)",
    ) as Libc["llistxattr"],
    mknod: bindMknod(lib),
    ioctlWinsize: lib.func("int ioctl(int fd, unsigned long request, void *winp)") as Libc["ioctlWinsize"],
    socketpair: lib.func(
      "int socketpair(int domain, int type, int protocol, _Out_ int *sv)",
    ) as Libc["socketpair"],
    socket: lib.func("int socket(int domain, int type, int protocol)") as Libc["socket"],
    connect: lib.func("int connect(int fd, const void *addr, uint32_t len)") as Libc["connect"],
    close: lib.func("int close(int fd)") as Libc["close"],
    recvmsg: (() => {
      koffi.struct("nook_iovec", { base: "void *", len: "size_t" });
      koffi.struct("nook_msghdr", {
        name: "void *",
        namelen: "uint32_t",
        iov: "nook_iovec *",
        iovlen: "size_t",
        control: "void *",
        controllen: "size_t",
        flags: "int",
      });
      return lib.func("long recvmsg(int fd, nook_msghdr *msg, int flags)") as Libc["recvmsg"];
    })(),
    flock: lib.func("int flock(int fd, int op)") as Libc["flock"],
    ...bindPidfd(lib),
  };
};

const getLibc = (): Promise<Libc> => (libc ??= loadLibc());

/**
 * Size of the extended attribute `name` on `path` (following symlinks), or the
 * errno: ENODATA when the file has no such attribute.
 */
export const getxattrSize = async (path: string, name: string): Promise<E.Either<SysError, number>> => {
  const c = await getLibc();
  const n = c.getxattr(path, name, null, 0);
  if (n < 0) return E.left({ call: `getxattr ${path} ${name}`, errno: c.koffi.errno() });
  return E.right(n);
};

/**
 * Value of the extended attribute `name` on `path` itself (a symlink is not
 * followed), or the errno: ENODATA when there is no such attribute.
 */
export const lgetxattr = async (path: string, name: string): Promise<E.Either<SysError, Buffer>> => {
  const c = await getLibc();
  // Size first, then the value; ERANGE means it grew in between: ask again.
  for (;;) {
    const size = c.lgetxattr(path, name, null, 0);
    if (size < 0) return E.left({ call: `lgetxattr ${path} ${name}`, errno: c.koffi.errno() });
    const buf = Buffer.alloc(Math.max(size, 1));
    const n = c.lgetxattr(path, name, buf, buf.length);
    if (n >= 0) return E.right(buf.subarray(0, n));
    const errno = c.koffi.errno();
    if (errno !== ERANGE) return E.left({ call: `lgetxattr ${path} ${name}`, errno });
  }
};

const ERANGE = 34;

/** Names of the extended attributes on `path` itself (a symlink is not followed). */
export const llistxattr = async (path: string): Promise<E.Either<SysError, string[]>> => {
  const c = await getLibc();
  // As lgetxattr: the size, then the list; ERANGE means it grew in between.
  for (;;) {
    const size = c.llistxattr(path, null, 0);
    if (size < 0) return E.left({ call: `llistxattr ${path}`, errno: c.koffi.errno() });
    if (size === 0) return E.right([]);
    const buf = Buffer.alloc(size);
    const n = c.llistxattr(path, buf, buf.length);
    if (n >= 0)
      return E.right(
        buf
          .subarray(0, n)
          .toString("utf8")
          .split("\0")
          .filter((s) => s !== ""),
      );
    const errno = c.koffi.errno();
    if (errno !== ERANGE) return E.left({ call: `llistxattr ${path}`, errno });
  }
};

/** Sets the extended attribute `name` on `path` itself (a symlink is not followed). */
export const lsetxattr = async (
  path: string,
  name: string,
  value: Buffer,
): Promise<E.Either<SysError, void>> => {
  const c = await getLibc();
  const r = c.lsetxattr(path, name, value, value.length, 0);
  if (r < 0) return E.left({ call: `lsetxattr ${path} ${name}`, errno: c.koffi.errno() });
  return E.right(undefined);
};

/** File type bits of mknod(2)'s mode. */
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/**
 * Creates a device node or fifo. `mode` holds the file type (S_IFCHR,
 * S_IFIFO...) and the permission bits (the umask applies). The overlay
 * whiteout, a character device 0/0, needs no CAP_MKNOD (Linux 5.8 and later),
 * so it works as root of a user namespace.
 */
export const mknod = async (path: string, mode: number, dev: number): Promise<E.Either<SysError, void>> => {
  const c = await getLibc();
  const r = c.mknod(path, mode, dev);
  if (r < 0) return E.left({ call: `mknod ${path}`, errno: c.koffi.errno() });
  return E.right(undefined);
};

const TIOCSWINSZ = 0x5414;

const winsize = (rows: number, cols: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(rows, 0);
  b.writeUInt16LE(cols, 2);
  return b;
};

/** Tells the terminal behind `fd` its new size (the container's programs get SIGWINCH). */
export const setWindowSize = async (
  fd: number,
  rows: number,
  cols: number,
): Promise<E.Either<SysError, void>> => {
  const c = await getLibc();
  if (c.ioctlWinsize(fd, TIOCSWINSZ, winsize(rows, cols)) < 0)
    return E.left({ call: "ioctl TIOCSWINSZ", errno: c.koffi.errno() });
  return E.right(undefined);
};

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
const SOL_SOCKET = 1;
const SCM_RIGHTS = 1;

/** A connected pair of unix stream sockets (close-on-exec: pass one on through spawn's stdio). */
export const socketPair = async (): Promise<E.Either<SysError, [number, number]>> => {
  const c = await getLibc();
  const sv = [0, 0];
  if (c.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return E.left({ call: "socketpair", errno: c.koffi.errno() });
  return E.right([sv[0]!, sv[1]!]);
};

/** A unix stream socket connected to `path` (close-on-exec), as a raw descriptor to pass on through spawn's stdio. */
export const connectUnix = async (path: string): Promise<E.Either<SysError, number>> => {
  const c = await getLibc();
  const name = Buffer.from(path);
  if (name.length >= 108) return E.left({ call: "connect", errno: 36 /* ENAMETOOLONG */ });
  const addr = Buffer.alloc(110);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, 2);
  const fd = c.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return E.left({ call: "socket", errno: c.koffi.errno() });
  if (c.connect(fd, addr, 2 + name.length + 1) < 0) {
    const errno = c.koffi.errno();
    c.close(fd);
    return E.left({ call: "connect", errno });
  }
  return E.right(fd);
};

/**
 * The file descriptor waiting on `sock` (SCM_RIGHTS), without blocking:
 * Left EAGAIN when none was sent.
 */
export const receiveFd = async (sock: number): Promise<E.Either<SysError, number>> => {
  const c = await getLibc();
  const control = Buffer.alloc(64);
  const n = c.recvmsg(
    sock,
    {
      name: null,
      namelen: 0,
      iov: { base: Buffer.alloc(1), len: 1 },
      iovlen: 1,
      control,
      controllen: control.length,
      flags: 0,
    },
    MSG_DONTWAIT,
  );
  if (n < 0) return E.left({ call: "recvmsg", errno: c.koffi.errno() });
  // struct cmsghdr: size_t len; int level; int type; then the data.
  const len = Number(control.readBigUInt64LE(0));
  if (n === 0 || len < 20 || control.readInt32LE(8) !== SOL_SOCKET || control.readInt32LE(12) !== SCM_RIGHTS)
    return E.left({ call: "recvmsg: no file descriptor", errno: 0 });
  return E.right(control.readInt32LE(16));
};

const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;

/** flock(2) LOCK_EX|LOCK_NB: Right(true) when taken, Right(false) when another process holds it. */
export const tryLockExclusive = async (fd: number): Promise<E.Either<SysError, boolean>> => {
  const c = await getLibc();
  if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) return E.right(true);
  const errno = c.koffi.errno();
  return errno === 11 /* EWOULDBLOCK */ ? E.right(false) : E.left({ call: "flock", errno });
};

export const unlock = async (fd: number): Promise<void> => {
  const c = await getLibc();
  c.flock(fd, LOCK_UN);
};

/** A pidfd for `pid`: signals through it reach that process, never a later one with its pid. */
export const pidfdOpen = async (pid: number): Promise<E.Either<SysError, number>> => {
  const c = await getLibc();
  const fd = c.pidfdOpen(pid, 0);
  return fd < 0 ? E.left({ call: `pidfd_open ${pid}`, errno: c.koffi.errno() }) : E.right(fd);
};

export const pidfdSendSignal = async (pidfd: number, signal: number): Promise<E.Either<SysError, void>> => {
  const c = await getLibc();
  return c.pidfdSendSignal(pidfd, signal, null, 0) < 0
    ? E.left({ call: "pidfd_send_signal", errno: c.koffi.errno() })
    : E.right(undefined);
};
