import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { decodeJson } from "../../../src/lib/decode.js";
import { helperArgs } from "../../../src/runtime/helper.js";
import { HelperMessage } from "../../../src/runtime/helper-message.js";

describe("helperArgs", () => {
  it("puts the sync fd first, the ops in order, and the command after --", () => {
    expect(
      helperArgs(
        [
          { op: "userns" },
          { op: "setgroups-clear" },
          { op: "setid", uid: 0, gid: 0 },
          { op: "chdir", path: "/x y" },
        ],
        ["sh", "-c", "--userns"],
      ),
    ).toEqual([
      "--sync-fd",
      "3",
      "--userns",
      "--setgroups-clear",
      "--setid",
      "0:0",
      "--chdir",
      "/x y",
      "--",
      "sh",
      "-c",
      "--userns",
    ]);
  });
});

describe("HelperMessage", () => {
  const decode = decodeJson(HelperMessage, "helper message");

  it("decodes the map request and the error report", () => {
    expect(decode('{"type":"map","pid":12}')).toEqual(E.right({ type: "map", pid: 12 }));
    expect(
      decode('{"type":"error","step":"chdir /x","errno":2,"message":"No such file or directory"}'),
    ).toEqual(E.right({ type: "error", step: "chdir /x", errno: 2, message: "No such file or directory" }));
  });

  it("rejects anything outside the closed set, naming what is wrong", () => {
    const r = decode('{"type":"error","step":"x","errno":"2","message":""}');
    expect(E.isLeft(r) && r.left.message).toMatch(/^helper message/);
    expect(E.isLeft(decode("not json"))).toBe(true);
    expect(E.isLeft(decode('{"type":"hello"}'))).toBe(true);
  });
});
