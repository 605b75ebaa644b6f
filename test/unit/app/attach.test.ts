import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { parseDetachKeys } from "../../../src/app/attach.js";

describe("parseDetachKeys (Docker's --detach-keys)", () => {
  it("reads ctrl- keys and single characters", () => {
    expect(parseDetachKeys("ctrl-p,ctrl-q")).toEqual(E.right([16, 17]));
    expect(parseDetachKeys("ctrl-@,ctrl-[,ctrl-_,x")).toEqual(E.right([0, 27, 31, 120]));
    expect(parseDetachKeys("CTRL-A")).toEqual(E.right([1]));
  });

  it("takes an empty value as no detach keys", () => {
    expect(parseDetachKeys("")).toEqual(E.right([]));
  });

  it("refuses what is neither", () => {
    expect(parseDetachKeys("ctrl-?")).toEqual(E.left('--detach-keys: bad key "ctrl-?"'));
    expect(E.isLeft(parseDetachKeys("alt-x"))).toBe(true);
    expect(E.isLeft(parseDetachKeys("ctrl-p,"))).toBe(true);
  });
});
