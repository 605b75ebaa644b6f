import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class TagCommand extends NookCommand {
  static override paths = [["tag"], ["image", "tag"]];

  static override usage = Command.Usage({
    description: "give an image another name",
    examples: [["Name busybox for a local registry", "$0 tag busybox 127.0.0.1:5000/busybox:1"]],
  });

  source = Option.String({ name: "SOURCE" });
  target = Option.String({ name: "TARGET" });

  async run(): Promise<number> {
    const { tagImage, openStore } = await import("../../app/images.js");
    const r = await tagImage(openStore(), this.source, this.target);
    return this.settle(r._tag === "Left" ? r : { _tag: "Right", right: 0 });
  }
}
