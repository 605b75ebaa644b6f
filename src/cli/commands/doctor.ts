import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class DoctorCommand extends NookCommand {
  static override paths = [["doctor"]];

  static override usage = Command.Usage({
    description: "check what rootless containers need on this host, with fixes",
    details: `
      One check per prerequisite: unprivileged user namespaces (and the sysctls and AppArmor policy that
      govern them), your subordinate id ranges, newuidmap and newgidmap, the id map itself (by making a
      namespace), XDG_RUNTIME_DIR and nook's runtime directory, the store's file system, free space and
      inodes, kernel overlay in a user namespace (by mounting one), /dev/fuse and fuse-overlayfs, pasta or
      slirp4netns and /dev/net/tun, the cgroup version and the controllers delegated to you, the systemd
      user bus and linger, and the open files limit.

      Each is ok, warn (nook works around it, at the cost it names) or fail, with the evidence and a fix
      to copy. The exit status is 1 when a check nook cannot do without fails, else 0.
    `,
    examples: [
      ["Check this host", "$0 doctor"],
      ["As JSON, for scripts", "$0 doctor --format json"],
    ],
  });

  format = Option.String("--format", { description: "json" });

  async run(): Promise<number> {
    if (this.format !== undefined && this.format !== "json")
      return this.fail(`--format takes json, not ${JSON.stringify(this.format)}`);
    const { runDoctor, formatChecks, healthy } = await import("../../app/doctor.js");
    const checks = await runDoctor();
    const ok = healthy(checks);
    this.context.stdout.write(
      this.format === "json" ? `${JSON.stringify({ ok, checks }, null, 2)}\n` : formatChecks(checks),
    );
    return ok ? 0 : 1;
  }
}
