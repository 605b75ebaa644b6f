// nook inspect CONTAINER: the container as docker inspect shows it (the
// fields a script reads: State, Config, Mounts, HostConfig, NetworkSettings).
import { CPU_PERIOD_US } from "../cgroups/limits.js";
import type { ContainerView } from "./containers.js";
import { DEFAULT_CAPABILITIES } from "../runtime/capabilities.js";
import { MASKED_PATHS, READONLY_PATHS } from "../runtime/container-ops.js";

const ZERO_TIME = "0001-01-01T00:00:00Z";

export const inspectContainer = (v: ContainerView): Record<string, unknown> => {
  const r = v.record;
  const [path = "", ...args] = r.argv;
  const l = r.spec.limits ?? {};
  const bounding = (r.spec.capabilities ?? DEFAULT_CAPABILITIES).map((c) => `CAP_${c}`);
  return {
    Id: r.id,
    Created: r.created,
    Path: path,
    Args: args,
    State: {
      Status: v.status,
      Running: v.status === "running",
      Paused: false,
      Restarting: false,
      OOMKilled: v.oomKilled === true,
      Dead: false,
      Pid: v.status === "running" ? (v.pid ?? 0) : 0,
      ExitCode: v.exitCode ?? 0,
      Error: "",
      StartedAt: v.startedAt ?? ZERO_TIME,
      FinishedAt: v.finishedAt ?? ZERO_TIME,
    },
    Image: r.imageId,
    Name: `/${r.name}`,
    RestartCount: 0,
    Driver: r.spec.driver,
    Platform: "linux",
    LogPath: v.record.spec.dir + "/ctr.log",
    // Podman's fields: what the command starts with (root gets the bounding
    // set at exec; another user nothing, unless a setuid program raises it).
    EffectiveCaps: r.spec.uid === 0 ? bounding : [],
    BoundingCaps: bounding,
    HostConfig: {
      Binds: r.spec.binds.map((b) => `${b.src}:${b.dst}${b.readOnly ? ":ro" : ""}`),
      NetworkMode: r.spec.network,
      AutoRemove: r.spec.removeAfter,
      ReadonlyRootfs: r.spec.readOnly,
      Init: r.spec.init,
      Tmpfs: Object.fromEntries(r.spec.tmpfs.map((t) => [t.path, t.options])),
      Ulimits: (r.spec.rlimits ?? []).map((l) => ({
        Name: l.name,
        Soft: l.soft === "unlimited" ? -1 : l.soft,
        Hard: l.hard === "unlimited" ? -1 : l.hard,
      })),
      UsernsMode: r.keepId ? "keep-id" : "",
      // Docker's resource fields: 0 is "not set".
      Memory: l.memory ?? 0,
      MemorySwap: l.swap === "unlimited" ? -1 : l.swap !== undefined ? (l.memory ?? 0) + l.swap : 0,
      MemoryReservation: l.memoryLow ?? 0,
      NanoCpus: l.cpuQuota !== undefined ? Math.round((l.cpuQuota / CPU_PERIOD_US) * 1e9) : 0,
      CpuShares: 0,
      CpuWeight: l.cpuWeight ?? 0,
      CpusetCpus: l.cpuset ?? "",
      PidsLimit: l.pids ?? 0,
      BlkioWeight: 0,
      IoWeight: l.ioWeight ?? 0,
      CgroupManager: r.spec.cgroupsDisabled ? "disabled" : (r.spec.cgroupManager ?? ""),
      CgroupParent: v.cgroupPath ?? "",
      Privileged: r.spec.privileged ?? false,
      CapAdd: r.spec.capAdd ?? [],
      CapDrop: r.spec.capDrop ?? [],
      // Every option in effect, the seccomp profile included (seccomp=builtin: the default).
      SecurityOpt: r.spec.securityOpt ?? ["seccomp=builtin"],
      Sysctls: Object.fromEntries((r.spec.sysctls ?? []).map((c) => [c.name, c.value])),
      MaskedPaths: r.spec.maskedPaths ?? MASKED_PATHS,
      ReadonlyPaths: r.spec.readonlyPaths ?? READONLY_PATHS,
    },
    Mounts: r.spec.binds.map((b) => ({
      Type: "bind",
      Source: b.src,
      Destination: b.dst,
      Mode: b.readOnly ? "ro" : "",
      RW: !b.readOnly,
      Propagation: "rprivate",
    })),
    Config: {
      Hostname: r.spec.hostname,
      User: r.user,
      Tty: r.tty,
      OpenStdin: r.interactive,
      Env: r.env,
      Cmd: r.cmd,
      Image: r.image,
      WorkingDir: r.spec.workdir,
      Entrypoint: r.entrypoint,
      StopSignal: r.stopSignal,
    },
    NetworkSettings: { Networks: {}, Ports: {} },
  };
};
