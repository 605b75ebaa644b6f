import { Command } from "clipanion";
import { ContainerOptions } from "../container-options.js";

export class CreateCommand extends ContainerOptions {
  static override paths = [["create"], ["container", "create"]];

  static override usage = Command.Usage({
    description: "create a container without starting it",
    details: `
      Makes the container nook run would run, takes the same flags, and prints its id; nook start
      runs it, detached, under a monitor of its own.
    `,
    examples: [["Create, then start", "$0 create --name web busybox httpd -f\n$ $0 start web"]],
  });

  async run(): Promise<number> {
    const req = this.request();
    if (typeof req === "string") return this.fail(req);
    const { createContainer } = await import("../../app/run.js");
    const made = await createContainer(req, true);
    if (made._tag === "Left") return this.settle(made);
    this.context.stdout.write(`${made.right.record.id}\n`);
    return 0;
  }
}
