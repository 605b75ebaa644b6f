import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class OciCommand extends NookCommand {
  static override paths = [["oci"]];

  static override usage = Command.Usage({
    description: "an OCI runtime with runc's command line, for Slurm, Podman and containerd",
    details: `
      \`nook oci [--root DIR] [--log FILE] [--log-format text|json] COMMAND\` with runc's commands: create,
      start, run, state, kill, delete, list, ps, features, spec. dist/nook-runtime is the same as one
      program path for oci.conf and engines. State lives under --root (default
      $XDG_RUNTIME_DIR/nook-runtime).
    `,
    examples: [
      ["A bundle's container, in the foreground", "$0 oci run -b ./bundle mybox"],
      ["A rootless config.json to start from", "$0 oci spec --rootless"],
    ],
  });

  args = Option.Proxy();

  async run(): Promise<number> {
    const { OciRuntime } = await import("../../app/oci/runtime.js");
    return new OciRuntime(this.context).main(this.args);
  }
}
