import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class LoadCommand extends NookCommand {
  static override paths = [["load"], ["image", "load"]];

  static override usage = Command.Usage({
    description: "load images from an archive",
    details: `
      Reads a docker save archive (from docker, podman or skopeo), an OCI layout packed as a tar
      (podman save --format oci-archive), or an OCI layout directory, from a file or stdin; plain or
      gzip. Every blob is checked against its digest and every layer against the diff id the image
      config gives it; layers already in the store are not unpacked again. Tags come from the
      archive: docker save's RepoTags, or an OCI layout's org.opencontainers.image.ref.name (a name
      without a registry gets localhost/, as podman load does). An index picks this host's platform.
    `,
    examples: [
      ["Load an archive docker save wrote", "$0 load -i busybox.tar"],
      ["Load from stdin", "docker save busybox | $0 load"],
      ["Load an OCI layout directory", "$0 load -i ./layout"],
    ],
  });

  input = Option.String("-i,--input", {
    description: "read from this archive or OCI layout directory, not stdin",
  });
  quiet = Option.Boolean("-q,--quiet", false, { description: "print only the Loaded image lines" });

  async run(): Promise<number> {
    const { insideUserns, reexecInUserns } = await import("../../app/in-userns.js");
    const { stdin, stdout } = this.context;
    if (!insideUserns()) {
      if (this.input === undefined && (stdin as { isTTY?: boolean }).isTTY === true)
        return this.fail(
          "requested load from stdin, but stdin is a terminal",
          "nook load -i FILE, or nook load < FILE",
        );
      // Layers get the image's owners through the subordinate ids: unpack as namespace root.
      return this.settle(await reexecInUserns(process.argv.slice(2)));
    }
    const [{ loadImage }, { splitTag }] = await Promise.all([
      import("../../app/load-image.js"),
      import("../../app/images.js"),
    ]);
    const tty = (stdout as { isTTY?: boolean }).isTTY === true;
    const short = (d: string): string => d.slice(7, 19);
    const events =
      tty && !this.quiet
        ? {
            layer: (d: string, status: "exists" | "loading" | "loaded") =>
              void stdout.write(
                status === "exists"
                  ? `${short(d)}: Already exists\n`
                  : status === "loading"
                    ? `${short(d)}: Loading layer\n`
                    : `${short(d)}: Loaded\n`,
              ),
          }
        : undefined;
    const loaded = await loadImage(this.input, stdin, events);
    if (loaded._tag === "Left") return this.settle(loaded);
    const familiar = (name: string): string => {
      const { repository, tag } = splitTag(name);
      return `${repository}:${tag}`;
    };
    for (const image of loaded.right) {
      for (const m of image.moved)
        stdout.write(
          `The image ${familiar(m.name)} already exists, renaming the old one with ID ${m.from} to empty string\n`,
        );
      if (image.tags.length === 0) stdout.write(`Loaded image ID: ${image.id}\n`);
      for (const t of image.tags) stdout.write(`Loaded image: ${familiar(t)}\n`);
    }
    return 0;
  }
}
