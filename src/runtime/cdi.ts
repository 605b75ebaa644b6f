// Container Device Interface specs (github.com/cncf-tags/container-device-
// interface, SPEC.md): JSON or YAML files in /etc/cdi and /var/run/cdi that
// name devices `vendor.com/class=name` and say what a container needs for
// each: device nodes, mounts, environment variables and hooks. How GPUs and
// other accelerators reach rootless containers on HPC nodes (nvidia-ctk cdi
// generate writes them).
//
// This file is pure: the codecs, and resolving requested names to the edits
// of their specs. Reading the directories and checking the host's device
// nodes is app/devices.ts's.
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { decode } from "../lib/decode.js";
import type { NookError } from "../lib/errors.js";

/** An optional field, kept in t.type so that a bad value's path has no intersection indices in it. */
const opt = <C extends t.Mixed>(c: C) => t.union([c, t.undefined], `${c.name} or nothing`);
const orNone = <C extends t.Mixed>(c: C) => t.union([c, t.null, t.undefined], `${c.name} or null`);

const DeviceNode = t.type(
  {
    path: t.string,
    hostPath: opt(t.string),
    type: opt(t.string),
    major: opt(t.number),
    minor: opt(t.number),
    fileMode: opt(t.number),
    permissions: opt(t.string),
    uid: opt(t.number),
    gid: opt(t.number),
  },
  "a device node",
);
export type CdiDeviceNode = t.TypeOf<typeof DeviceNode>;

const Mount = t.type(
  { hostPath: t.string, containerPath: t.string, type: opt(t.string), options: opt(t.array(t.string)) },
  "a mount",
);
export type CdiMount = t.TypeOf<typeof Mount>;

const Hook = t.type(
  {
    hookName: t.string,
    path: t.string,
    args: opt(t.array(t.string)),
    env: opt(t.array(t.string)),
    timeout: opt(t.number),
  },
  "a hook",
);

const ContainerEdits = t.partial(
  {
    env: orNone(t.array(t.string, "a list of NAME=VALUE")),
    deviceNodes: orNone(t.array(DeviceNode, "a list of device nodes")),
    hooks: orNone(t.array(Hook, "a list of hooks")),
    mounts: orNone(t.array(Mount, "a list of mounts")),
    intelRdt: t.unknown,
    additionalGids: orNone(t.array(t.number, "a list of gids")),
  },
  "container edits",
);
type ContainerEdits = t.TypeOf<typeof ContainerEdits>;

export const CdiSpec = t.type({
  cdiVersion: t.string,
  kind: t.string,
  devices: t.array(
    t.type({ name: t.string, containerEdits: ContainerEdits, annotations: t.unknown }, "a device"),
  ),
  containerEdits: opt(ContainerEdits),
  annotations: t.unknown,
});
export type CdiSpec = t.TypeOf<typeof CdiSpec>;

/** What the container gets for the devices asked for: the edits of each, and of their specs, together. */
export interface CdiEdits {
  readonly env: readonly string[];
  readonly deviceNodes: readonly CdiDeviceNode[];
  readonly mounts: readonly CdiMount[];
}

/** vendor.com/class=name, the form `--device` takes for CDI devices. */
export const CDI_NAME =
  /^([a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]\/[a-zA-Z0-9][a-zA-Z0-9_.-]*)=([a-zA-Z0-9][a-zA-Z0-9_.:-]*)$/;

export const isCdiName = (s: string): boolean => CDI_NAME.test(s);

/** Versions of the spec whose fields this reader knows (newer ones only add fields). */
const KNOWN_VERSION = /^0\.[3-8]\.\d+$/;

const fail = (message: string, hint?: string): E.Either<NookError, never> =>
  E.left({ _tag: "CdiFailed", message, ...(hint ? { hint } : {}) });

/**
 * A spec file's text, JSON or YAML by its name, decoded; the file's path
 * names every error. The YAML parser is passed in: loading it costs tens of
 * milliseconds, which only a run that reads a YAML spec should pay.
 */
export const parseCdiSpec = (
  text: string,
  path: string,
  parseYaml: (text: string) => unknown,
): E.Either<NookError, CdiSpec> => {
  let doc: unknown;
  try {
    doc = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    return fail(
      `CDI spec ${path}: not ${path.endsWith(".json") ? "JSON" : "YAML"} (${(e as Error).message.split("\n")[0]})`,
    );
  }
  const spec = decode(CdiSpec, `CDI spec ${path}`)(doc);
  if (E.isLeft(spec)) return fail(spec.left.message);
  if (!KNOWN_VERSION.test(spec.right.cdiVersion))
    return fail(
      `CDI spec ${path}: cdiVersion ${spec.right.cdiVersion} is not one nook reads (0.3.0 to 0.8.x)`,
    );
  if (!/^[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]\/[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(spec.right.kind))
    return fail(`CDI spec ${path}: kind ${spec.right.kind} is not vendor.com/class`);
  return spec;
};

export interface LoadedSpec {
  readonly path: string;
  readonly spec: CdiSpec;
}

/**
 * What the rootless helper cannot do for a device, said rather than skipped:
 * hooks (OCI hooks want a runtime bundle and state nook does not make),
 * extra groups (host gids that are not mapped cannot be given), Intel RDT.
 */
const unsupported = (edits: ContainerEdits | undefined, where: string): E.Either<NookError, void> => {
  if (!edits) return E.right(undefined);
  if (edits.hooks && edits.hooks.length > 0)
    return fail(
      `${where} has ${edits.hooks.length} hook(s) (${edits.hooks.map((h) => `${h.hookName} ${h.path}`).join(", ")}); nook does not run CDI hooks`,
      "use a spec without hooks for this device, or run what the hook does in the image",
    );
  if (edits.additionalGids && edits.additionalGids.length > 0)
    return fail(
      `${where} asks for additional groups ${edits.additionalGids.join(", ")}, which a rootless container cannot be given`,
    );
  if (edits.intelRdt !== undefined) return fail(`${where} sets intelRdt, which nook does not support`);
  return E.right(undefined);
};

/**
 * The edits for the named devices. Specs come in priority order, lowest
 * first (/etc/cdi, then /var/run/cdi): a later spec of a kind replaces an
 * earlier one's device of the same name, as the CDI registry resolves them.
 */
export const resolveCdi = (
  names: readonly string[],
  specs: readonly LoadedSpec[],
): E.Either<NookError, CdiEdits> => {
  const env: string[] = [];
  const deviceNodes: CdiDeviceNode[] = [];
  const mounts: CdiMount[] = [];
  const applied = new Set<LoadedSpec>();
  const add = (edits: ContainerEdits | undefined): void => {
    env.push(...(edits?.env ?? []));
    deviceNodes.push(...(edits?.deviceNodes ?? []));
    mounts.push(...(edits?.mounts ?? []));
  };
  for (const name of names) {
    const m = CDI_NAME.exec(name);
    if (!m) return fail(`--device ${name}: a CDI device is vendor.com/class=name`);
    const [, kind, device] = m;
    const found = [...specs]
      .reverse()
      .flatMap((s) =>
        s.spec.kind === kind ? s.spec.devices.filter((d) => d.name === device).map((d) => ({ s, d })) : [],
      )[0];
    if (!found) {
      const kinds = [...new Set(specs.map((s) => s.spec.kind))];
      return fail(
        `--device ${name}: no CDI spec defines it`,
        kinds.includes(kind ?? "")
          ? `the ${kind} specs define ${specs
              .filter((s) => s.spec.kind === kind)
              .flatMap((s) => s.spec.devices.map((d) => d.name))
              .join(", ")}`
          : `the CDI specs found define ${kinds.length > 0 ? kinds.join(", ") : "no devices"} (in /etc/cdi and /var/run/cdi, or $NOOK_CDI_SPEC_DIRS)`,
      );
    }
    const where = `CDI device ${name} (${found.s.path})`;
    const bad = unsupported(found.d.containerEdits, where);
    if (E.isLeft(bad)) return bad;
    if (!applied.has(found.s)) {
      const specBad = unsupported(found.s.spec.containerEdits, `CDI spec ${found.s.path}`);
      if (E.isLeft(specBad)) return specBad;
      add(found.s.spec.containerEdits);
      applied.add(found.s);
    }
    add(found.d.containerEdits);
  }
  return E.right({ env, deviceNodes, mounts });
};
