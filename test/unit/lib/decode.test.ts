import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";
import { describe, expect, it } from "vitest";
import { decode, decodeJson } from "../../../src/lib/decode.js";

const Manifest = t.type({
  schemaVersion: t.number,
  layers: t.array(t.type({ digest: t.string, size: t.number })),
});

describe("decode", () => {
  it("names the path of the bad field, with array indices", () => {
    const r = decode(
      Manifest,
      "manifest",
    )({
      schemaVersion: 2,
      layers: [
        { digest: "a", size: 1 },
        { digest: 42, size: 1 },
      ],
    });
    expect(r).toEqual(
      E.left({ _tag: "DecodeError", message: "manifest.layers[1].digest: expected string, got 42" }),
    );
  });

  it("says a missing field is nothing", () => {
    const r = decode(Manifest, "manifest")({ layers: [] });
    expect(E.isLeft(r) && r.left.message).toBe("manifest.schemaVersion: expected number, got nothing");
  });

  it("shortens long values", () => {
    const r = decode(t.number, "n")("x".repeat(100));
    expect(E.isLeft(r) && r.left.message).toMatch(/^n: expected number, got "x{30,}\.\.\.$/);
  });

  it("reports JSON syntax errors as decode errors", () => {
    const r = decodeJson(Manifest, "manifest")("{");
    expect(E.isLeft(r) && r.left.message).toMatch(/^manifest: not JSON/);
  });

  it("passes valid input through", () => {
    expect(decodeJson(Manifest, "manifest")('{"schemaVersion":2,"layers":[]}')).toEqual(
      E.right({ schemaVersion: 2, layers: [] }),
    );
  });
});
