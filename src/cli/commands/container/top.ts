import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class TopCommand extends NookCommand {
  static override paths = [["top"], ["container", "top"]];

  static override usage = Command.Usage({
    description: "list a running container's processes",
    details: "Host pids and uids, as docker top shows them.",
    examples: [["Processes of web", "$0 top web"]],
  });

  container = Option.String({ name: "CONTAINER" });

  async run(): Promise<number> {
    const [{ containerTop }, { openStore }] = await Promise.all([
      import("../../../app/top.js"),
      import("../../../app/images.js"),
    ]);
    const rows = await containerTop(openStore(), this.container);
    if (rows._tag === "Left") return this.settle(rows);
    const cells = [
      ["UID", "PID", "PPID", "CMD"],
      ...rows.right.map((r) => [String(r.uid), String(r.pid), String(r.ppid), r.command]),
    ];
    const widths = [0, 1, 2].map((i) => Math.max(...cells.map((c) => (c[i] ?? "").length)));
    for (const c of cells)
      this.context.stdout.write(
        `${c.map((x, i) => (i < 3 ? x.padEnd((widths[i] ?? 0) + 3) : x)).join("")}\n`,
      );
    return 0;
  }
}
