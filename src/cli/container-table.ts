// nook ps's output: Docker's table (CONTAINER ID, IMAGE, COMMAND, CREATED,
// STATUS, PORTS, NAMES), -q ids, or --format json (one object per line with
// Docker's keys).
import type { ContainerView } from "../app/containers.js";
import { ago, statusText } from "../runtime/state.js";
import { formatTable } from "./table.js";

const quoteCommand = (argv: readonly string[], noTrunc: boolean): string => {
  const text = argv.join(" ");
  return `"${noTrunc || text.length <= 20 ? text : `${text.slice(0, 19)}…`}"`;
};

/** Docker's State: created, running, exited, removing. */
const row = (v: ContainerView, now: Date, noTrunc: boolean): Record<string, string> => ({
  ID: noTrunc ? v.record.id : v.record.id.slice(0, 12),
  Image: v.record.image,
  Command: quoteCommand(v.record.argv, noTrunc),
  CreatedAt: v.record.created,
  RunningFor: `${ago(v.record.created, now)} ago`,
  Status: statusText(v, now),
  State: v.status,
  Ports: "",
  Names: v.record.name,
});

export const containerTable = (
  views: readonly ContainerView[],
  o: { quiet: boolean; noTrunc: boolean; json: boolean },
  now = new Date(),
): string => {
  if (o.quiet) return views.map((v) => `${o.noTrunc ? v.record.id : v.record.id.slice(0, 12)}\n`).join("");
  const rows = views.map((v) => row(v, now, o.noTrunc));
  if (o.json) return rows.map((r) => `${JSON.stringify(r)}\n`).join("");
  const cols: [string, string][] = [
    ["CONTAINER ID", "ID"],
    ["IMAGE", "Image"],
    ["COMMAND", "Command"],
    ["CREATED", "RunningFor"],
    ["STATUS", "Status"],
    ["PORTS", "Ports"],
    ["NAMES", "Names"],
  ];
  return formatTable(cols, rows);
};
