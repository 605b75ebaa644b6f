import { Command, Option } from "clipanion";
import { trace } from "../../lib/trace.js";
import { NookCommand } from "../base.js";

export class PullCommand extends NookCommand {
  static override paths = [["pull"], ["image", "pull"]];

  static override usage = Command.Usage({
    description: "download an image from a registry",
    details: `
      Downloads the image's manifest, config and every layer it does not have yet, checks each
      against its digest, and stores each layer once, unpacked, with the owners the image gives
      its files (through your subordinate ids). Short names are completed from registries.conf
      (unqualified-search-registries), else docker.io.
    `,
    examples: [
      ["Pull busybox from Docker Hub", "$0 pull busybox"],
      ["Pull from a local registry (plain HTTP is allowed for localhost)", "$0 pull 127.0.0.1:5000/app:1.0"],
      ["Pull the arm64 image of a multi-arch index", "$0 pull --platform linux/arm64 alpine"],
      ["Progress as NDJSON events", "$0 pull --format json alpine"],
    ],
  });

  quiet = Option.Boolean("-q,--quiet", false, { description: "print only the image name at the end" });
  platform = Option.String("--platform", {
    description: "os/arch[/variant] to pick from a multi-arch image",
  });
  format = Option.String("--format", { description: "json: progress as NDJSON events" });
  // Podman's spelling, --tls-verify=false, which a clipanion Boolean does not take.
  tlsVerify = Option.String("--tls-verify", {
    tolerateBoolean: true,
    description: "--tls-verify=false: plain HTTP, for a registry without TLS (loopback hosts need no flag)",
  });
  image = Option.String({ name: "IMAGE" });

  async run(): Promise<number> {
    const [{ checkPullRequest }, { insideUserns, reexecInUserns }] = await Promise.all([
      import("../../app/pull-request.js"),
      import("../../app/in-userns.js"),
    ]);
    if (this.format !== undefined && this.format !== "json")
      return this.fail(`--format takes json, not ${JSON.stringify(this.format)}`);
    const tls = this.tlsVerify;
    if (tls !== undefined && typeof tls !== "boolean" && tls !== "true" && tls !== "false")
      return this.fail(`--tls-verify takes true or false, not ${JSON.stringify(tls)}`);
    const request = {
      image: this.image,
      platform: this.platform,
      tlsVerify: !(tls === false || tls === "false"),
    };
    // Check what can be checked before paying for a user namespace.
    const checked = checkPullRequest(request);
    if (checked._tag === "Left") return this.settle(checked);
    if (!insideUserns()) {
      trace("re-exec in user namespace");
      return this.settle(await reexecInUserns(process.argv.slice(2)));
    }
    trace("pull in user namespace");
    const [{ pullImage }, progress] = await Promise.all([
      import("../../app/pull-image.js"),
      import("../pull-progress.js"),
    ]);
    const { stdout } = this.context;
    const tty = (stdout as { isTTY?: boolean }).isTTY === true;
    const events = this.quiet
      ? progress.quietEvents()
      : this.format === "json"
        ? progress.jsonEvents(stdout)
        : tty
          ? progress.terminalEvents(stdout)
          : progress.lineEvents(stdout);
    const pulled = await pullImage(request, events);
    if (pulled._tag === "Left") return this.settle(pulled);
    const p = pulled.right;
    if (this.format === "json")
      stdout.write(
        `${JSON.stringify({ event: "done", name: p.name, id: p.id, digest: p.manifestDigest })}\n`,
      );
    else if (this.quiet) stdout.write(`${p.name}\n`);
    else
      stdout.write(
        `Digest: ${p.manifestDigest}\nStatus: ${p.downloaded > 0 ? "Downloaded newer image" : "Image is up to date"} for ${p.name}\n${p.name}\n`,
      );
    return 0;
  }
}
