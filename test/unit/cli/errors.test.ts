import { describe, expect, it } from "vitest";
import { formatNookError, reportThrown } from "../../../src/cli/report.js";
import { usageErrorLine } from "../../../src/cli/usage-error.js";
import { errnoName, NookFailure } from "../../../src/lib/errors.js";

const sink = () => {
  let text = "";
  return { write: (s: string) => (text += s), text: () => text };
};

describe("formatNookError", () => {
  it("prints one line, and a hint line only when there is a hint", () => {
    expect(formatNookError({ _tag: "X", message: "it broke" })).toBe("nook: it broke\n");
    expect(formatNookError({ _tag: "X", message: "it broke", hint: "fix it" })).toBe(
      "nook: it broke\nhint: fix it\n",
    );
  });

  it("points to nook doctor only for errors it has a check for", () => {
    expect(
      formatNookError({
        _tag: "IdMapToolMissing",
        message: "newuidmap not found in PATH",
        hint: "install it",
      }),
    ).toBe("nook: newuidmap not found in PATH\nhint: install it; run `nook doctor` for details\n");
    expect(formatNookError({ _tag: "RuntimeDir", message: "refused" })).toBe(
      "nook: refused\nhint: run `nook doctor` for details\n",
    );
    const userns = {
      _tag: "HelperStepFailed",
      message: "unshare user namespace: EPERM",
      step: "unshare user namespace",
    };
    expect(formatNookError(userns)).toMatch(/nook doctor/);
    const exec = { _tag: "HelperStepFailed", message: "exec /x: ENOENT", step: "exec /x" };
    expect(formatNookError(exec)).toBe("nook: exec /x: ENOENT\n");
    expect(formatNookError({ _tag: "ImageUnknown", message: "no such image", hint: "pull it" })).toBe(
      "nook: no such image\nhint: pull it\n",
    );
  });

  it("folds a multi-line message into one line", () => {
    expect(formatNookError({ _tag: "X", message: "a\n  b\n" })).toBe("nook: a; b\n");
  });
});

describe("reportThrown", () => {
  it("prints a NookFailure without a stack and returns its exit code", () => {
    const s = sink();
    expect(reportThrown(s, new NookFailure({ _tag: "X", message: "bad", exitCode: 3 }))).toBe(3);
    expect(s.text()).toBe("nook: bad\n");
  });

  it("treats anything else as a bug and keeps the stack", () => {
    const s = sink();
    expect(reportThrown(s, new TypeError("oops"))).toBe(125);
    expect(s.text()).toMatch(/^nook: internal error: oops\n.*at /s);
  });
});

describe("usageErrorLine", () => {
  it("calls an unmatched first word an unknown command", () => {
    const e = {
      name: "UnknownSyntaxError",
      message: "Command not found",
      candidates: [{ usage: "nook", reason: 'Extraneous positional argument ("foo")' }],
    };
    expect(usageErrorLine(e, ["foo"])).toBe('unknown command "foo" (see nook --help)');
  });

  it("keeps clipanion's reason otherwise, on one line", () => {
    const e = {
      name: "UnknownSyntaxError",
      message: "x",
      candidates: [{ usage: "", reason: 'Unsupported option name ("--x").' }],
    };
    expect(usageErrorLine(e, ["--x"])).toBe('unsupported option name ("--x") (see nook --help)');
  });
});

describe("errnoName", () => {
  it("names errno values", () => {
    expect(errnoName(2)).toBe("ENOENT");
    expect(errnoName(28)).toBe("ENOSPC");
  });
});
