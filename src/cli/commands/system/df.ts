import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class SystemDfCommand extends NookCommand {
  static override paths = [["system", "df"]];

  static override usage = Command.Usage({
    description: "show the disk space the store uses",
    details: `
      Docker's table: images (their layers' unpacked size, a layer shared by several images counted
      once), containers, volumes and build cache (none of which nook has yet). RECLAIMABLE is what
      nook image prune -a would free.
    `,
    examples: [
      ["Show disk usage", "$0 system df"],
      ["As JSON, one object per line", "$0 system df --format json"],
    ],
  });

  format = Option.String("--format", { description: "json: one JSON object per row" });

  async run(): Promise<number> {
    if (this.format !== undefined && this.format !== "json")
      return this.fail(`--format takes json, not ${JSON.stringify(this.format)}`);
    const [{ diskUsage }, { openStore }, { renderDiskUsage }] = await Promise.all([
      import("../../../app/disk-usage.js"),
      import("../../../app/images.js"),
      import("../../disk-usage.js"),
    ]);
    const usage = await diskUsage(openStore());
    if (usage._tag === "Left") return this.settle(usage);
    this.context.stdout.write(renderDiskUsage(usage.right, this.format === "json"));
    return 0;
  }
}
