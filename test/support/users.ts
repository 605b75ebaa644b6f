// The unprivileged users integration tests run nook as. As root (CI), the two
// users scripts/provision.sh makes; as anyone else, the current user stands in
// for whichever kind it is, and the other kind is unavailable (tests skip with
// the reason printed).
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  /** The user's first /etc/subuid and /etc/subgid range, as "start:count"; absent for the single-id user. */
  readonly subuid?: string;
  readonly subgid?: string;
}

export type Availability = { readonly user: TestUser } | { readonly skip: string };

const rangeOf = (file: string, name: string, uid: number): string | undefined => {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const line = text.split("\n").find((l) => l.startsWith(`${name}:`) || l.startsWith(`${uid}:`));
  return line?.split(":").slice(1).join(":");
};

export const passwdEntry = (name: string): TestUser => {
  const u = passwd(name);
  if (!u) throw new Error(`no user ${name}: run scripts/provision.sh as root`);
  return u;
};

const passwd = (name: string): TestUser | undefined => {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const f = line.split(":");
  const uid = Number(f[2]);
  return {
    name,
    uid,
    gid: Number(f[3]),
    home: f[5] ?? "/",
    subuid: rangeOf("/etc/subuid", name, uid),
    subgid: rangeOf("/etc/subgid", name, uid),
  };
};

export const SUB_USER = "nook-sub";
export const NOSUB_USER = "nook-nosub";

export const isRoot = (): boolean => process.getuid?.() === 0;

export const findTestUsers = (): { sub: Availability; nosub: Availability } => {
  const provisionHint = "run the tests as root (sudo bash scripts/test.sh) to create the test users";
  if (isRoot()) {
    const pick = (name: string): Availability => {
      const u = passwd(name);
      return u ? { user: u } : { skip: `test user ${name} does not exist; run scripts/provision.sh as root` };
    };
    return { sub: pick(SUB_USER), nosub: pick(NOSUB_USER) };
  }
  const me = passwd(userInfo().username);
  if (!me) return { sub: { skip: "the current user has no passwd entry" }, nosub: { skip: provisionHint } };
  return me.subuid && me.subgid
    ? { sub: { user: me }, nosub: { skip: `${me.name} has subordinate ranges; ${provisionHint}` } }
    : { sub: { skip: `${me.name} has no subordinate ranges; ${provisionHint}` }, nosub: { user: me } };
};
