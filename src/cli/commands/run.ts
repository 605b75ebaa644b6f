import { Command, Option } from "clipanion";
import { trace } from "../../lib/trace.js";
import { ContainerOptions } from "../container-options.js";

export class RunCommand extends ContainerOptions {
  static override paths = [["run"], ["container", "run"]];

  static override usage = Command.Usage({
    description: "run a command in a new container",
    details: `
      Runs IMAGE's command (or COMMAND) in a new container, in the foreground: its own mount, pid,
      ipc, uts and network namespaces inside your user namespace, the image's layers under an
      overlay with a writable layer of its own, /proc, /dev and /sys, masked paths as Docker masks
      them, and no_new_privs. The exit status is the container's; nook's own failures give 125.
      The image is pulled first when it is missing (--pull).
    `,
    examples: [
      ["Run a command", "$0 run --rm alpine echo hello"],
      ["Pipe data through a container", "echo hi | $0 run --rm -i alpine cat"],
      ["Bind a directory read-only", "$0 run --rm -v $PWD:/src:ro alpine ls /src"],
    ],
  });

  detach = Option.Boolean("-d,--detach", false, {
    description: "run in the background under a monitor of its own, and print its id",
  });

  async run(): Promise<number> {
    const req = this.request();
    if (typeof req === "string") return this.fail(req);
    if (this.detach) {
      const { runDetached } = await import("../../app/run.js");
      const id = await runDetached(req);
      if (id._tag === "Left") return this.settle(id);
      this.context.stdout.write(`${id.right}\n`);
      return 0;
    }
    const { runContainer } = await import("../../app/run.js");
    trace("run: code loaded");
    return this.settle(await runContainer(req));
  }
}
