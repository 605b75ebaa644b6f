// docker images' output: the table, -q, --digests, --no-trunc, and
// --format json (one object per line with Docker's keys).
import type { ImageView } from "../app/images.js";
import { splitTag } from "../app/images.js";
import { humanSize } from "./pull-progress.js";

export interface ImageRow {
  readonly repository: string;
  readonly tag: string;
  readonly id: string;
  readonly digest: string;
  readonly created: string;
  readonly createdSince: string;
  readonly size: number;
}

/** "3 days ago", "About an hour ago", as Docker words it. */
export const since = (iso: string | undefined, now: Date): string => {
  if (!iso) return "N/A";
  const secs = Math.max(0, (now.getTime() - new Date(iso).getTime()) / 1000);
  if (Number.isNaN(secs)) return "N/A";
  const steps: [number, string][] = [
    [60 * 60 * 24 * 365, "year"],
    [60 * 60 * 24 * 30, "month"],
    [60 * 60 * 24 * 7, "week"],
    [60 * 60 * 24, "day"],
    [60 * 60, "hour"],
    [60, "minute"],
  ];
  for (const [n, unit] of steps) {
    const k = Math.floor(secs / n);
    if (k >= 2) return `${k} ${unit}s ago`;
    if (k === 1) return unit === "hour" ? "About an hour ago" : `1 ${unit} ago`;
  }
  return secs < 1 ? "Less than a second ago" : `${Math.floor(secs)} seconds ago`;
};

export const imageRows = (views: readonly ImageView[], now: Date): ImageRow[] =>
  views.flatMap((v) => {
    const base = {
      id: v.record.id,
      digest: v.record.manifestDigest,
      created: v.record.created ?? "",
      createdSince: since(v.record.created, now),
      size: v.size,
    };
    if (v.tags.length === 0) return [{ ...base, repository: "<none>", tag: "<none>" }];
    return v.tags.map((t) => ({ ...base, ...splitTag(t) }));
  });

const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join("")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
};

export const renderImages = (
  rows: readonly ImageRow[],
  o: { quiet: boolean; digests: boolean; noTrunc: boolean; json: boolean },
): string => {
  const shortId = (id: string): string => (o.noTrunc ? id : id.slice(7, 19));
  if (o.quiet) return [...new Set(rows.map((r) => shortId(r.id)))].map((id) => `${id}\n`).join("");
  if (o.json)
    return rows
      .map(
        (r) =>
          `${JSON.stringify({
            Containers: "N/A",
            CreatedAt: r.created,
            CreatedSince: r.createdSince,
            Digest: r.digest,
            ID: shortId(r.id),
            Repository: r.repository,
            SharedSize: "N/A",
            Size: humanSize(r.size),
            Tag: r.tag,
            UniqueSize: "N/A",
            VirtualSize: humanSize(r.size),
          })}\n`,
      )
      .join("");
  const header = ["REPOSITORY", "TAG", ...(o.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"];
  return table(
    header,
    rows.map((r) => [
      r.repository,
      r.tag,
      ...(o.digests ? [r.digest] : []),
      shortId(r.id),
      r.createdSince,
      humanSize(r.size),
    ]),
  );
};
