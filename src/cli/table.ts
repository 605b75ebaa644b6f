// Docker's table layout: a header of column names, cells padded to the widest
// of their column plus three spaces, the last column unpadded.
export const formatTable = (
  cols: readonly (readonly [header: string, key: string])[],
  rows: readonly Record<string, string>[],
): string => {
  const widths = cols.map(([h, k]) => Math.max(h.length, ...rows.map((r) => (r[k] ?? "").length)));
  const line = (cells: string[]): string =>
    `${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join("")}\n`;
  return line(cols.map(([h]) => h)) + rows.map((r) => line(cols.map(([, k]) => r[k] ?? ""))).join("");
};
