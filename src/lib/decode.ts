// Decoding of outside data (DESIGN.md section 4): every piece of JSON that
// comes from a registry, a file or the helper goes through an io-ts codec, and
// a failure names the path of the bad field: "manifest.layers[2].digest:
// expected string, got 42".
import * as E from "fp-ts/lib/Either.js";
import * as t from "io-ts";

export interface DecodeError {
  readonly _tag: "DecodeError";
  readonly message: string;
}

const describeValue = (v: unknown): string => {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/** "layers[2].digest" from an io-ts context; array indices in brackets. */
const pathOf = (root: string, context: t.Context): string =>
  context
    .slice(1)
    .reduce((acc, entry) => (/^\d+$/.test(entry.key) ? `${acc}[${entry.key}]` : `${acc}.${entry.key}`), root);

/** The first (deepest-reported) failure as one line. */
export const formatValidationErrors = (root: string, errors: t.Errors): string => {
  const first = errors[0];
  if (!first) return `${root}: invalid`;
  const expected = first.context[first.context.length - 1]?.type.name ?? "valid value";
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return `${pathOf(root, first.context)}: expected ${expected}, got ${describeValue(first.value)}${more}`;
};

export const decode =
  <A, O>(codec: t.Type<A, O, unknown>, root: string) =>
  (input: unknown): E.Either<DecodeError, A> =>
    E.mapLeft((errors: t.Errors): DecodeError => ({
      _tag: "DecodeError",
      message: formatValidationErrors(root, errors),
    }))(codec.decode(input));

/** JSON.parse, then decode; a syntax error is a DecodeError too. */
export const decodeJson =
  <A, O>(codec: t.Type<A, O, unknown>, root: string) =>
  (text: string): E.Either<DecodeError, A> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return E.left({ _tag: "DecodeError", message: `${root}: not JSON (${(e as Error).message})` });
    }
    return decode(codec, root)(parsed);
  };

/** An array that Docker omits or writes as null (Go's nil slice) when it is empty: decoded as []. */
export const listOf = <C extends t.Mixed>(
  codec: C,
  name: string,
): t.Type<ReadonlyArray<t.TypeOf<C>>, unknown> => {
  const list = t.readonlyArray(codec, name);
  return new t.Type<ReadonlyArray<t.TypeOf<C>>, unknown>(
    name,
    list.is,
    (u, c) => (u === null || u === undefined ? t.success([]) : list.validate(u, c)),
    list.encode,
  );
};
