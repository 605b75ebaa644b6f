import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";
import { eachContainer } from "../../each-container.js";

export class RestartCommand extends NookCommand {
  static override paths = [["restart"], ["container", "restart"]];

  static override usage = Command.Usage({
    description: "stop containers, then start them again, detached",
    examples: [["Restart a server", "$0 restart web"]],
  });

  time = Option.String("-t,--time,--timeout", "10", { description: "seconds to wait before SIGKILL" });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  async run(): Promise<number> {
    if (!/^\d+$/.test(this.time))
      return this.fail(`--time takes a whole number of seconds, not ${this.time}`);
    const [{ startContainer, stopContainer }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const store = openStore();
    return eachContainer(
      this.context,
      this.containers,
      async (ref) => {
        const stopped = await stopContainer(store, ref, Number(this.time));
        return stopped._tag === "Left" ? stopped : startContainer(store, ref);
      },
      (ref) => ref,
    );
  }
}
