// What file system a path is on, from statfs(2) (Node's fs.statfsSync), and
// whether it is a network or cluster file system: those cannot hold files of
// subordinate uids (the server sees only the user's) nor overlay upper dirs
// reliably, as Podman's and Apptainer's documentation warn.
import { statfsSync } from "node:fs";
import { dirname } from "node:path";

/** statfs f_type values (linux/magic.h, and each file system's own header for the out-of-tree ones). */
const FS_TYPES: Readonly<Record<number, string>> = {
  0xef53: "ext4",
  0x58465342: "xfs",
  0x9123683e: "btrfs",
  0x01021994: "tmpfs",
  0x794c7630: "overlay",
  0x65735546: "fuse",
  0x2fc12fc1: "zfs",
  0x63677270: "cgroup2",
  0x27e0eb: "cgroup",
  0xe0f5e1e2: "erofs",
  0x73717368: "squashfs",
  0x6969: "nfs",
  0x0bd00bd0: "lustre",
  0x47504653: "gpfs",
  0x19830326: "beegfs",
  0xff534d42: "cifs",
  0xfe534d42: "smb2",
  0x00c36400: "ceph",
  0x5346414f: "afs",
  0x01161970: "gfs2",
  0x7461636f: "ocfs2",
};

/** The network and cluster file systems (the list, and their close relatives). */
const NETWORK: ReadonlySet<string> = new Set([
  "nfs",
  "lustre",
  "gpfs",
  "beegfs",
  "cifs",
  "smb2",
  "ceph",
  "afs",
  "gfs2",
  "ocfs2",
]);

export interface FsStat {
  /** The path statfs was called on: the given one, or its nearest existing parent. */
  readonly path: string;
  readonly type: string;
  readonly network: boolean;
  readonly freeBytes: number;
  readonly totalBytes: number;
  readonly freeInodes: number;
  readonly totalInodes: number;
}

export type StatFsFn = (path: string) => {
  type: number;
  bsize: number;
  blocks: number;
  bavail: number;
  files: number;
  ffree: number;
};

export const fsTypeName = (magic: number): string => FS_TYPES[magic] ?? `0x${magic.toString(16)}`;

export const isNetworkFs = (type: string): boolean => NETWORK.has(type);

/**
 * statfs of `path`, or of its nearest existing parent when it does not exist
 * yet (a store about to be made lands on its parent's file system).
 * Undefined when not even / answers.
 */
export const statFs = (path: string, statfs: StatFsFn = statfsSync): FsStat | undefined => {
  for (let p = path; ; p = dirname(p)) {
    try {
      const s = statfs(p);
      const type = fsTypeName(s.type);
      return {
        path: p,
        type,
        network: isNetworkFs(type),
        freeBytes: s.bavail * s.bsize,
        totalBytes: s.blocks * s.bsize,
        freeInodes: s.ffree,
        totalInodes: s.files,
      };
    } catch {
      if (p === dirname(p)) return undefined;
    }
  }
};
