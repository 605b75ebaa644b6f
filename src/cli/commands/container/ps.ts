import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class PsCommand extends NookCommand {
  static override paths = [["ps"], ["container", "ls"], ["container", "list"]];

  static override usage = Command.Usage({
    description: "list containers",
    details: `
      Running containers, or all with -a. A container whose monitor died (killed, or a reboot) is
      shown as exited, never as running, and its exit is recorded then.
    `,
    examples: [
      ["All containers", "$0 ps -a"],
      ["Ids of exited containers", "$0 ps -aq --filter status=exited"],
      ["As JSON, one object per line", "$0 ps -a --format json"],
    ],
  });

  all = Option.Boolean("-a,--all", false, { description: "all containers, not only running ones" });
  quiet = Option.Boolean("-q,--quiet", false, { description: "ids only" });
  noTrunc = Option.Boolean("--no-trunc", false, { description: "whole ids and commands" });
  filter = Option.Array("-f,--filter", [], { description: "name=NAME, id=PREFIX or status=STATUS" });
  format = Option.String("--format", { description: "json: one JSON object per container" });

  async run(): Promise<number> {
    if (this.format !== undefined && this.format !== "json")
      return this.fail(`--format takes json, not ${JSON.stringify(this.format)}`);
    const filters: [string, string][] = [];
    for (const f of this.filter ?? []) {
      const eq = f.indexOf("=");
      const key = f.slice(0, eq);
      if (eq < 0 || !["name", "id", "status"].includes(key))
        return this.fail(`--filter ${f}: this nook filters by name=, id= and status=`);
      filters.push([key, f.slice(eq + 1)]);
    }
    const [{ listContainers }, { openStore }, { containerTable }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
      import("../../container-table.js"),
    ]);
    const views = (await listContainers(openStore())).filter(
      (v) =>
        (this.all || v.status === "running" || filters.some(([k]) => k === "status")) &&
        filters.every(([k, want]) =>
          k === "name"
            ? v.record.name.includes(want)
            : k === "id"
              ? v.record.id.startsWith(want)
              : v.status === want,
        ),
    );
    this.context.stdout.write(
      containerTable(views, { quiet: this.quiet, noTrunc: this.noTrunc, json: this.format === "json" }),
    );
    return 0;
  }
}
