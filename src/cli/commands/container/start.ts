import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";
import { eachContainer } from "../../each-container.js";

export class StartCommand extends NookCommand {
  static override paths = [["start"], ["container", "start"]];

  static override usage = Command.Usage({
    description: "start created or exited containers",
    details: `Runs each container again, detached, under a monitor of its own, and prints its name as given.`,
    examples: [["Start a container", "$0 start web"]],
  });

  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  async run(): Promise<number> {
    const [{ startContainer }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const store = openStore();
    return eachContainer(
      this.context,
      this.containers,
      (ref) => startContainer(store, ref),
      (ref) => ref,
    );
  }
}
