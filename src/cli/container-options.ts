// The flags that make a container, shared by nook run and nook create
// (Docker's names and meanings), and their checks: one line and 125 for a bad
// value, before anything is made.
import { availableParallelism } from "node:os";
import { Option } from "clipanion";
import { parseLimits } from "../cgroups/limits.js";
import type { RunRequest } from "../app/run.js";
import { NookCommand } from "./base.js";

export abstract class ContainerOptions extends NookCommand {
  name = Option.String("--name", { description: "a name for the container (unique)" });
  rm = Option.Boolean("--rm", false, { description: "remove the container when it exits" });
  interactive = Option.Boolean("-i,--interactive", false, { description: "keep stdin open" });
  tty = Option.Boolean("-t,--tty", false, { description: "allocate a pseudo-terminal" });
  env = Option.Array("-e,--env", [], {
    description: "set an environment variable (NAME=VALUE, or NAME from yours)",
  });
  envFile = Option.Array("--env-file", [], { description: "read environment variables from a file" });
  workdir = Option.String("-w,--workdir", { description: "working directory inside the container" });
  user = Option.String("-u,--user", { description: "user[:group] or uid[:gid] to run as" });
  entrypoint = Option.String("--entrypoint", { description: "override the image's entrypoint" });
  hostname = Option.String("-h,--hostname", { description: "the container's host name" });
  volume = Option.Array("-v,--volume", [], { description: "bind mount HOST:CONTAINER[:ro|rw]" });
  mount = Option.Array("--mount", [], {
    description: "type=bind,source=HOST,target=CTR[,readonly] or type=tmpfs,target=CTR[,tmpfs-size=N]",
  });
  tmpfs = Option.Array("--tmpfs", [], { description: "mount a tmpfs: PATH[:OPTIONS]" });
  init = Option.Boolean("--init", false, {
    description: "run a small init as pid 1 that reaps zombies and forwards signals",
  });
  readOnly = Option.Boolean("--read-only", false, {
    description: "read-only root filesystem (with a writable /tmp)",
  });
  network = Option.String("--network,--net", {
    description: "pasta[:OPTIONS] (the default where installed), slirp4netns[:OPTIONS], host or none",
  });
  publish = Option.Array("-p,--publish", [], {
    description: "publish a port: [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp]",
  });
  dns = Option.Array("--dns", [], {
    description: "a DNS server for the container (instead of the forwarder)",
  });
  dnsSearch = Option.Array("--dns-search", [], { description: "a DNS search domain" });
  addHost = Option.Array("--add-host", [], { description: "an /etc/hosts entry, NAME:IP" });
  hostLoopback = Option.Boolean("--host-loopback", false, {
    description: "let the container reach the host's 127.0.0.1 through its gateway address (off by default)",
  });
  pull = Option.String("--pull", "missing", { description: "missing, always or never" });
  platform = Option.String("--platform", { description: "os/arch[/variant] when the image is pulled" });
  storageDriver = Option.String("--storage-driver", {
    description:
      "overlay (kernel overlayfs in the user namespace), fuse-overlayfs or copy (a copy of the image per container); default: what this host can do",
  });
  userns = Option.String("--userns", "host", {
    description: "host (default: you are root inside) or keep-id (your own uid and gid inside)",
  });
  bindHome = Option.Boolean("--bind-home", false, {
    description: "bind your home directory at its own path and run as yourself (implies --userns=keep-id)",
  });
  bindCwd = Option.Boolean("--bind-cwd", false, {
    description:
      "bind the current directory at its own path, start there, as yourself (implies --userns=keep-id)",
  });
  device = Option.Array("--device", [], {
    description: "a host device, /dev/X[:/dev/Y][:rwm], or a CDI device, vendor.com/class=name",
  });
  envHost = Option.Boolean("--env-host", false, {
    description:
      "give the container your environment (then the image's is overridden, -e and --env-file still win)",
  });
  ulimit = Option.Array("--ulimit", [], {
    description: "a resource limit, NAME=SOFT[:HARD] (nofile=1024:2048, nproc=512, core=0...)",
  });
  memory = Option.String("-m,--memory", { description: "memory limit (512m, 2g)" });
  memorySwap = Option.String("--memory-swap", {
    description: "memory plus swap limit (-1: unlimited swap), with --memory",
  });
  memoryReservation = Option.String("--memory-reservation", {
    description: "memory the container keeps under pressure",
  });
  cpus = Option.String("--cpus", { description: "CPU time, in CPUs (1.5)" });
  cpuShares = Option.String("-c,--cpu-shares", { description: "CPU weight against other containers (1024)" });
  cpusetCpus = Option.String("--cpuset-cpus", { description: "the CPUs it may run on (0-2,4)" });
  pidsLimit = Option.String("--pids-limit", {
    description: "most processes and threads at once (-1: unlimited)",
  });
  blkioWeight = Option.String("--blkio-weight", { description: "block I/O weight, 10 to 1000" });
  cgroupManager = Option.String("--cgroup-manager", {
    description:
      "systemd (a scope of your user manager) or cgroupfs (a child of nook's own delegated cgroup)",
  });
  cgroups = Option.String("--cgroups", {
    description: "enabled (default) or disabled: no cgroup of its own",
  });
  capAdd = Option.Array("--cap-add", [], {
    description: "add a capability (NET_ADMIN, CAP_SYS_PTRACE, ALL...) to the default set",
  });
  capDrop = Option.Array("--cap-drop", [], {
    description: "drop a capability (or ALL) from the default set",
  });
  privileged = Option.Boolean("--privileged", false, {
    description:
      "every capability of your user namespace, no seccomp filter, no masked paths, /sys writable, your devices",
  });
  sysctl = Option.Array("--sysctl", [], {
    description:
      "a namespaced sysctl: net.* (not with --network host), kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*",
  });
  securityOpt = Option.Array("--security-opt", [], {
    description:
      "no-new-privileges, seccomp=unconfined|PROFILE.json (Docker's format), mask=PATH:PATH, unmask=ALL|PATH:..., label=disable, apparmor=unconfined",
  });
  image = Option.String({ name: "IMAGE" });
  command = Option.Proxy({ name: "COMMAND" });

  /** The request these flags make, or a one-line complaint about one of them. */
  protected request(): RunRequest | string {
    if (this.pull !== "missing" && this.pull !== "always" && this.pull !== "never")
      return `--pull takes missing, always or never, not ${this.pull}`;
    const sd = this.storageDriver;
    if (sd !== undefined && sd !== "overlay" && sd !== "fuse-overlayfs" && sd !== "copy")
      return `--storage-driver takes overlay, fuse-overlayfs or copy, not ${this.storageDriver}`;
    const userns = this.userns === "" ? "host" : this.userns;
    if (userns !== "host" && userns !== "keep-id")
      return `--userns takes host or keep-id, not ${this.userns}`;
    const cm = this.cgroupManager;
    if (cm !== undefined && cm !== "systemd" && cm !== "cgroupfs")
      return `--cgroup-manager takes systemd or cgroupfs, not ${cm}`;
    if (this.cgroups !== undefined && this.cgroups !== "enabled" && this.cgroups !== "disabled")
      return `--cgroups takes enabled or disabled, not ${this.cgroups}`;
    const limits = parseLimits(
      {
        ...(this.memory !== undefined ? { memory: this.memory } : {}),
        ...(this.memorySwap !== undefined ? { memorySwap: this.memorySwap } : {}),
        ...(this.memoryReservation !== undefined ? { memoryReservation: this.memoryReservation } : {}),
        ...(this.cpus !== undefined ? { cpus: this.cpus } : {}),
        ...(this.cpuShares !== undefined ? { cpuShares: this.cpuShares } : {}),
        ...(this.cpusetCpus !== undefined ? { cpusetCpus: this.cpusetCpus } : {}),
        ...(this.pidsLimit !== undefined ? { pidsLimit: this.pidsLimit } : {}),
        ...(this.blkioWeight !== undefined ? { blkioWeight: this.blkioWeight } : {}),
      },
      availableParallelism(),
    );
    if (limits._tag === "Left") return limits.left;
    if (this.cgroups === "disabled" && Object.keys(limits.right).length > 0)
      return "--cgroups disabled: the container has no cgroup for its limits";
    return {
      image: this.image,
      command: this.command,
      env: this.env ?? [],
      envFiles: this.envFile ?? [],
      volumes: this.volume ?? [],
      mounts: this.mount ?? [],
      tmpfs: this.tmpfs ?? [],
      readOnly: this.readOnly,
      ...(this.network !== undefined ? { network: this.network } : {}),
      publish: this.publish ?? [],
      dns: this.dns ?? [],
      dnsSearch: this.dnsSearch ?? [],
      addHosts: this.addHost ?? [],
      hostLoopback: this.hostLoopback,
      rm: this.rm,
      interactive: this.interactive,
      pull: this.pull,
      ...(sd === "overlay" || sd === "fuse-overlayfs" || sd === "copy" ? { storageDriver: sd } : {}),
      init: this.init,
      tty: this.tty,
      userns,
      bindHome: this.bindHome,
      bindCwd: this.bindCwd,
      ulimits: this.ulimit ?? [],
      limits: limits.right,
      ...(cm === "systemd" || cm === "cgroupfs" ? { cgroupManager: cm } : {}),
      ...(this.cgroups === "disabled" ? { cgroupsDisabled: true } : {}),
      securityOpts: this.securityOpt ?? [],
      privileged: this.privileged,
      sysctls: this.sysctl ?? [],
      capAdd: this.capAdd ?? [],
      capDrop: this.capDrop ?? [],
      devices: this.device ?? [],
      envHost: this.envHost,
      ...(this.name !== undefined ? { name: this.name } : {}),
      ...(this.entrypoint !== undefined ? { entrypoint: this.entrypoint } : {}),
      ...(this.workdir !== undefined ? { workdir: this.workdir } : {}),
      ...(this.user !== undefined ? { user: this.user } : {}),
      ...(this.hostname !== undefined ? { hostname: this.hostname } : {}),
      ...(this.platform !== undefined ? { platform: this.platform } : {}),
    };
  }
}
