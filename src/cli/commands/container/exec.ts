import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class ExecCommand extends NookCommand {
  static override paths = [["exec"], ["container", "exec"]];

  static override usage = Command.Usage({
    description: "run a command in a running container",
    details: `
      Joins the container's namespaces (same hostname, processes, root) as its user, in its workdir,
      unless -u or -w say otherwise. The exit status is the command's; 126/127 when it cannot run.
    `,
    examples: [
      ["A shell in a container", "$0 exec -it web sh"],
      ["As root, with a variable", "$0 exec -u 0 -e DEBUG=1 web env"],
    ],
  });

  interactive = Option.Boolean("-i,--interactive", false, { description: "keep stdin open" });
  tty = Option.Boolean("-t,--tty", false, { description: "allocate a pseudo-terminal" });
  env = Option.Array("-e,--env", [], {
    description: "set an environment variable (NAME=VALUE, or NAME from yours)",
  });
  workdir = Option.String("-w,--workdir", { description: "working directory inside the container" });
  user = Option.String("-u,--user", { description: "user[:group] or uid[:gid] to run as" });
  container = Option.String({ name: "CONTAINER" });
  command = Option.Proxy({ name: "COMMAND", required: 1 });

  async run(): Promise<number> {
    const [{ execInContainer }, { openStore }] = await Promise.all([
      import("../../../app/exec.js"),
      import("../../../app/images.js"),
    ]);
    return this.settle(
      await execInContainer(openStore(), {
        container: this.container,
        command: this.command,
        env: this.env ?? [],
        interactive: this.interactive,
        tty: this.tty,
        ...(this.workdir !== undefined ? { workdir: this.workdir } : {}),
        ...(this.user !== undefined ? { user: this.user } : {}),
      }),
    );
  }
}
