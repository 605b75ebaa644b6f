import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { commandLine, environment, parseMount, resolveUser } from "../../../src/app/run.js";

const passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n";
const group = "root:x:0:\nwheel:x:10:app\napp:x:1000:\n";

describe("run's pieces", () => {
  it("combines entrypoint and command as Docker does", () => {
    const config = { Entrypoint: ["/init"], Cmd: ["serve"] };
    expect(commandLine(config, { command: [] })).toEqual(["/init", "serve"]);
    expect(commandLine(config, { command: ["x"] })).toEqual(["/init", "x"]);
    expect(commandLine(config, { command: [], entrypoint: "/bin/sh" })).toEqual(["/bin/sh"]);
    expect(commandLine(config, { command: ["-c", "id"], entrypoint: "" })).toEqual(["-c", "id"]);
  });

  it("layers the environment: image, then env files, then -e; a bare name copies the caller's", () => {
    const env = environment(["A=image", "B=image"], ["B=file"], ["C", "A=flag"], { C: "host" });
    expect(env).toEqual(expect.arrayContaining(["A=flag", "B=file", "C=host"]));
    expect(env.find((e) => e.startsWith("PATH="))).toBeDefined();
  });

  it("puts the host's environment over the image's with --env-host, under env files and -e, without nook's own", () => {
    const host = { A: "host", B: "host", D: "host", _NOOK_STORE: "/s" };
    const env = environment(["A=image", "D=image"], ["B=file"], ["A=flag"], host, true);
    expect(env).toEqual(expect.arrayContaining(["A=flag", "B=file", "D=host"]));
    expect(env.some((e) => e.startsWith("_NOOK_"))).toBe(false);
    expect(environment(["D=image"], [], [], host)).toEqual(expect.arrayContaining(["D=image"]));
  });

  it("resolves users and groups from the image's files", () => {
    expect(resolveUser("app", passwd, group)).toEqual(
      E.right({ uid: 1000, gid: 1000, home: "/home/app", groups: [1000, 10] }),
    );
    expect(resolveUser("1000:10", passwd, group)).toMatchObject(E.right({ uid: 1000, gid: 10 }));
    expect(resolveUser("", passwd, group)).toMatchObject(E.right({ uid: 0, gid: 0, home: "/root" }));
    expect(resolveUser("4242", passwd, group)).toMatchObject(E.right({ uid: 4242, gid: 4242, home: "/" }));
    expect(resolveUser("nobody", passwd, group)).toEqual(
      E.left('no user "nobody" in the image\'s /etc/passwd'),
    );
  });

  it("reads --mount's bind and tmpfs forms and names what is wrong", () => {
    expect(parseMount("type=tmpfs,target=/cache,tmpfs-size=64m,tmpfs-mode=755")).toEqual(
      E.right({ tmpfs: { path: "/cache", options: "mode=755,size=64m" } }),
    );
    expect(parseMount("type=bind,source=/tmp,target=/t,readonly")).toEqual(
      E.right({ bind: { src: "/tmp", dst: "/t", readOnly: true } }),
    );
    const noTarget = parseMount("type=tmpfs");
    expect(E.isLeft(noTarget) && noTarget.left.message).toBe(
      "--mount type=tmpfs: needs target=/ABSOLUTE/PATH",
    );
    const volume = parseMount("source=data,target=/d");
    expect(E.isLeft(volume) && volume.left.message).toBe(
      "--mount source=data,target=/d: type volume is not supported (bind and tmpfs are)",
    );
    const missing = parseMount("type=bind,source=/nope/x,target=/x");
    expect(E.isLeft(missing) && missing.left.message).toBe(
      "--mount type=bind,source=/nope/x,target=/x: /nope/x does not exist",
    );
  });
});
