import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class UnshareCommand extends NookCommand {
  static override paths = [["unshare"]];

  static override usage = Command.Usage({
    description: "run a command as root of your user namespace",
    details: `
      Runs COMMAND (your shell when none is given) in a new user namespace where you are root and the
      subordinate ids from /etc/subuid and /etc/subgid are mapped after your own, as nook's containers
      see them. Use it to look at or remove files in nook's storage that subordinate ids own.

      Users without subordinate ranges get a namespace that maps only their own uid and gid.
    `,
    examples: [
      ["Show the id map", "$0 unshare cat /proc/self/uid_map"],
      ["Open a shell as namespace root", "$0 unshare"],
    ],
  });

  argv = Option.Proxy();

  async run(): Promise<number> {
    const { unshare } = await import("../../app/unshare.js");
    // Everything after "unshare" is the command, so --help is caught here, as podman does.
    if (this.argv[0] === "-h" || this.argv[0] === "--help") {
      this.context.stdout.write(this.cli.usage(UnshareCommand, { detailed: true }));
      return 0;
    }
    const argv = this.argv[0] === "--" ? this.argv.slice(1) : this.argv;
    return this.settle(await unshare(argv));
  }
}
