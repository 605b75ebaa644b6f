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
}

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
