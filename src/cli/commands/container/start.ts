import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";
import { eachContainer } from "../../each-container.js";

export class StartCommand extends NookCommand {
  static override paths = [["start"], ["container", "start"]];

  static override usage = Command.Usage({
    description: "start created or exited containers",
    details: `
      Runs each container again, detached, under a monitor of its own, and prints its name as given.
      With -a, one container's output comes here from its first byte and nook exits with its exit code;
      -i also sends it your input, and the end of your input closes its stdin.
    `,
    examples: [
      ["Start a container", "$0 start web"],
      ["Start and watch", "$0 start -a job"],
    ],
  });

  attach = Option.Boolean("-a,--attach", false, {
    description: "print the container's output and wait for it",
  });
  interactive = Option.Boolean("-i,--interactive", false, {
    description: "send your input to the container",
  });
  detachKeys = Option.String("--detach-keys", "ctrl-p,ctrl-q", {
    description: "the keys that detach with -a (ctrl-<letter>, comma-separated; empty: none)",
  });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  async run(): Promise<number> {
    const [{ startContainer }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const store = openStore();
    if (!this.attach && !this.interactive)
      return eachContainer(
        this.context,
        this.containers,
        (ref) => startContainer(store, ref),
        (ref) => ref,
      );
    if (this.containers.length > 1) return this.fail("start -a and -i take one container");
    const { attachTo, parseDetachKeys } = await import("../../../app/attach.js");
    const keys = parseDetachKeys(this.detachKeys);
    if (keys._tag === "Left") return this.fail(keys.left);
    const started = await startContainer(store, this.containers[0]!, { waitAttach: true });
    if (started._tag === "Left") return this.settle(started);
    return this.settle(
      await attachTo(store, started.right, {
        stdin: this.interactive && started.right.record.interactive,
        closeStdin: true,
        detachKeys: keys.right,
        sigProxy: true,
      }),
    );
  }
}
