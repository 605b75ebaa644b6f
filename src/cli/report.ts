// The one place that prints errors for the user: one line "nook: what went
// wrong", and a second "hint: ..." line only when there is a fix to copy.
// Stack traces are for broken invariants (bugs) only.
import { EXIT_NOOK_FAILED, NookFailure, type NookError } from "../lib/errors.js";

export interface ErrorSink {
  write(text: string): unknown;
}

const oneLine = (s: string): string => s.trim().replace(/\s*\n\s*/g, "; ");

export const formatNookError = (e: NookError): string =>
  `nook: ${oneLine(e.message)}\n${e.hint ? `hint: ${oneLine(e.hint)}\n` : ""}`;

/** Prints a NookError and returns its exit status. */
export const reportError = (stderr: ErrorSink, e: NookError): number => {
  stderr.write(formatNookError(e));
  return e.exitCode ?? EXIT_NOOK_FAILED;
};

/** For anything thrown: NookFailure is a user error; anything else is a bug and keeps its stack. */
export const reportThrown = (stderr: ErrorSink, thrown: unknown): number => {
  if (thrown instanceof NookFailure) return reportError(stderr, thrown.error);
  const err = thrown instanceof Error ? thrown : new Error(String(thrown));
  stderr.write(`nook: internal error: ${oneLine(err.message)}\n${err.stack ?? ""}\n`);
  stderr.write("nook: this is a bug in nook; please report it with the command you ran\n");
  return EXIT_NOOK_FAILED;
};
