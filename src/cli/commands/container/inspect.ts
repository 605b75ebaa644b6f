import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class InspectCommand extends NookCommand {
  static override paths = [["inspect"], ["container", "inspect"]];

  static override usage = Command.Usage({
    description: "show containers' (or images') details as JSON",
    details: `
      Prints a JSON array with one object per container, in the shape docker inspect gives; a name
      that is no container is looked up as an image, as docker inspect does.
    `,
    examples: [["A container's state", "$0 inspect web"]],
  });

  items = Option.Rest({ required: 1, name: "CONTAINER|IMAGE" });

  async run(): Promise<number> {
    const [{ findContainer }, { inspectContainer }, { findImage, inspectView, openStore }, { reportError }] =
      await Promise.all([
        import("../../../app/containers.js"),
        import("../../../app/container-inspect.js"),
        import("../../../app/images.js"),
        import("../../report.js"),
      ]);
    const store = openStore();
    const out: unknown[] = [];
    let status = 0;
    for (const q of this.items) {
      const c = await findContainer(store, q);
      if (c._tag === "Right") {
        out.push(inspectContainer(c.right));
        continue;
      }
      const image = c.left._tag === "ContainerUnknown" ? await findImage(store, q) : undefined;
      if (image?._tag === "Right") out.push(await inspectView(store, image.right));
      else {
        reportError(
          this.context.stderr,
          c.left._tag === "ContainerUnknown" ? { ...c.left, message: `no such object: ${q}` } : c.left,
        );
        status = 1;
      }
    }
    this.context.stdout.write(`${JSON.stringify(out, null, 4)}\n`);
    return status;
  }
}
