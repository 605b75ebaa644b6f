import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class AttachCommand extends NookCommand {
  static override paths = [["attach"], ["container", "attach"]];

  static override usage = Command.Usage({
    description: "connect this terminal to a running container's input and output",
    details: `
      Prints what the container writes from now on (earlier output: \`nook logs\`) and, for a container
      made with -i, sends it your input. With a terminal (-t), the detach keys (ctrl-p ctrl-q) leave the
      container running; otherwise signals to nook go on to the container. Exits with the container's
      exit code when it ends.
    `,
    examples: [["Attach to a shell started with run -dit", "$0 attach box"]],
  });

  detachKeys = Option.String("--detach-keys", "ctrl-p,ctrl-q", {
    description: "the keys that detach (ctrl-<letter>, comma-separated; empty: none)",
  });
  noStdin = Option.Boolean("--no-stdin", false, { description: "do not send input to the container" });
  sigProxy = Option.Boolean("--sig-proxy", true, {
    description: "pass signals on to the container (no terminal)",
  });
  container = Option.String({ name: "CONTAINER" });

  async run(): Promise<number> {
    const [{ attachContainer, parseDetachKeys }, { openStore }] = await Promise.all([
      import("../../../app/attach.js"),
      import("../../../app/images.js"),
    ]);
    const keys = parseDetachKeys(this.detachKeys);
    if (keys._tag === "Left") return this.fail(keys.left);
    const r = await attachContainer(openStore(), this.container, {
      stdin: !this.noStdin,
      closeStdin: false,
      detachKeys: keys.right,
      sigProxy: this.sigProxy,
    });
    return this.settle(r);
  }
}
