import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class ImagePruneCommand extends NookCommand {
  static override paths = [["image", "prune"]];

  static override usage = Command.Usage({
    description: "remove unused images",
    details: `
      Removes the images no tag names, and with -a every image no container uses (nook has no
      containers yet: every image), with the layers no remaining image lists. Asks first on a
      terminal; elsewhere it runs only with -f.
    `,
    examples: [
      ["Remove untagged images", "$0 image prune -f"],
      ["Remove every image", "$0 image prune -a -f"],
    ],
  });

  all = Option.Boolean("-a,--all", false, { description: "remove all images no container uses" });
  force = Option.Boolean("-f,--force", false, { description: "do not ask for confirmation" });

  /** Docker's question; true for y or yes. */
  private async confirm(): Promise<boolean> {
    const what = this.all
      ? "all images without at least one container associated to them"
      : "all dangling images";
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: this.context.stdin, output: this.context.stdout });
    try {
      const answer = await rl.question(
        `WARNING! This will remove ${what}.\nAre you sure you want to continue? [y/N] `,
      );
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  }

  async run(): Promise<number> {
    const { insideUserns, reexecInUserns } = await import("../../../app/in-userns.js");
    if (!insideUserns()) {
      if (!this.force) {
        if ((this.context.stdin as { isTTY?: boolean }).isTTY !== true)
          return this.fail(
            "image prune asks before removing images, and there is no terminal to ask on: use -f",
            "nook image prune -f",
          );
        if (!(await this.confirm())) return 0;
      }
      // Layer files belong to subordinate ids: only namespace root can remove them.
      return this.settle(await reexecInUserns([...process.argv.slice(2), "--force"]));
    }
    const [{ pruneImages }, { openStore }, { humanSize4 }] = await Promise.all([
      import("../../../app/prune.js"),
      import("../../../app/images.js"),
      import("../../disk-usage.js"),
    ]);
    const pruned = await pruneImages(openStore(), this.all);
    if (pruned._tag === "Left") return this.settle(pruned);
    const { untagged, deleted, reclaimed } = pruned.right;
    const out = this.context.stdout;
    if (untagged.length + deleted.length > 0) {
      out.write("Deleted Images:\n");
      for (const u of untagged) out.write(`untagged: ${u}\n`);
      for (const d of deleted) out.write(`deleted: ${d}\n`);
      out.write("\n");
    }
    out.write(`Total reclaimed space: ${humanSize4(reclaimed)}\n`);
    return 0;
  }
}
