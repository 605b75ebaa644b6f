// The OCI runtime's state under --root: one directory per container id,
// readable by any uid that can read the root (root calling `state` or
// `delete --force` for a user's container, as Slurm does). The status is
// derived from the files and the processes, never stored:
//   creating  meta.json only (the helper is setting up)
//   created   pid written by the monitor, exec.fifo still there (waiting for start)
//   running   exec.fifo consumed, pid 1 alive
//   stopped   exit written, or pid 1 gone
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as t from "io-ts";
import { decodeJson } from "../../lib/decode.js";
import { runtimeDir } from "../locations.js";
import * as E from "fp-ts/lib/Either.js";

export type OciStatus = "creating" | "created" | "running" | "stopped";

export const OciMeta = t.intersection([
  t.type({ id: t.string, bundle: t.string, created: t.string, owner: t.number, rootfs: t.string }),
  t.partial({ annotations: t.record(t.string, t.string) }),
]);
export type OciMeta = t.TypeOf<typeof OciMeta>;

const PidFile = t.type({ pid: t.number });
const ExitFile = t.type({ exitCode: t.number });

/** --root, else $XDG_RUNTIME_DIR/nook-runtime, else the private runtime dir's. */
export const defaultRoot = (env: NodeJS.ProcessEnv = process.env): E.Either<string, string> => {
  const xdg = env.XDG_RUNTIME_DIR;
  // Only a runtime directory of the user's own (never another user's, as under su or sudo).
  if (xdg && existsSync(xdg) && statSync(xdg).uid === process.getuid?.())
    return E.right(join(xdg, "nook-runtime"));
  const rt = runtimeDir();
  return E.isLeft(rt) ? E.left(rt.left.message) : E.right(join(rt.right, "runtime"));
};

const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

export const checkId = (id: string): E.Either<string, string> =>
  ID.test(id) && id.length <= 1024 ? E.right(id) : E.left(`invalid container id format: ${id}`);

const readJson = <A>(file: string, codec: t.Type<A>): A | undefined => {
  try {
    const r = decodeJson(codec, file)(readFileSync(file, "utf8"));
    return E.isRight(r) ? r.right : undefined;
  } catch {
    return undefined;
  }
};

/** A live process that is not a zombie. */
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

export class OciRoot {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), "exec.fifo");
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir(id), "meta.json"));
  }

  /** Makes the container's directory; fails when the id is taken. */
  make(meta: OciMeta): E.Either<string, string> {
    mkdirSync(this.root, { recursive: true, mode: 0o711 });
    const dir = this.dir(meta.id);
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch {
      return E.left(`container with id ${meta.id} already exists`);
    }
    writeFileSync(join(dir, "meta.json"), JSON.stringify(meta), { mode: 0o644 });
    return E.right(dir);
  }

  meta(id: string): OciMeta | undefined {
    return readJson(join(this.dir(id), "meta.json"), OciMeta);
  }

  pid(id: string): number | undefined {
    return readJson(join(this.dir(id), "pid"), PidFile)?.pid;
  }

  exitCode(id: string): number | undefined {
    return readJson(join(this.dir(id), "exit"), ExitFile)?.exitCode;
  }

  status(id: string): OciStatus {
    const pid = this.pid(id);
    if (pid === undefined) return existsSync(join(this.dir(id), "exit")) ? "stopped" : "creating";
    if (this.exitCode(id) !== undefined || !alive(pid)) return "stopped";
    return existsSync(this.fifo(id)) ? "created" : "running";
  }

  /** The runtime-spec state of a container. */
  state(id: string): Record<string, unknown> | undefined {
    const meta = this.meta(id);
    if (!meta) return undefined;
    const status = this.status(id);
    const pid = this.pid(id);
    return {
      ociVersion: "1.0.2",
      id,
      status,
      ...(pid !== undefined && status !== "stopped" ? { pid } : { pid: 0 }),
      bundle: meta.bundle,
      rootfs: meta.rootfs,
      created: meta.created,
      owner: String(meta.owner),
      annotations: meta.annotations ?? {},
    };
  }

  ids(): string[] {
    try {
      return readdirSync(this.root).filter((id) => this.exists(id));
    } catch {
      return [];
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}
