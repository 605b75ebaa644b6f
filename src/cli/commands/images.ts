import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class ImagesCommand extends NookCommand {
  static override paths = [["images"], ["image", "ls"], ["image", "list"]];

  static override usage = Command.Usage({
    description: "list the images in the store",
    details: `
      One row per tag (an image without tags shows <none>), newest first, as docker images does.
      SIZE is the image's unpacked size.
    `,
    examples: [
      ["List images", "$0 images"],
      ["Only the ids", "$0 images -q"],
      ["As JSON, one object per line", "$0 images --format json"],
    ],
  });

  quiet = Option.Boolean("-q,--quiet", false, { description: "print image ids only" });
  digests = Option.Boolean("--digests", false, { description: "show the manifest digest" });
  noTrunc = Option.Boolean("--no-trunc", false, { description: "print full image ids" });
  format = Option.String("--format", { description: "json: one JSON object per image and tag" });

  async run(): Promise<number> {
    const { listImages, openStore } = await import("../../app/images.js");
    const { imageRows, renderImages } = await import("../image-table.js");
    if (this.format !== undefined && this.format !== "json")
      return this.fail(`--format takes json, not ${JSON.stringify(this.format)}`);
    const listed = await listImages(openStore());
    if (listed._tag === "Left") return this.settle(listed);
    const rows = imageRows(listed.right, new Date());
    this.context.stdout.write(
      renderImages(rows, {
        quiet: this.quiet,
        digests: this.digests,
        noTrunc: this.noTrunc,
        json: this.format === "json",
      }),
    );
    return 0;
  }
}
