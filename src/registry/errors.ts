// The registry client's errors. Each carries the one line the user sees.
import * as t from "io-ts";

export type RegistryError =
  | { readonly _tag: "RegistryUnreachable"; readonly message: string; readonly hint?: string }
  | { readonly _tag: "RegistryUnauthorized"; readonly message: string; readonly hint?: string }
  | { readonly _tag: "ManifestUnknown"; readonly message: string }
  | { readonly _tag: "BlobUnknown"; readonly message: string }
  | { readonly _tag: "RegistryFailed"; readonly message: string; readonly status: number }
  | { readonly _tag: "DigestMismatch"; readonly message: string }
  | { readonly _tag: "RegistryProtocol"; readonly message: string };

/** The distribution spec's error body: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}. */
export const ErrorBody = t.type({
  errors: t.array(t.partial({ code: t.string, message: t.string })),
});
export type ErrorBody = t.TypeOf<typeof ErrorBody>;

/** "MANIFEST_UNKNOWN: manifest unknown" from a body, or undefined when the body is not the spec's shape. */
export const describeErrorBody = (body: Buffer): string | undefined => {
  try {
    const parsed = ErrorBody.decode(JSON.parse(body.toString("utf8")));
    if (parsed._tag === "Left") return undefined;
    const first = parsed.right.errors[0];
    if (!first) return undefined;
    return [first.code, first.message].filter((s) => s).join(": ");
  } catch {
    return undefined;
  }
};
