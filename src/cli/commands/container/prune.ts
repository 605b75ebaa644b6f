import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class ContainerPruneCommand extends NookCommand {
  static override paths = [["container", "prune"]];

  static override usage = Command.Usage({
    description: "remove all containers that are not running",
    examples: [["Without asking", "$0 container prune -f"]],
  });

  force = Option.Boolean("-f,--force", false, { description: "do not ask" });

  async run(): Promise<number> {
    if (!this.force) {
      const { createInterface } = await import("node:readline/promises");
      const rl = createInterface({ input: this.context.stdin, output: this.context.stdout });
      try {
        const answer = await rl.question(
          "WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ",
        );
        if (!/^y(es)?$/i.test(answer.trim())) return 0;
      } finally {
        rl.close();
      }
    }
    const [{ listContainers, removeContainer }, { openStore }, { reportError }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
      import("../../report.js"),
    ]);
    const store = openStore();
    let status = 0;
    this.context.stdout.write("Deleted Containers:\n");
    for (const v of await listContainers(store)) {
      if (v.status === "running") continue;
      const r = await removeContainer(store, v.record.id, false);
      if (r._tag === "Right") this.context.stdout.write(`${v.record.id}\n`);
      else status = reportError(this.context.stderr, r.left);
    }
    return status;
  }
}
