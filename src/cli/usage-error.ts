// clipanion's syntax errors are several lines with candidate usages; nook
// prints one line naming what it did not understand.

export interface SyntaxErrorLike {
  name: string;
  message: string;
  candidates?: { usage: string; reason: string | null }[];
}

/** clipanion's multi-line syntax errors, as one line naming what it did not understand. */
export const usageErrorLine = (e: SyntaxErrorLike, argv: readonly string[]): string => {
  const reason = e.candidates
    ?.find((c) => c.reason)
    ?.reason?.replace(/\s+/g, " ")
    .replace(/\.$/, "");
  const extraneous = reason?.match(/^Extraneous positional argument \("(.*)"\)$/);
  if (extraneous && argv.find((a) => !a.startsWith("-")) === extraneous[1])
    return `unknown command "${extraneous[1]}" (see nook --help)`;
  const text = reason ?? (e.message.split("\n")[0] ?? e.message).replace(/\.$/, "");
  return `${text.charAt(0).toLowerCase()}${text.slice(1)} (see nook --help)`;
};
