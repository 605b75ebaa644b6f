import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

const FORMATS = ["docker-archive", "oci-archive"] as const;
type Format = (typeof FORMATS)[number];
const isFormat = (s: string): s is Format => (FORMATS as readonly string[]).includes(s);

export class SaveCommand extends NookCommand {
  static override paths = [["save"], ["image", "save"]];

  static override usage = Command.Usage({
    description: "write images to an archive",
    details: `
      Writes the images as docker save does (docker-archive, the default) or as
      podman save --format oci-archive does, to a file or to stdout. nook keeps layers unpacked, so
      each layer is packed again: its digest, and with it the image id in the archive, differs from
      the original's (the image's config and files are the same). A name saves that tag; an id
      saves the image without tags.
    `,
    examples: [
      ["Save busybox to a file", "$0 save -o busybox.tar busybox"],
      ["As an OCI archive", "$0 save --format oci-archive -o busybox.tar busybox"],
      ["Through a pipe", "$0 save busybox | gzip > busybox.tar.gz"],
    ],
  });

  output = Option.String("-o,--output", { description: "write to this file, not stdout" });
  format = Option.String("--format", "docker-archive", { description: "docker-archive or oci-archive" });
  images = Option.Rest({ required: 1, name: "IMAGE" });

  async run(): Promise<number> {
    const format = this.format;
    if (!isFormat(format))
      return this.fail(`--format takes ${FORMATS.join(" or ")}, not ${JSON.stringify(format)}`);
    const { stdout } = this.context;
    if (this.output === undefined && (stdout as { isTTY?: boolean }).isTTY === true)
      return this.fail(
        "cowardly refusing to save to a terminal; use the -o flag or redirect",
        `nook save -o FILE ${this.images.join(" ")}`,
      );
    const { insideUserns, reexecInUserns } = await import("../../app/in-userns.js");
    // Layer files have the image's owners only inside the user namespace.
    if (!insideUserns()) return this.settle(await reexecInUserns(process.argv.slice(2)));
    const [{ saveImages }, { openStore }] = await Promise.all([
      import("../../app/save.js"),
      import("../../app/images.js"),
    ]);
    const target =
      this.output === undefined
        ? { kind: "stream" as const, out: stdout as NodeJS.WritableStream as import("node:stream").Writable }
        : { kind: "file" as const, path: this.output };
    const saved = await saveImages(openStore(), { images: this.images, format }, target);
    return this.settle(saved._tag === "Left" ? saved : { _tag: "Right", right: 0 });
  }
}
