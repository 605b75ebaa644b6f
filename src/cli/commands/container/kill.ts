import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";
import { eachContainer } from "../../each-container.js";

export class KillCommand extends NookCommand {
  static override paths = [["kill"], ["container", "kill"]];

  static override usage = Command.Usage({
    description: "send a signal to running containers",
    details: `Sends the signal to each container's pid 1 through a pidfd, so never to a process that took its pid.`,
    examples: [["Ask a server to reload", "$0 kill -s HUP web"]],
  });

  signal = Option.String("-s,--signal", "KILL", { description: "a name (HUP, SIGHUP) or a number" });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  async run(): Promise<number> {
    const [{ killContainer, signalNumber }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const sig = signalNumber(this.signal);
    if (sig === undefined) return this.fail(`--signal ${this.signal}: no such signal`);
    const store = openStore();
    return eachContainer(
      this.context,
      this.containers,
      (ref) => killContainer(store, ref, sig),
      (ref) => ref,
    );
  }
}
