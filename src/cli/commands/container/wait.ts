import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";
import { eachContainer } from "../../each-container.js";

export class WaitCommand extends NookCommand {
  static override paths = [["wait"], ["container", "wait"]];

  static override usage = Command.Usage({
    description: "wait for containers to end, and print their exit codes",
    examples: [["Wait for a job", "$0 wait job"]],
  });

  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  async run(): Promise<number> {
    const [{ findContainer, waitExit }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const store = openStore();
    return eachContainer(
      this.context,
      this.containers,
      async (ref) => {
        const found = await findContainer(store, ref);
        if (found._tag === "Left") return found;
        const done = await waitExit(store, found.right.record);
        return { _tag: "Right", right: done.exitCode ?? -1 } as const;
      },
      (_ref, code) => String(code),
    );
  }
}
