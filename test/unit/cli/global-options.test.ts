import { describe, expect, it } from "vitest";
import { takeGlobalOptions } from "../../../src/cli/main.js";

describe("takeGlobalOptions", () => {
  it("takes --root and --runroot before the command, in both spellings", () => {
    const env: NodeJS.ProcessEnv = {};
    expect(takeGlobalOptions(["--root", "/a", "--runroot=/b", "run", "--root", "x"], env)).toEqual({
      argv: ["run", "--root", "x"],
    });
    expect(env).toEqual({ _NOOK_ROOT_FLAG: "/a", _NOOK_RUNROOT_FLAG: "/b" });
  });

  it("leaves a command line without them alone", () => {
    const env: NodeJS.ProcessEnv = {};
    expect(takeGlobalOptions(["ps", "-a"], env)).toEqual({ argv: ["ps", "-a"] });
    expect(env).toEqual({});
  });

  it("wants an absolute path", () => {
    expect(takeGlobalOptions(["--root"], {})).toEqual({ error: "--root needs an absolute path" });
    expect(takeGlobalOptions(["--root", "rel", "ps"], {})).toEqual({
      error: "--root needs an absolute path",
    });
  });
});
