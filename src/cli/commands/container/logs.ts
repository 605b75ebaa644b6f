import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class LogsCommand extends NookCommand {
  static override paths = [["logs"], ["container", "logs"]];

  static override usage = Command.Usage({
    description: "show what a detached container printed",
    details: `
      The container's stdout goes to stdout and its stderr to stderr, line by line, from the log its
      monitor keeps (a foreground container's output went to your terminal and is not logged).
    `,
    examples: [
      ["The last 10 lines, with times", "$0 logs --tail 10 -t web"],
      ["Follow until the container ends", "$0 logs -f web"],
    ],
  });

  follow = Option.Boolean("-f,--follow", false, { description: "keep printing until the container ends" });
  tail = Option.String("-n,--tail", { description: "only the last N lines (all: every line)" });
  timestamps = Option.Boolean("-t,--timestamps", false, { description: "each line's time first" });
  since = Option.String("--since", {
    description: "lines after a time (RFC 3339, Unix) or a duration ago (10m)",
  });
  container = Option.String({ name: "CONTAINER" });

  async run(): Promise<number> {
    if (this.tail !== undefined && this.tail !== "all" && !/^\d+$/.test(this.tail))
      return this.fail(`--tail takes a number of lines or all, not ${this.tail}`);
    const { showLogs, parseSince } = await import("../../../app/logs.js");
    const since = this.since !== undefined ? parseSince(this.since, new Date()) : undefined;
    if (this.since !== undefined && since === undefined)
      return this.fail(
        `--since takes a time (2026-01-02T15:04:05Z, a Unix time) or a duration (10m), not ${this.since}`,
      );
    const { openStore } = await import("../../../app/images.js");
    const r = await showLogs(
      openStore(),
      this.container,
      {
        follow: this.follow,
        timestamps: this.timestamps,
        ...(this.tail !== undefined && this.tail !== "all" ? { tail: Number(this.tail) } : {}),
        ...(since ? { since } : {}),
      },
      (line, text) => (line.stream === "stderr" ? this.context.stderr : this.context.stdout).write(text),
    );
    return this.settle(r._tag === "Left" ? r : { _tag: "Right", right: 0 });
  }
}
