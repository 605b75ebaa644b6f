// The command line as a user meets it: help, version, and one-line errors with
// exit status 2 for what nook does not understand.
import { readFileSync } from "node:fs";
import { expect, inject, it } from "vitest";
import { nook } from "../support/nook.js";
import type { TestUser } from "../support/users.js";

const anyUser = (): TestUser => {
  const { sub, nosub } = inject("users");
  if ("user" in sub) return sub.user;
  if ("user" in nosub) return nosub.user;
  throw new Error(`no test user available: ${sub.skip}`);
};

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  version: string;
};

it("prints the package version for --version", async () => {
  const r = await nook(anyUser(), ["--version"]);
  expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
});

it("lists the commands with their descriptions for --help and for no arguments", async () => {
  for (const args of [["--help"], []]) {
    const r = await nook(anyUser(), args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nook unshare \.\.\.\n\s+run a command as root of your user namespace/);
    expect(r.stdout).not.toContain("\u001b["); // no colour when not a terminal
  }
});

it("shows a command's own help", async () => {
  const r = await nook(anyUser(), ["unshare", "--help"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/Run a command as root of your user namespace/);
  expect(r.stdout).toMatch(/nook unshare cat \/proc\/self\/uid_map/);
});

it("rejects an unknown command in one line with exit status 2", async () => {
  const r = await nook(anyUser(), ["frobnicate", "x"]);
  expect(r).toMatchObject({
    code: 2,
    stdout: "",
    stderr: 'nook: unknown command "frobnicate" (see nook --help)\n',
  });
});

it("rejects an unknown option in one line with exit status 2", async () => {
  const r = await nook(anyUser(), ["--frobnicate"]);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^nook: [^\n]*--frobnicate[^\n]*\n$/);
});
