// OCI bundles (runtime-spec bundle.md) for runtime tests: a rootfs of the
// host's static busybox, owned by the test user as an unpacked image would be,
// and the config.json a rootless runtime expects, made by the user (the spec
// maps the caller's own uid and gid to root of the container).
import { runAs } from "./nook.js";
import type { TestUser } from "./users.js";

export interface Bundle {
  /** Absolute path of the bundle directory: config.json and rootfs/. */
  readonly dir: string;
  readonly remove: () => Promise<void>;
}

// Slurm 22.05 rewrites root.path to "<bundle>/rootfs" whatever config.json
// says (slurmstepd container.c, _modify_config), so the rootfs has that name.
const script = `set -eu
cd "$1"
mkdir -p rootfs/bin rootfs/dev rootfs/etc rootfs/proc rootfs/sys rootfs/tmp
cp /bin/busybox rootfs/bin/busybox
for applet in $(rootfs/bin/busybox --list); do
  [ "$applet" = busybox ] || ln -s busybox "rootfs/bin/$applet"
done
echo "root:x:0:0:root:/:/bin/sh" >rootfs/etc/passwd
echo "root:x:0:" >rootfs/etc/group
shift
"$@"
chmod 0755 .
`;

/**
 * Makes a busybox bundle in a new directory under /tmp as `user`; `spec` is
 * the command that writes config.json in the current directory (runc's
 * rootless default when absent).
 */
export const makeBusyboxBundle = async (
  user: TestUser,
  spec: readonly string[] = ["/usr/sbin/runc", "spec", "--rootless"],
): Promise<Bundle> => {
  const made = await runAs(user, ["mktemp", "-d", "/tmp/nook-bundle-XXXXXX"]);
  const dir = made.stdout.trim();
  if (made.code !== 0 || !dir) throw new Error(`mktemp as ${user.name}: ${made.stderr.trim()}`);
  const remove = async (): Promise<void> => {
    await runAs(user, ["rm", "-rf", dir]);
  };
  const r = await runAs(user, ["sh", "-c", script, "sh", dir, ...spec]);
  if (r.code !== 0) {
    await remove();
    throw new Error(`making a busybox bundle as ${user.name} failed (${r.code}): ${r.stderr.trim()}`);
  }
  return { dir, remove };
};
