// Writing the id maps of a helper's user namespace (the "map me" step of the
// sync protocol). The plan comes from idmap.ts; this file carries it out:
// newuidmap/newgidmap for subordinate ranges, direct writes to /proc/PID/*_map
// for the single-id and root maps.
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import * as E from "fp-ts/lib/Either.js";
import * as TE from "fp-ts/lib/TaskEither.js";
import { pipe } from "fp-ts/lib/function.js";
import { errnoName } from "../lib/errors.js";
import { which } from "../lib/which.js";
import { getxattrSize } from "../sys/libc.js";
import { mapFileText, newidmapArgs, type IdMapEntry, type IdMapPlan } from "./idmap.js";

export type IdMapTool = "newuidmap" | "newgidmap";

export type IdMapError =
  | { readonly _tag: "IdMapToolMissing"; readonly message: string; readonly hint: string }
  | { readonly _tag: "IdMapToolNotPrivileged"; readonly message: string; readonly hint: string }
  | { readonly _tag: "IdMapToolFailed"; readonly message: string; readonly hint?: string }
  | { readonly _tag: "IdMapWriteFailed"; readonly message: string };

const INSTALL_HINT =
  "install it: apt-get install uidmap (Debian, Ubuntu), dnf install shadow-utils (Fedora, RHEL), " +
  "or use a user without /etc/subuid ranges for a single-id map";

/** Whether the kernel will let `path` write another process's id maps: setuid root, or file capabilities. */
const isPrivileged = async (path: string): Promise<boolean> => {
  const st = statSync(path);
  if (st.uid === 0 && (st.mode & 0o4000) !== 0) return true;
  try {
    return E.isRight(await getxattrSize(path, "security.capability"));
  } catch {
    // koffi unavailable: let the tool run and report what the kernel says.
    return true;
  }
};

/** Finds the tool in PATH and checks it can do its job, with a fix in the error. */
export const checkIdMapTool =
  (tool: IdMapTool): TE.TaskEither<IdMapError, string> =>
  async () => {
    const path = which(tool);
    if (path === undefined)
      return E.left({ _tag: "IdMapToolMissing", message: `${tool} not found in PATH`, hint: INSTALL_HINT });
    if (!(await isPrivileged(path)))
      return E.left({
        _tag: "IdMapToolNotPrivileged",
        message: `${path} is neither setuid root nor has file capabilities, so it cannot map subordinate ids`,
        hint: `as root: chmod u+s ${path} (or setcap cap_${tool === "newuidmap" ? "setuid" : "setgid"}+ep ${path}), or reinstall uidmap`,
      });
    return E.right(path);
  };

const runTool =
  (path: string, args: string[]): TE.TaskEither<IdMapError, void> =>
  () =>
    new Promise((resolve) => {
      execFile(path, args, { encoding: "utf8" }, (err, _stdout, stderr) => {
        if (!err) return resolve(E.right(undefined));
        const said = stderr.trim().split("\n").pop() || err.message;
        resolve(
          E.left({
            _tag: "IdMapToolFailed",
            message: `${path} ${args.join(" ")} failed: ${said}`,
            hint: "check that the ranges in /etc/subuid and /etc/subgid do not overlap another user's or each other",
          }),
        );
      });
    });

const writeMap = (pid: number, file: string, text: string): TE.TaskEither<IdMapError, void> =>
  TE.tryCatch(
    () => writeFile(`/proc/${pid}/${file}`, text),
    (e): IdMapError => {
      const errno = (e as NodeJS.ErrnoException).errno ?? 0;
      return {
        _tag: "IdMapWriteFailed",
        message: `write /proc/${pid}/${file}: ${(e as Error).message.replace(/^\w+: /, "")} (${errnoName(errno)})`,
      };
    },
  );

const viaTools = (pid: number, uids: IdMapEntry[], gids: IdMapEntry[]): TE.TaskEither<IdMapError, void> =>
  pipe(
    TE.Do,
    TE.bind("newuidmap", () => checkIdMapTool("newuidmap")),
    TE.bind("newgidmap", () => checkIdMapTool("newgidmap")),
    TE.chain(({ newuidmap, newgidmap }) =>
      TE.sequenceSeqArray([
        runTool(newuidmap, newidmapArgs(pid, uids)),
        runTool(newgidmap, newidmapArgs(pid, gids)),
      ]),
    ),
    TE.map(() => undefined),
  );

/** The kernel wants setgroups denied before an unprivileged gid_map write, and uid_map first is the usual order. */
const direct = (pid: number, plan: IdMapPlan): TE.TaskEither<IdMapError, void> =>
  pipe(
    plan.kind === "single" ? writeMap(pid, "setgroups", "deny") : TE.right(undefined),
    TE.chain(() => writeMap(pid, "uid_map", mapFileText(plan.uids))),
    TE.chain(() => writeMap(pid, "gid_map", mapFileText(plan.gids))),
  );

export const applyIdMap = (pid: number, plan: IdMapPlan): TE.TaskEither<IdMapError, void> =>
  plan.kind === "subid" ? viaTools(pid, plan.uids, plan.gids) : direct(pid, plan);
