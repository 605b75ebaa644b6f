// Which whiteout form this host can store (rootfs/unpack.ts): the overlay
// form, a 0/0 character device, needs Linux 5.8+ to be made by namespace
// root without CAP_MKNOD in the initial namespace; older kernels refuse it,
// and the layer keeps OCI's .wh. files, which fuse-overlayfs reads itself.
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { mknod, S_IFCHR } from "../sys/libc.js";

export const probeWhiteouts = async (storeRoot: string): Promise<"overlay" | "keep"> => {
  const dir = await mkdtemp(join(storeRoot, "tmp", `probe-${process.pid}-`));
  try {
    const r = await mknod(join(dir, "w"), S_IFCHR | 0o600, 0);
    return E.isRight(r) ? "overlay" : "keep";
  } catch {
    return "keep";
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
