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

/**
 * The subid service in nsswitch.conf(5) ("subid: sss"), or undefined when it
 * names none or only files: then /etc/subuid and /etc/subgid are the source.
 * shadow reads only the first service named.
 */
export const nssSubidService = (nsswitch: string): string | undefined => {
  const line = nsswitch.split("\n").find((l) => /^\s*subid\s*:/.test(l));
  const service = line?.replace(/#.*/, "").split(":")[1]?.trim().split(/\s+/)[0];
  return service && service !== "files" ? service : undefined;
};

/** getsubids(1)'s output, "0: alice 100000 65536" a line, as ranges. */
export const parseGetsubids = (text: string): IdRange[] =>
  text
    .split("\n")
    .map((l) => /^\d+:\s+\S+\s+(\d+)\s+(\d+)\s*$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ start: Number(m[1]), count: Number(m[2]) }))
    .filter((r) => r.count > 0 && r.start + r.count - 1 <= MAX_ID);

export interface SubidSource {
  readonly uids: IdRange[];
  readonly gids: IdRange[];
  /** "/etc/subuid and /etc/subgid", or "NSS (sss) through getsubids". */
  readonly from: string;
}

/**
 * The user's ranges: from the files, or, when the files have none and
 * nsswitch.conf names a subid service (SSSD, FreeIPA), from that service
 * through getsubids(1), as newuidmap itself would find them.
 */
export const subidSource = async (owner: Owner): Promise<SubidSource> => {
  const [uids, gids] = await Promise.all([
    readRanges("/etc/subuid", owner),
    readRanges("/etc/subgid", owner),
  ]);
  const files = { uids, gids, from: "/etc/subuid and /etc/subgid" };
  if (uids.length > 0 || gids.length > 0 || owner.name === undefined) return files;
  const { readFile } = await import("node:fs/promises");
  const service = nssSubidService(await readFile("/etc/nsswitch.conf", "utf8").catch(() => ""));
  if (service === undefined) return files;
  const { execFile } = await import("node:child_process");
  const ask = (args: string[]): Promise<IdRange[]> =>
    new Promise((resolve) =>
      execFile("getsubids", args, { encoding: "utf8", timeout: 10_000 }, (err, stdout) =>
        resolve(err ? [] : parseGetsubids(stdout)),
      ),
    );
  const [nssUids, nssGids] = await Promise.all([ask([owner.name]), ask(["-g", owner.name])]);
  return { uids: nssUids, gids: nssGids, from: `NSS (${service}) through getsubids` };
};
