import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class PortCommand extends NookCommand {
  static override paths = [["port"], ["container", "port"]];

  static override usage = Command.Usage({
    description: "list a container's published ports",
    details: "One line per port, as docker port prints them: CONTAINERPORT/PROTO -> HOSTIP:HOSTPORT.",
    examples: [["Ports of web", "$0 port web"]],
  });

  container = Option.String({ name: "CONTAINER" });

  async run(): Promise<number> {
    const [{ findContainer }, { openStore }] = await Promise.all([
      import("../../../app/containers.js"),
      import("../../../app/images.js"),
    ]);
    const found = await findContainer(openStore(), this.container);
    if (found._tag === "Left") return this.settle(found);
    for (const p of found.right.record.spec.ports ?? []) {
      // An IPv6 address in brackets, as docker port prints it.
      const ip = p.hostIp.includes(":") ? `[${p.hostIp}]` : p.hostIp || "0.0.0.0";
      this.context.stdout.write(`${p.containerPort}/${p.proto} -> ${ip}:${p.hostPort}\n`);
    }
    return 0;
  }
}
