// systemd's user manager over D-Bus, through sd-bus in libsystemd (koffi):
// StartTransientUnit for a container's scope, AttachProcessesToUnit for a
// process joining it, StopUnit when it goes. libsystemd.so.0 is on every
// host that has a systemd user manager to talk to, and sd-bus does the
// authentication and marshalling; its calls are synchronous, a few hundred
// microseconds each, and loading it costs nothing when no limit is asked for.
import { existsSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";

/** A unit property: name, D-Bus signature, value. */
export type UnitProperty =
  | readonly [string, "t", bigint]
  | readonly [string, "b", boolean]
  | readonly [string, "s", string]
  | readonly [string, "ay", Uint8Array]
  | readonly [string, "au", readonly number[]];

export interface BusError {
  /** The D-Bus error name (org.freedesktop.systemd1.UnitExists...), or the failed sd-bus call. */
  readonly name: string;
  readonly message: string;
}

type Ptr = unknown;
interface BusError_ {
  name: string | null;
  message: string | null;
  _need_free: number;
}

interface SdBus {
  readonly openUser: (out: [Ptr]) => number;
  readonly newCall: (
    bus: Ptr,
    out: [Ptr],
    dest: string,
    path: string,
    iface: string,
    member: string,
  ) => number;
  readonly appendString: (m: Ptr, type: number, s: string) => number;
  readonly appendU64: (m: Ptr, type: number, v: [bigint]) => number;
  readonly appendU32: (m: Ptr, type: number, v: [number]) => number;
  readonly appendBool: (m: Ptr, type: number, v: [number]) => number;
  readonly appendArray: (m: Ptr, type: number, data: Uint8Array, size: number) => number;
  readonly open: (m: Ptr, type: number, contents: string) => number;
  readonly close: (m: Ptr) => number;
  readonly call: (bus: Ptr, m: Ptr, usec: bigint, error: BusError_, reply: [Ptr]) => number;
  readonly unrefMessage: (m: Ptr) => Ptr;
  readonly errorFree: (error: BusError_) => void;
}

let lib: SdBus | null | undefined;
let bus: Ptr | undefined;

const load = async (): Promise<SdBus | null> => {
  if (lib !== undefined) return lib;
  try {
    const mod: unknown = await import("koffi");
    const koffi = ((mod as { default?: unknown }).default ?? mod) as typeof import("koffi");
    const so = koffi.load("libsystemd.so.0");
    koffi.opaque("nook_sd_bus");
    koffi.opaque("nook_sd_bus_message");
    koffi.struct("nook_sd_bus_error", { name: "const char *", message: "const char *", _need_free: "int" });
    const m = "nook_sd_bus_message *";
    lib = {
      openUser: so.func("int sd_bus_open_user(_Out_ nook_sd_bus **ret)") as SdBus["openUser"],
      newCall: so.func(
        `int sd_bus_message_new_method_call(nook_sd_bus *bus, _Out_ ${m}*m, const char *dest, const char *path, const char *iface, const char *member)`,
      ) as SdBus["newCall"],
      appendString: so.func(
        `int sd_bus_message_append_basic(${m}m, char type, const char *p)`,
      ) as SdBus["appendString"],
      appendU64: so.func(
        `int sd_bus_message_append_basic(${m}m, char type, const uint64_t *p)`,
      ) as SdBus["appendU64"],
      appendU32: so.func(
        `int sd_bus_message_append_basic(${m}m, char type, const uint32_t *p)`,
      ) as SdBus["appendU32"],
      appendBool: so.func(
        `int sd_bus_message_append_basic(${m}m, char type, const int *p)`,
      ) as SdBus["appendBool"],
      appendArray: so.func(
        `int sd_bus_message_append_array(${m}m, char type, const uint8_t *p, size_t size)`,
      ) as SdBus["appendArray"],
      open: so.func(
        `int sd_bus_message_open_container(${m}m, char type, const char *contents)`,
      ) as SdBus["open"],
      close: so.func(`int sd_bus_message_close_container(${m}m)`) as SdBus["close"],
      call: so.func(
        `int sd_bus_call(nook_sd_bus *bus, ${m}m, uint64_t usec, _Inout_ nook_sd_bus_error *error, _Out_ ${m}*reply)`,
      ) as SdBus["call"],
      unrefMessage: so.func(`${m}sd_bus_message_unref(${m}m)`) as SdBus["unrefMessage"],
      errorFree: so.func("void sd_bus_error_free(_Inout_ nook_sd_bus_error *e)") as SdBus["errorFree"],
    };
  } catch {
    lib = null;
  }
  return lib;
};

/** The user bus's socket: $DBUS_SESSION_BUS_ADDRESS's unix:path, else $XDG_RUNTIME_DIR/bus, when it exists. */
export const userBusPath = (env: NodeJS.ProcessEnv = process.env): string | undefined => {
  const addr = env.DBUS_SESSION_BUS_ADDRESS;
  const fromAddr = addr ? /(?:^|;)unix:(?:[^;]*,)?path=([^,;]+)/.exec(addr)?.[1] : undefined;
  const path = fromAddr ?? (env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR}/bus` : undefined);
  return path && existsSync(path) ? path : undefined;
};

const code = (c: string): number => c.charCodeAt(0);
const fail = (name: string, r: number): E.Either<BusError, never> => E.left({ name, message: `errno ${-r}` });

const connect = async (): Promise<E.Either<BusError, { sd: SdBus; bus: Ptr }>> => {
  const sd = await load();
  if (!sd) return E.left({ name: "libsystemd", message: "libsystemd.so.0 cannot be loaded" });
  if (bus === undefined) {
    const out: [Ptr] = [null];
    const r = sd.openUser(out);
    if (r < 0) return fail("sd_bus_open_user", r);
    bus = out[0];
  }
  return E.right({ sd, bus });
};

type Arg =
  | { readonly s: string }
  | { readonly b: boolean }
  | { readonly props: readonly UnitProperty[] }
  | { readonly au: readonly number[] }
  | "aux";

const appendProperty = (sd: SdBus, m: Ptr, [name, sig, value]: UnitProperty): number => {
  let r = sd.open(m, code("r"), "sv");
  if (r >= 0) r = sd.appendString(m, code("s"), name);
  if (r >= 0) r = sd.open(m, code("v"), sig);
  if (r >= 0) {
    if (sig === "t") r = sd.appendU64(m, code("t"), [value as bigint]);
    else if (sig === "b") r = sd.appendBool(m, code("b"), [value ? 1 : 0]);
    else if (sig === "s") r = sd.appendString(m, code("s"), value as string);
    else if (sig === "ay")
      r = sd.appendArray(m, code("y"), value as Uint8Array, (value as Uint8Array).length);
    else r = appendU32s(sd, m, value as readonly number[]);
  }
  if (r >= 0) r = sd.close(m);
  if (r >= 0) r = sd.close(m);
  return r;
};

const appendU32s = (sd: SdBus, m: Ptr, values: readonly number[]): number => {
  let r = sd.open(m, code("a"), "u");
  for (const v of values) if (r >= 0) r = sd.appendU32(m, code("u"), [v]);
  return r >= 0 ? sd.close(m) : r;
};

/** One method call on systemd's Manager interface; the reply is not needed. */
const callManager = async (member: string, args: readonly Arg[]): Promise<E.Either<BusError, void>> => {
  const c = await connect();
  if (E.isLeft(c)) return c;
  const { sd, bus: b } = c.right;
  const out: [Ptr] = [null];
  let r = sd.newCall(
    b,
    out,
    "org.freedesktop.systemd1",
    "/org/freedesktop/systemd1",
    "org.freedesktop.systemd1.Manager",
    member,
  );
  if (r < 0) return fail("sd_bus_message_new_method_call", r);
  const m = out[0];
  for (const a of args) {
    if (r < 0) break;
    if (a === "aux") {
      r = sd.open(m, code("a"), "(sa(sv))");
      if (r >= 0) r = sd.close(m);
    } else if ("s" in a) r = sd.appendString(m, code("s"), a.s);
    else if ("b" in a) r = sd.appendBool(m, code("b"), [a.b ? 1 : 0]);
    else if ("au" in a) r = appendU32s(sd, m, a.au);
    else {
      r = sd.open(m, code("a"), "(sv)");
      for (const p of a.props) if (r >= 0) r = appendProperty(sd, m, p);
      if (r >= 0) r = sd.close(m);
    }
  }
  if (r < 0) {
    sd.unrefMessage(m);
    return fail(`build the ${member} call`, r);
  }
  const error: BusError_ = { name: null, message: null, _need_free: 0 };
  const reply: [Ptr] = [null];
  r = sd.call(b, m, 0n, error, reply);
  sd.unrefMessage(m);
  if (reply[0]) sd.unrefMessage(reply[0]);
  if (r >= 0) return E.right(undefined);
  const e = { name: error.name ?? member, message: error.message ?? `errno ${-r}` };
  sd.errorFree(error);
  return E.left(e);
};

/** A transient scope holding `pids`, with `properties` (Delegate, limits...), in `slice`. */
export const startTransientScope = (
  unit: string,
  slice: string,
  description: string,
  pids: readonly number[],
  properties: readonly UnitProperty[],
): Promise<E.Either<BusError, void>> =>
  callManager("StartTransientUnit", [
    { s: unit },
    { s: "fail" },
    {
      props: [
        ["Description", "s", description],
        ["Slice", "s", slice],
        ["PIDs", "au", pids],
        ["Delegate", "b", true],
        // The container may end with a signal; its scope then is not "failed" and goes.
        ["CollectMode", "s", "inactive-or-failed"],
        ...properties,
      ],
    },
    "aux",
  ]);

/** Moves processes of ours into a running unit's cgroup (systemd 248 and later). */
export const attachToUnit = (unit: string, pids: readonly number[]): Promise<E.Either<BusError, void>> =>
  callManager("AttachProcessesToUnit", [{ s: unit }, { s: "/" }, { au: pids }]);

/** Sets properties of a running unit (nook update). */
export const setUnitProperties = (
  unit: string,
  properties: readonly UnitProperty[],
): Promise<E.Either<BusError, void>> =>
  // (s name, b runtime, a(sv) properties): runtime, as the scope itself is.
  callManager("SetUnitProperties", [{ s: unit }, { b: true }, { props: properties }]);

export const stopUnit = (unit: string): Promise<E.Either<BusError, void>> =>
  callManager("StopUnit", [{ s: unit }, { s: "fail" }]);
