import { availableParallelism } from "node:os";
import { Command, Option } from "clipanion";
import { parseLimits } from "../../../cgroups/limits.js";
import { NookCommand } from "../../base.js";
import { eachContainer } from "../../each-container.js";

export class UpdateCommand extends NookCommand {
  static override paths = [["update"], ["container", "update"]];

  static override usage = Command.Usage({
    description: "change containers' resource limits",
    details: `
      A running container's cgroup gets the new limits at once (its systemd scope's properties, or its
      cgroup's files); they are kept for its later starts.
    `,
    examples: [["More memory for web", "$0 update --memory 1g web"]],
  });

  memory = Option.String("-m,--memory", { description: "memory limit (512m, 2g)" });
  memorySwap = Option.String("--memory-swap", { description: "memory plus swap limit (-1: unlimited swap)" });
  memoryReservation = Option.String("--memory-reservation", { description: "memory kept under pressure" });
  cpus = Option.String("--cpus", { description: "CPU time, in CPUs (1.5)" });
  cpuShares = Option.String("-c,--cpu-shares", { description: "CPU weight (1024)" });
  cpusetCpus = Option.String("--cpuset-cpus", { description: "the CPUs it may run on (0-2,4)" });
  pidsLimit = Option.String("--pids-limit", { description: "most processes and threads at once" });
  blkioWeight = Option.String("--blkio-weight", { description: "block I/O weight, 10 to 1000" });
  containers = Option.Rest({ required: 1, name: "CONTAINER" });

  async run(): Promise<number> {
    const given = Object.fromEntries(
      (
        [
          ["memory", this.memory],
          ["memorySwap", this.memorySwap],
          ["memoryReservation", this.memoryReservation],
          ["cpus", this.cpus],
          ["cpuShares", this.cpuShares],
          ["cpusetCpus", this.cpusetCpus],
          ["pidsLimit", this.pidsLimit],
          ["blkioWeight", this.blkioWeight],
        ] as const
      ).filter(([, v]) => v !== undefined),
    );
    const limits = parseLimits(given, availableParallelism());
    if (limits._tag === "Left") return this.fail(limits.left);
    if (Object.keys(limits.right).length === 0)
      return this.fail("update: give at least one limit (--memory, --cpus, --pids-limit...)");
    const [{ updateContainer }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const store = openStore();
    return eachContainer(
      this.context,
      this.containers,
      (ref) => updateContainer(store, ref, limits.right),
      (ref) => ref,
    );
  }
}
