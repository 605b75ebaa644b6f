// Subordinate id ranges from /etc/subuid and /etc/subgid (subuid(5)): lines of
// "owner:start:count", where owner is a login name or a numeric uid. A user
// may own several ranges; all of them are mapped, in file order, as
// newuidmap(1) checks each requested range against the same file.

export interface IdRange {
  readonly start: number;
  readonly count: number;
}

export interface Owner {
  readonly name: string | undefined;
  readonly id: number;
}

const MAX_ID = 2 ** 32 - 1;

const parseLine = (line: string): { owner: string; range: IdRange } | undefined => {
  const fields = line.split(":");
  if (fields.length !== 3) return undefined;
  const [owner, start, count] = fields as [string, string, string];
  if (owner === "" || !/^\d+$/.test(start) || !/^\d+$/.test(count)) return undefined;
  const range = { start: Number(start), count: Number(count) };
  if (range.count === 0 || range.start + range.count - 1 > MAX_ID) return undefined;
  return { owner, range };
};

/** The ranges in a subuid/subgid file's text that belong to `owner`. Malformed lines are ignored, as shadow does. */
export const rangesFor = (text: string, owner: Owner): IdRange[] =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map(parseLine)
    .filter((e): e is { owner: string; range: IdRange } => e !== undefined)
    .filter((e) => e.owner === owner.name || e.owner === String(owner.id))
    .map((e) => e.range);

/** Reads a subordinate id file; a missing file holds no ranges. */
export const readRanges = async (file: string, owner: Owner): Promise<IdRange[]> => {
  const { readFile } = await import("node:fs/promises");
  try {
    return rangesFor(await readFile(file, "utf8"), owner);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
};
