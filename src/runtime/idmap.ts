// Which id mapping a user namespace gets: pure policy, decided from who the
// user is and which subordinate ranges they own.
//
//  - "subid": container root is the user (like Podman), ids 1.. are the
//    user's /etc/subuid and /etc/subgid ranges. Needs the setuid helpers
//    newuidmap/newgidmap, which check the ranges against those files.
//  - "single": only the user's own uid/gid, as root inside. What an
//    unprivileged process may write itself (user_namespaces(7)); the common
//    case on HPC login nodes that have no subordinate ranges. setgroups(2) is
//    denied in the namespace, as the kernel requires for this map.
//  - "root": nook run by root maps the whole id space onto itself.
import type { IdRange } from "./subid.js";

/** One line of /proc/PID/uid_map: `inside` .. `inside+count-1` -> `outside` ... */
export interface IdMapEntry {
  readonly inside: number;
  readonly outside: number;
  readonly count: number;
}

export type IdMapPlan =
  | { readonly kind: "subid"; readonly uids: IdMapEntry[]; readonly gids: IdMapEntry[] }
  | { readonly kind: "single"; readonly uids: IdMapEntry[]; readonly gids: IdMapEntry[] }
  | { readonly kind: "root"; readonly uids: IdMapEntry[]; readonly gids: IdMapEntry[] };

export interface Identity {
  readonly uid: number;
  readonly gid: number;
}

export type IdMapPlanError =
  | { readonly _tag: "SubgidMissing"; readonly message: string; readonly hint: string }
  | { readonly _tag: "SubuidMissing"; readonly message: string; readonly hint: string };

const stack = (self: number, ranges: readonly IdRange[]): IdMapEntry[] => {
  const entries: IdMapEntry[] = [{ inside: 0, outside: self, count: 1 }];
  let next = 1;
  for (const r of ranges) {
    entries.push({ inside: next, outside: r.start, count: r.count });
    next += r.count;
  }
  return entries;
};

const FULL: IdMapEntry[] = [{ inside: 0, outside: 0, count: 2 ** 32 - 1 }];

export const planIdMap = (
  who: Identity & { readonly name: string | undefined },
  subuids: readonly IdRange[],
  subgids: readonly IdRange[],
): { plan: IdMapPlan } | { error: IdMapPlanError } => {
  if (who.uid === 0) return { plan: { kind: "root", uids: FULL, gids: FULL } };
  const label = who.name ?? String(who.uid);
  if (subuids.length > 0 && subgids.length === 0)
    return {
      error: {
        _tag: "SubgidMissing",
        message: `${label} has ranges in /etc/subuid but none in /etc/subgid`,
        hint: `ask an administrator to give ${label} a range of its own in /etc/subgid (usermod --add-subgids FIRST-LAST ${label})`,
      },
    };
  if (subgids.length > 0 && subuids.length === 0)
    return {
      error: {
        _tag: "SubuidMissing",
        message: `${label} has ranges in /etc/subgid but none in /etc/subuid`,
        hint: `ask an administrator to give ${label} a range of its own in /etc/subuid (usermod --add-subuids FIRST-LAST ${label})`,
      },
    };
  if (subuids.length === 0)
    return {
      plan: {
        kind: "single",
        uids: [{ inside: 0, outside: who.uid, count: 1 }],
        gids: [{ inside: 0, outside: who.gid, count: 1 }],
      },
    };
  return { plan: { kind: "subid", uids: stack(who.uid, subuids), gids: stack(who.gid, subgids) } };
};

/** Text for /proc/PID/uid_map (or gid_map). */
export const mapFileText = (entries: readonly IdMapEntry[]): string =>
  entries.map((e) => `${e.inside} ${e.outside} ${e.count}\n`).join("");

/** Arguments after the pid for newuidmap(1)/newgidmap(1): triples inside outside count. */
export const newidmapArgs = (pid: number, entries: readonly IdMapEntry[]): string[] => [
  String(pid),
  ...entries.flatMap((e) => [String(e.inside), String(e.outside), String(e.count)]),
];

/** Whether `id` has a number inside the namespace. */
export const mapsInside = (entries: readonly IdMapEntry[], id: number): boolean =>
  entries.some((e) => id >= e.inside && id < e.inside + e.count);

/**
 * One id map rearranged so that the user's own id keeps its number inside
 * (Podman's --userns=keep-id): the subordinate ids that the plain map puts at
 * 1..self fill 0..self-1, the user's own id is `self`, the rest stay put.
 */
const keepIdEntries = (entries: readonly IdMapEntry[], self: number, outside: number): IdMapEntry[] => {
  const out: IdMapEntry[] = [];
  for (const e of entries) {
    if (e.outside === outside && e.inside === 0 && e.count === 1) continue;
    const end = e.inside + e.count;
    const below = Math.min(end, self + 1) - e.inside;
    if (below > 0) out.push({ inside: e.inside - 1, outside: e.outside, count: below });
    if (end > self + 1) {
      const from = Math.max(e.inside, self + 1);
      out.push({ inside: from, outside: e.outside + (from - e.inside), count: end - from });
    }
  }
  out.push({ inside: self, outside, count: 1 });
  return out.sort((a, b) => a.inside - b.inside);
};

/**
 * The plan for --userns=keep-id: the user is `who` inside as outside. Root's
 * map is the identity already; a single-id map just moves the one id.
 */
export const keepIdPlan = (plan: IdMapPlan, who: Identity): IdMapPlan => {
  switch (plan.kind) {
    case "root":
      return plan;
    case "single":
      return {
        kind: "single",
        uids: [{ inside: who.uid, outside: who.uid, count: 1 }],
        gids: [{ inside: who.gid, outside: who.gid, count: 1 }],
      };
    case "subid":
      return {
        kind: "subid",
        uids: keepIdEntries(plan.uids, who.uid, who.uid),
        gids: keepIdEntries(plan.gids, who.gid, who.gid),
      };
  }
};

/**
 * How a file's owner on disk, as a namespace mapped by `seen` sees it, becomes
 * the owner the image gave it (the ids of the map `stored` that the layers
 * were unpacked under): fuse-overlayfs's uidmapping/gidmapping, entries
 * "image id : id seen : count". Ids that only one of the maps has are left out
 * (fuse-overlayfs shows them as the overflow id).
 */
export const translateIds = (stored: readonly IdMapEntry[], seen: readonly IdMapEntry[]): IdMapEntry[] => {
  const out: IdMapEntry[] = [];
  for (const s of stored)
    for (const k of seen) {
      const from = Math.max(s.outside, k.outside);
      const to = Math.min(s.outside + s.count, k.outside + k.count);
      if (to > from)
        out.push({
          inside: s.inside + (from - s.outside),
          outside: k.inside + (from - k.outside),
          count: to - from,
        });
    }
  return out.sort((a, b) => a.inside - b.inside);
};

/**
 * fuse-overlayfs's form of a translation: triples "id seen : id shown : count",
 * all joined by colons (its read_mappings: the first number is the one it
 * finds on disk, the second the one it reports).
 */
export const fuseMappingText = (entries: readonly IdMapEntry[]): string =>
  entries.map((e) => `${e.outside}:${e.inside}:${e.count}`).join(":");
