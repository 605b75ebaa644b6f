import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";
import { eachContainer } from "../../each-container.js";

export class StopCommand extends NookCommand {
  static override paths = [["stop"], ["container", "stop"]];

  static override usage = Command.Usage({
    description: "stop running containers",
    details: `
      Sends the image's stop signal (SIGTERM unless the image names another) to the container's pid 1,
      and SIGKILL when it has not ended after the timeout. A container that is not running is left
      as it is.
    `,
    examples: [["Stop with 2 seconds' grace", "$0 stop -t 2 web"]],
  });

  time = Option.String("-t,--time,--timeout", "10", { description: "seconds to wait before SIGKILL" });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  async run(): Promise<number> {
    if (!/^\d+$/.test(this.time))
      return this.fail(`--time takes a whole number of seconds, not ${this.time}`);
    const [{ stopContainer }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const store = openStore();
    return eachContainer(
      this.context,
      this.containers,
      (ref) => stopContainer(store, ref, Number(this.time)),
      (ref) => ref,
    );
  }
}
