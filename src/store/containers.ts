// Containers in the store: containers/ID/ holds config.json (what the
// container is), started.json (which monitor watches the current run), and
// the files the monitor writes (pid, exit, ctr.log), besides the container's
// own upper/, work/ and merged/. Names and id prefixes resolve here, as
// Docker resolves them.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { decodeJson } from "../lib/decode.js";
import type { NookError } from "../lib/errors.js";
import { tryLockExclusive, unlock } from "../sys/libc.js";
import {
  CgroupRecord,
  ContainerRecord,
  ExitRecord,
  PidRecord,
  StartRecord,
  type ExitRecord as Exit,
  type PidRecord as Pid,
  type StartRecord as Start,
} from "./records.js";
import type { Store } from "./store.js";

export type ContainerLookupError = {
  readonly _tag: "ContainerUnknown" | "ContainerAmbiguous";
  readonly message: string;
};

const readOptional = <A>(
  file: string,
  codec: Parameters<typeof decodeJson<A, unknown>>[0],
): A | undefined => {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const r = decodeJson(codec, file)(text);
  return E.isRight(r) ? r.right : undefined;
};

export class Containers {
  constructor(readonly store: Store) {}

  dir(id: string): string {
    return join(this.store.root, "containers", id);
  }

  ids(): string[] {
    try {
      return readdirSync(join(this.store.root, "containers")).filter((d) => /^[0-9a-f]{64}$/.test(d));
    } catch {
      return [];
    }
  }

  /** Every container with a readable config; those without one (half-made, being removed) are left out. */
  list(): ContainerRecord[] {
    return this.ids().flatMap((id) => {
      const r = readOptional(join(this.dir(id), "config.json"), ContainerRecord);
      return r ? [r] : [];
    });
  }

  async write(record: ContainerRecord): Promise<void> {
    await this.store.writeAtomic(join(this.dir(record.id), "config.json"), JSON.stringify(record, null, 2));
  }

  /** A full id, a name, or a prefix of one id (Docker's order). */
  resolve(ref: string): E.Either<ContainerLookupError, ContainerRecord> {
    const all = this.list();
    const exact = all.find((c) => c.id === ref) ?? all.find((c) => c.name === ref || `/${c.name}` === ref);
    if (exact) return E.right(exact);
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.id.startsWith(ref)) : [];
    if (byPrefix.length === 1 && byPrefix[0]) return E.right(byPrefix[0]);
    if (byPrefix.length > 1)
      return E.left({
        _tag: "ContainerAmbiguous",
        message: `${ref} names ${byPrefix.length} containers (${byPrefix.map((c) => c.name).join(", ")}): give more of the id`,
      });
    return E.left({ _tag: "ContainerUnknown", message: `no such container: ${ref}` });
  }

  nameTaken(name: string): ContainerRecord | undefined {
    return this.list().find((c) => c.name === name);
  }

  started(id: string): Start | undefined {
    return readOptional(join(this.dir(id), "started.json"), StartRecord);
  }

  pid(id: string): Pid | undefined {
    return readOptional(join(this.dir(id), "pid"), PidRecord);
  }

  exit(id: string): Exit | undefined {
    return readOptional(join(this.dir(id), "exit"), ExitRecord);
  }

  /** Where the current (or last) run's cgroup is. */
  cgroup(id: string): CgroupRecord | undefined {
    return readOptional(join(this.dir(id), "cgroup.json"), CgroupRecord);
  }

  async writeCgroup(id: string, c: CgroupRecord): Promise<void> {
    await this.store.writeAtomic(join(this.dir(id), "cgroup.json"), JSON.stringify(c));
  }

  removing(id: string): boolean {
    return existsSync(join(this.dir(id), "removing"));
  }

  async writeStarted(id: string, s: Start): Promise<void> {
    await this.store.writeAtomic(join(this.dir(id), "started.json"), JSON.stringify(s));
  }

  async writeExit(id: string, e: Exit): Promise<void> {
    await this.store.writeAtomic(join(this.dir(id), "exit"), JSON.stringify(e));
  }

  /** Before a new run: the last run's records go. */
  clearRun(id: string): void {
    for (const f of ["started.json", "pid", "exit"]) rmSync(join(this.dir(id), f), { force: true });
  }

  logFile(id: string): string {
    return join(this.dir(id), "ctr.log");
  }

  /**
   * The container's lock (flock on containers/ID/lock): two nooks acting on
   * one container take turns. Waits for it; resolves to the release.
   */
  async lock(id: string): Promise<E.Either<NookError, () => Promise<void>>> {
    let fd: number;
    try {
      fd = openSync(join(this.dir(id), "lock"), "a");
    } catch (e) {
      return E.left({
        _tag: "ContainerUnknown",
        message: `lock container ${id.slice(0, 12)}: ${(e as Error).message}`,
      });
    }
    for (;;) {
      const got = await tryLockExclusive(fd);
      if (E.isLeft(got)) {
        closeSync(fd);
        return E.left({
          _tag: "LockFailed",
          message: `lock container ${id.slice(0, 12)}: errno ${got.left.errno}`,
        });
      }
      if (got.right)
        return E.right(async () => {
          await unlock(fd);
          closeSync(fd);
        });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
