import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class InfoCommand extends NookCommand {
  static override paths = [["info"], ["system", "info"]];

  static override usage = Command.Usage({
    description: "show what this host gives rootless containers",
    details: `
      Kernel, user namespaces, your id map, newuidmap, cgroup version, the store and its file system,
      whether the kernel mounts overlay in a user namespace (checked by mounting one), fuse-overlayfs,
      the storage driver nook uses, and the user-mode network tools.
    `,
    examples: [["As JSON", "$0 info --format json"]],
  });

  format = Option.String("--format", { description: "json" });

  async run(): Promise<number> {
    if (this.format !== undefined && this.format !== "json")
      return this.fail(`--format takes json, not ${JSON.stringify(this.format)}`);
    const { hostInfo, formatInfo } = await import("../../app/info.js");
    const info = await hostInfo();
    this.context.stdout.write(
      this.format === "json" ? `${JSON.stringify(info, null, 2)}\n` : formatInfo(info),
    );
    return 0;
  }
}
