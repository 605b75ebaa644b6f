import { Command, Option } from "clipanion";
import { NookCommand } from "../../base.js";

export class SystemResetCommand extends NookCommand {
  static override paths = [["system", "reset"]];

  static override usage = Command.Usage({
    description: "remove everything nook stored: containers, images, layers, its runtime directory",
    details: `
      Kills running containers, then removes the store (inside your user namespace, so that the files
      your subordinate ids own go too), the runtime directory and the start-up code cache. Your
      registry credentials and config.toml stay. Asks first unless -f is given.
    `,
    examples: [["Without asking", "$0 system reset -f"]],
  });

  force = Option.Boolean("-f,--force", false, { description: "do not ask" });

  async run(): Promise<number> {
    const { resetPlan, systemReset } = await import("../../../app/system-reset.js");
    const plan = resetPlan();
    if (plan._tag === "Left") return this.settle(plan);
    if (!this.force && !(await this.confirm(plan.right))) return 0;
    const gone = await systemReset(plan.right);
    if (gone._tag === "Left") return this.settle(gone);
    for (const p of gone.right) this.context.stdout.write(`removed ${p}\n`);
    return 0;
  }

  /** Podman's question; no answer (end of input) is no. */
  private async confirm(plan: { store: string; runtime: string | undefined }): Promise<boolean> {
    const { createInterface } = await import("node:readline/promises");
    const rl = createInterface({ input: this.context.stdin, output: this.context.stdout });
    const closed = new Promise<string>((resolve) => rl.once("close", () => resolve("")));
    try {
      const answer = await Promise.race([
        rl.question(
          `WARNING! This will remove every container (running ones are killed), every image and layer in ${plan.store}${plan.runtime ? `, and ${plan.runtime}` : ""}.\nAre you sure you want to continue? [y/N] `,
        ),
        closed,
      ]);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  }
}
