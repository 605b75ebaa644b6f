import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";
import { eachContainer } from "../../each-container.js";

export class RmCommand extends NookCommand {
  static override paths = [["rm"], ["container", "rm"]];

  static override usage = Command.Usage({
    description: "remove containers",
    details: `
      Removes each container and its writable layer (files of subordinate ids included, from inside
      your user namespace). A running container needs -f, which kills it first.
    `,
    examples: [["Remove a running container", "$0 rm -f web"]],
  });

  force = Option.Boolean("-f,--force", false, { description: "kill a running container first" });
  volumes = Option.Boolean("-v,--volumes", false, {
    description: "accepted for Docker's sake: nook has no volumes",
  });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  async run(): Promise<number> {
    const [{ removeContainer }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const store = openStore();
    return eachContainer(
      this.context,
      this.containers,
      (ref) => removeContainer(store, ref, this.force),
      (ref) => ref,
    );
  }
}
