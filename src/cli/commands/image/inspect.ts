import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class ImageInspectCommand extends NookCommand {
  static override paths = [["image", "inspect"]];

  static override usage = Command.Usage({
    description: "show an image's details as JSON",
    details: "Prints a JSON array with one object per image, in the shape docker image inspect gives.",
    examples: [["Inspect busybox", "$0 image inspect busybox"]],
  });

  images = Option.Rest({ required: 1, name: "IMAGE" });

  async run(): Promise<number> {
    const { findImage, inspectView, openStore } = await import("../../../app/images.js");
    const { reportError } = await import("../../report.js");
    const store = openStore();
    const out: unknown[] = [];
    let status = 0;
    for (const q of this.images) {
      const found = await findImage(store, q);
      if (found._tag === "Left") status = reportError(this.context.stderr, found.left);
      else out.push(await inspectView(store, found.right));
    }
    this.context.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    return status;
  }
}
