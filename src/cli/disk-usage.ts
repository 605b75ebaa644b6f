// docker system df's table and its --format json lines, and the sizes as
// Docker prints them there and in prune's summary (go-units HumanSize: four
// significant digits, decimal units).
import type { UsageRow } from "../app/disk-usage.js";

export const humanSize4 = (n: number): string => {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(4))}${units[u]}`;
};

/** "11.63MB (70%)", or "0B" when there is nothing (docker's formatter). */
const reclaimable = (r: UsageRow): string =>
  r.size > 0
    ? `${humanSize4(r.reclaimable)} (${Math.trunc((r.reclaimable * 100) / r.size)}%)`
    : humanSize4(r.reclaimable);

const cells = (r: UsageRow): string[] => [
  r.type,
  String(r.total),
  String(r.active),
  humanSize4(r.size),
  reclaimable(r),
];

/** Go's tabwriter as docker's formatter sets it up: cells at least 10 wide, 3 spaces of padding. */
const table = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(10, ...rows.map((r) => (r[i] ?? "").length + 3)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(""))
    .join("\n")
    .concat("\n");
};

export const renderDiskUsage = (rows: readonly UsageRow[], json: boolean): string => {
  if (json)
    return rows
      .map((r) => {
        const [type, total, active, size, reclaim] = cells(r);
        return `${JSON.stringify({ Active: active, Reclaimable: reclaim, Size: size, TotalCount: total, Type: type })}\n`;
      })
      .join("");
  return table([["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], ...rows.map(cells)]);
};
