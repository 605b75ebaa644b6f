import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";
import { formatTable } from "../../table.js";

const COLUMNS = [
  ["CONTAINER ID", "ID"],
  ["NAME", "Name"],
  ["CPU %", "CPUPerc"],
  ["MEM USAGE / LIMIT", "MemUsage"],
  ["MEM %", "MemPerc"],
  ["NET I/O", "NetIO"],
  ["BLOCK I/O", "BlockIO"],
  ["PIDS", "PIDs"],
] as const;

export class StatsCommand extends NookCommand {
  static override paths = [["stats"], ["container", "stats"]];

  static override usage = Command.Usage({
    description: "show containers' CPU, memory, I/O and process counts",
    details: `
      From each container's cgroup, as docker stats prints them; a container without a cgroup (no
      cgroup manager on this host) shows -- for what only a cgroup knows. Refreshes every second until
      interrupted, or prints once with --no-stream.
    `,
    examples: [
      ["Every running container, once", "$0 stats --no-stream"],
      ["One, as JSON", "$0 stats --no-stream --format json web"],
    ],
  });

  noStream = Option.Boolean("--no-stream", false, { description: "print once and exit" });
  format = Option.String("--format", { description: "json: one object per line" });
  containers = Option.Rest({ name: "CONTAINER" });

  async run(): Promise<number> {
    if (this.format !== undefined && this.format !== "json")
      return this.fail(`--format takes json, not ${JSON.stringify(this.format)}`);
    const [{ statsTargets, sampleStats, statsCells }, { openStore }] = await Promise.all([
      import("../../../app/stats.js"),
      import("../../../app/images.js"),
    ]);
    const store = openStore();
    for (;;) {
      const targets = await statsTargets(store, this.containers);
      if (targets._tag === "Left") return this.settle(targets);
      const rows = (await sampleStats(targets.right, 1000)).map(statsCells);
      const text =
        this.format === "json"
          ? rows.map((r) => `${JSON.stringify(r)}\n`).join("")
          : formatTable(COLUMNS, rows);
      // A terminal gets the table redrawn in place, as docker stats does.
      const clear = !this.noStream && this.format !== "json" && process.stdout.isTTY ? "\x1b[2J\x1b[H" : "";
      this.context.stdout.write(clear + text);
      if (this.noStream) return 0;
    }
  }
}
