import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class RmiCommand extends NookCommand {
  static override paths = [["rmi"], ["image", "rm"]];

  static override usage = Command.Usage({
    description: "remove images",
    details: `
      A name removes that tag, and the image with its last tag; an id removes the image (refused when
      several tags name it, unless -f). Layers are removed with the last image that uses them.
    `,
    examples: [
      ["Remove a tag (and the image if it was the last)", "$0 rmi busybox"],
      ["Remove an image by id, whatever names it", "$0 rmi -f 3f4a9c2b1d0e"],
    ],
  });

  force = Option.Boolean("-f,--force", false, {
    description: "remove the image even when several tags name it",
  });
  images = Option.Rest({ required: 1, name: "IMAGE" });

  async run(): Promise<number> {
    const [{ removeImages, openStore }, { insideUserns, reexecInUserns }, { reportError }] =
      await Promise.all([
        import("../../app/images.js"),
        import("../../app/in-userns.js"),
        import("../report.js"),
      ]);
    // Layer files belong to subordinate ids: only namespace root can remove them.
    if (!insideUserns()) return this.settle(await reexecInUserns(process.argv.slice(2)));
    const { report, errors } = await removeImages(openStore(), this.images, this.force);
    for (const u of report.untagged) this.context.stdout.write(`Untagged: ${u}\n`);
    for (const d of report.deleted) this.context.stdout.write(`Deleted: ${d}\n`);
    let status = 0;
    for (const e of errors) status = reportError(this.context.stderr, e) || status;
    return errors.length > 0 ? (errors.every((e) => e._tag === "ImageUnknown") ? 1 : 125) : status;
  }
}
