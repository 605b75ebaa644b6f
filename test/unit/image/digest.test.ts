import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { Digest, digestAlgorithm, digestHex, isDigest } from "../../../src/image/digest.js";
import { decode } from "../../../src/lib/decode.js";

const SHA256 = "sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b";
const SHA512 = `sha512:${"0123456789abcdef".repeat(8)}`;

describe("Digest", () => {
  it.each([SHA256, SHA512])("accepts %s", (s) => {
    expect(Digest.decode(s)).toEqual(E.right(s));
    expect(isDigest(s)).toBe(true);
  });

  it.each([
    ["uppercase hex", SHA256.toUpperCase()],
    ["upper-case hex only", `sha256:${"A".repeat(64)}`],
    ["short", "sha256:abc"],
    ["long", `${SHA256}0`],
    ["sha256 with a sha512 length", `sha256:${"a".repeat(128)}`],
    ["sha512 with a sha256 length", `sha512:${"a".repeat(64)}`],
    ["unregistered algorithm", `md5:${"a".repeat(32)}`],
    ["no algorithm", "6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"],
    ["non-hex", `sha256:${"g".repeat(64)}`],
    ["whitespace", ` ${SHA256}`],
    ["a newline after", `${SHA256}\n`],
    ["empty", ""],
  ])("rejects %s", (_, s) => {
    expect(E.isLeft(Digest.decode(s))).toBe(true);
    expect(isDigest(s)).toBe(false);
  });

  it("names itself in decode errors", () => {
    expect(decode(Digest, "blob")("sha256:xyz")).toEqual(
      E.left({ _tag: "DecodeError", message: 'blob: expected Digest, got "sha256:xyz"' }),
    );
    expect(decode(Digest, "blob")(42)).toEqual(
      E.left({ _tag: "DecodeError", message: "blob: expected Digest, got 42" }),
    );
  });
});

describe("digestHex and digestAlgorithm", () => {
  it("split a sha256 digest", () => {
    const d = SHA256 as Digest;
    expect(digestHex(d)).toBe("6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b");
    expect(digestAlgorithm(d)).toBe("sha256");
  });

  it("split a sha512 digest", () => {
    const d = SHA512 as Digest;
    expect(digestHex(d)).toBe("0123456789abcdef".repeat(8));
    expect(digestAlgorithm(d)).toBe("sha512");
  });
});
