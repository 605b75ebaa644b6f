import { Command, Option } from "clipanion";
import { NookCommand } from "../base.js";

export class LoginCommand extends NookCommand {
  static override paths = [["login"]];

  static override usage = Command.Usage({
    description: "log in to a registry",
    details: `
      Checks the credentials against the registry, then stores them where podman login does:
      $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else
      ~/.config/containers/auth.json. nook also reads ~/.docker/config.json and its credential helpers.
    `,
    examples: [
      [
        "Log in, asked for nothing (password from stdin)",
        "echo secret | $0 login -u me --password-stdin registry.example.com",
      ],
      ["Log in to Docker Hub", "$0 login -u me -p secret docker.io"],
    ],
  });

  username = Option.String("-u,--username", { description: "user name" });
  password = Option.String("-p,--password", {
    description: "password (visible to other users in ps: prefer --password-stdin)",
  });
  passwordStdin = Option.Boolean("--password-stdin", false, {
    description: "read the password from standard input",
  });
  registry = Option.String({ name: "REGISTRY" });

  async run(): Promise<number> {
    const { login } = await import("../../app/login.js");
    if (this.username === undefined)
      return this.fail("nook login needs -u USER (it asks for nothing interactively yet)");
    let password = this.password;
    if (this.passwordStdin) {
      if (password !== undefined) return this.fail("give --password or --password-stdin, not both");
      const chunks: Buffer[] = [];
      for await (const c of this.context.stdin) chunks.push(c as Buffer);
      password = Buffer.concat(chunks)
        .toString("utf8")
        .replace(/\r?\n$/, "");
    }
    if (password === undefined) return this.fail("nook login needs --password-stdin or -p PASSWORD");
    const r = await login(this.registry, { username: this.username, password });
    if (r._tag === "Left") return this.settle(r);
    this.context.stdout.write("Login Succeeded!\n");
    return 0;
  }
}

export class LogoutCommand extends NookCommand {
  static override paths = [["logout"]];

  static override usage = Command.Usage({
    description: "forget the credentials of a registry",
    examples: [["Log out of a registry", "$0 logout registry.example.com"]],
  });

  registry = Option.String({ name: "REGISTRY" });

  async run(): Promise<number> {
    const { logout } = await import("../../app/login.js");
    const r = await logout(this.registry);
    if (r._tag === "Left") return this.settle(r);
    this.context.stdout.write(`Removed login credentials for ${r.right}\n`);
    return 0;
  }
}
