import { Command, Option } from "clipanion";
import { trace } from "../../lib/trace.js";
import { NookCommand } from "../base.js";

export class RunCommand extends NookCommand {
  static override paths = [["run"], ["container", "run"]];

  static override usage = Command.Usage({
    description: "run a command in a new container",
    details: `
      Runs IMAGE's command (or COMMAND) in a new container, in the foreground: its own mount, pid,
      ipc, uts and network namespaces inside your user namespace, the image's layers under an
      overlay with a writable layer of its own, /proc, /dev and /sys, masked paths as Docker masks
      them, and no_new_privs. The exit status is the container's; nook's own failures give 125.
      The image is pulled first when it is missing (--pull).
    `,
    examples: [
      ["Run a command", "$0 run --rm alpine echo hello"],
      ["Pipe data through a container", "echo hi | $0 run --rm -i alpine cat"],
      ["Bind a directory read-only", "$0 run --rm -v $PWD:/src:ro alpine ls /src"],
    ],
  });

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
  network = Option.String("--network,--net", "none", {
    description: "none (default until user-mode networking) or host",
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
    description: "bind the current directory at its own path, start there, as yourself (implies --userns=keep-id)",
  });
  ulimit = Option.Array("--ulimit", [], {
    description: "a resource limit, NAME=SOFT[:HARD] (nofile=1024:2048, nproc=512, core=0...)",
  });
  image = Option.String({ name: "IMAGE" });
  command = Option.Proxy({ name: "COMMAND" });

  async run(): Promise<number> {
    if (this.network !== "none" && this.network !== "host")
      return this.fail(
        `--network ${this.network}: this nook has none and host (user-mode networking comes later)`,
      );
    if (this.pull !== "missing" && this.pull !== "always" && this.pull !== "never")
      return this.fail(`--pull takes missing, always or never, not ${this.pull}`);
    const sd = this.storageDriver;
    if (sd !== undefined && sd !== "overlay" && sd !== "fuse-overlayfs" && sd !== "copy")
      return this.fail(`--storage-driver takes overlay, fuse-overlayfs or copy, not ${this.storageDriver}`);
    const userns = this.userns === "" ? "host" : this.userns;
    if (userns !== "host" && userns !== "keep-id")
      return this.fail(`--userns takes host or keep-id, not ${this.userns}`);
    const { runContainer } = await import("../../app/run.js");
    trace("run: code loaded");
    return this.settle(
      await runContainer({
        image: this.image,
        command: this.command,
        env: this.env ?? [],
        envFiles: this.envFile ?? [],
        volumes: this.volume ?? [],
        mounts: this.mount ?? [],
        tmpfs: this.tmpfs ?? [],
        readOnly: this.readOnly,
        network: this.network,
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
        ...(this.entrypoint !== undefined ? { entrypoint: this.entrypoint } : {}),
        ...(this.workdir !== undefined ? { workdir: this.workdir } : {}),
        ...(this.user !== undefined ? { user: this.user } : {}),
        ...(this.hostname !== undefined ? { hostname: this.hostname } : {}),
        ...(this.platform !== undefined ? { platform: this.platform } : {}),
      }),
    );
  }
}
