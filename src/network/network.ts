// Network modes and their flags (pure): --network, -p/--publish, --dns,
// --dns-search, --add-host, and what the container's /etc/resolv.conf and
// /etc/hosts say. The helpers themselves (pasta, slirp4netns) are started by
// network/attach.ts.
import * as E from "fp-ts/lib/Either.js";

export type NetworkKind = "none" | "host" | "pasta" | "slirp4netns";

export interface NetworkMode {
  readonly kind: NetworkKind;
  /** pasta:OPT,OPT... : more options for pasta, as Podman passes them. */
  readonly options: readonly string[];
}

export interface PortSpec {
  /** "" for every address (0.0.0.0), as Docker's default. */
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly proto: "tcp" | "udp";
}

export interface HostEntry {
  readonly name: string;
  readonly ip: string;
}

/** The Debian package of each network helper, for the error when it is missing. */
export const PACKAGE: Readonly<Record<"pasta" | "slirp4netns", string>> = {
  pasta: "passt",
  slirp4netns: "slirp4netns",
};

/**
 * --network: none, host, pasta[:OPTIONS], slirp4netns[:OPTIONS]; absent:
 * pasta where it is installed (Podman's default since 5.0), else slirp4netns,
 * else none. `has` says whether a helper is on PATH.
 */
export const parseNetwork = (
  value: string | undefined,
  has: (tool: "pasta" | "slirp4netns") => boolean,
): E.Either<string, NetworkMode> => {
  if (value === undefined || value === "" || value === "default")
    return E.right({
      kind: has("pasta") ? "pasta" : has("slirp4netns") ? "slirp4netns" : "none",
      options: [],
    });
  const colon = value.indexOf(":");
  const kind = colon < 0 ? value : value.slice(0, colon);
  const options =
    colon < 0
      ? []
      : value
          .slice(colon + 1)
          .split(",")
          .filter((o) => o !== "");
  if (kind === "none" || kind === "host") {
    if (options.length > 0) return E.left(`--network ${value}: ${kind} takes no options`);
    return E.right({ kind, options: [] });
  }
  if (kind === "pasta" || kind === "slirp4netns") {
    if (!has(kind))
      return E.left(
        `--network ${kind}: ${kind} is not installed (Debian package ${PACKAGE[kind]}: apt-get install ${PACKAGE[kind]})`,
      );
    return E.right({ kind, options });
  }
  return E.left(`--network ${value}: the modes are pasta, slirp4netns, host and none (no named networks)`);
};

const port = (s: string): number | undefined =>
  /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined;

const range = (s: string): number[] | undefined => {
  const [a = "", b] = s.split("-");
  const from = port(a);
  const to = b === undefined ? from : port(b);
  if (from === undefined || to === undefined || to < from) return undefined;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
};

/**
 * -p/--publish [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp], ranges allowed on both
 * sides (of one length); IPv6 addresses in brackets. A host port is required:
 * nook picks none at random.
 */
export const parsePublish = (spec: string): E.Either<string, PortSpec[]> => {
  const bad = (why: string): E.Either<string, never> => E.left(`-p ${spec}: ${why}`);
  const slash = spec.lastIndexOf("/");
  const proto = slash < 0 ? "tcp" : spec.slice(slash + 1);
  if (proto !== "tcp" && proto !== "udp") return bad(`the protocol is tcp or udp, not ${proto}`);
  const body = slash < 0 ? spec : spec.slice(0, slash);
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(body);
  const parts = v6 ? [v6[1] ?? "", ...(v6[2] ?? "").split(":")] : body.split(":");
  if (parts.length === 1) return bad("give the host port too: HOSTPORT:CONTAINERPORT");
  if (parts.length > 3) return bad("expected [IP:]HOSTPORT:CONTAINERPORT[/PROTOCOL]");
  const [hostIp = "", hostText = "", ctrText = ""] = parts.length === 3 ? parts : ["", ...parts];
  if (hostIp !== "" && !/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/.test(hostIp))
    return bad(`${hostIp} is not an IP address`);
  const hosts = range(hostText);
  const ctrs = range(ctrText);
  if (!hosts) return bad(`${hostText || "(nothing)"} is not a port or a range of ports`);
  if (!ctrs) return bad(`${ctrText || "(nothing)"} is not a port or a range of ports`);
  if (hosts.length !== ctrs.length) return bad("the host and container ranges differ in length");
  return E.right(hosts.map((h, i) => ({ hostIp, hostPort: h, containerPort: ctrs[i] ?? h, proto })));
};

/** --add-host NAME:IP (Docker's form; IPv6 addresses keep their colons). */
export const parseAddHost = (spec: string): E.Either<string, HostEntry> => {
  const colon = spec.indexOf(":");
  const name = spec.slice(0, colon);
  const ip = spec.slice(colon + 1).replace(/^\[(.*)\]$/, "$1");
  if (colon <= 0 || !/^[a-zA-Z0-9]([a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(name))
    return E.left(`--add-host ${spec}: expected NAME:IP`);
  if (!/^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+)$/.test(ip))
    return E.left(`--add-host ${spec}: ${ip} is not an IP address`);
  return E.right({ name, ip });
};

/** The address the container's DNS queries go to: pasta's forwarder, slirp4netns's built-in one. */
export const DNS_FORWARDER: Readonly<Record<"pasta" | "slirp4netns", string>> = {
  pasta: "169.254.1.1",
  slirp4netns: "10.0.2.3",
};

/** slirp4netns's fixed addresses (its --configure defaults). */
export const SLIRP = { guest: "10.0.2.100", gateway: "10.0.2.2" } as const;

/**
 * The container's /etc/resolv.conf: --dns servers, else the helper's forwarder
 * (which asks the host's resolvers, loopback ones included), else the host's;
 * --dns-search, else the host's search line; the host's options.
 */
export const resolvConf = (
  kind: NetworkKind,
  host: string,
  dns: readonly string[],
  search: readonly string[],
): string => {
  const lines = host.split("\n").map((l) => l.trim());
  const hostServers = lines.filter((l) => /^nameserver\s/.test(l)).map((l) => l.split(/\s+/)[1] ?? "");
  const servers =
    dns.length > 0 ? dns : kind === "pasta" || kind === "slirp4netns" ? [DNS_FORWARDER[kind]] : hostServers;
  const searchLine =
    search.length > 0 ? `search ${search.join(" ")}` : lines.find((l) => /^(search|domain)\s/.test(l));
  const options = lines.filter((l) => /^options\s/.test(l));
  return [...(searchLine ? [searchLine] : []), ...servers.map((s) => `nameserver ${s}`), ...options, ""].join(
    "\n",
  );
};

/** The container's /etc/hosts: loopback names, the container's own name, --add-host entries. */
export const hostsFile = (hostname: string, extra: readonly HostEntry[]): string =>
  [
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    `127.0.1.1\t${hostname}`,
    ...extra.map((h) => `${h.ip}\t${h.name}`),
    "",
  ].join("\n");

/** pasta's -t/-u value for the published ports of one protocol: ADDR/HOST:CTR,... or none. */
const pastaPorts = (ports: readonly PortSpec[], proto: "tcp" | "udp"): string => {
  const mine = ports.filter((p) => p.proto === proto);
  return mine.length === 0
    ? "none"
    : mine.map((p) => `${p.hostIp !== "" ? `${p.hostIp}/` : ""}${p.hostPort}:${p.containerPort}`).join(",");
};

/**
 * pasta's command line for a container whose network namespace is held by
 * `pid`: configured interface, the published ports and nothing else, DNS
 * through its forwarder, and the host's loopback out of reach unless asked
 * (the gateway is never mapped to it: --no-map-gw). Asked, the container's own
 * 127.0.0.1:PORT leads to the host's for every port bound there (-T/-U auto:
 * pasta's splice path, the fast one).
 */
export const pastaArgs = (
  pid: number,
  ports: readonly PortSpec[],
  hostLoopback: boolean,
  pidFile: string,
  options: readonly string[],
): string[] => [
  "--config-net",
  "--quiet",
  "-t",
  pastaPorts(ports, "tcp"),
  "-u",
  pastaPorts(ports, "udp"),
  ...(hostLoopback ? ["-T", "auto", "-U", "auto"] : ["-T", "none", "-U", "none"]),
  "--no-map-gw",
  "--dns-forward",
  DNS_FORWARDER.pasta,
  "-P",
  pidFile,
  ...options,
  String(pid),
];

/** slirp4netns's command line: tap0 configured with MTU 65520 (throughput depends on it), an API socket for ports. */
export const slirpArgs = (
  pid: number,
  hostLoopback: boolean,
  apiSocket: string,
  readyFd: number,
  options: readonly string[],
): string[] => [
  "--configure",
  "--mtu=65520",
  ...(hostLoopback ? [] : ["--disable-host-loopback"]),
  `--ready-fd=${readyFd}`,
  `--api-socket=${apiSocket}`,
  ...options.map((o) => (o.startsWith("-") ? o : `--${o}`)),
  String(pid),
  "tap0",
];

/** slirp4netns API requests publishing the ports (its add_hostfwd). */
export const slirpForwards = (ports: readonly PortSpec[]): string[] =>
  ports.map((p) =>
    JSON.stringify({
      execute: "add_hostfwd",
      arguments: {
        proto: p.proto,
        host_addr: p.hostIp === "" ? "0.0.0.0" : p.hostIp,
        host_port: p.hostPort,
        guest_addr: SLIRP.guest,
        guest_port: p.containerPort,
      },
    }),
  );
