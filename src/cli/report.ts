// The one place that prints errors for the user: one line "nook: what went
// wrong", and a second "hint: ..." line only when there is a fix to copy.
// Stack traces are for broken invariants (bugs) only.
import { EXIT_NOOK_FAILED, NookFailure, type NookError } from "../lib/errors.js";

export interface ErrorSink {
  write(text: string): unknown;
}

const oneLine = (s: string): string => s.trim().replace(/\s*\n\s*/g, "; ");

/**
 * Errors that `nook doctor` has a check for, which says more than the error
 * can (the sysctls, which tool, whose directory, the fix): only these end by
 * pointing to it.
 */
const DOCTOR_TAGS = new Set([
  "IdMapToolMissing",
  "IdMapToolNotPrivileged",
  "IdMapToolFailed",
  "IdMapWriteFailed",
  "SubuidMissing",
  "SubgidMissing",
  "HelperMissing",
  "LocationRefused",
  "RuntimeDir",
  "FuseUnavailable",
]);

export const doctorHasDetails = (e: NookError): boolean => {
  if (DOCTOR_TAGS.has(e._tag)) return true;
  if (e._tag !== "HelperStepFailed") return false;
  const step = (e as NookError & { step?: string }).step ?? "";
  return step.startsWith("unshare user namespace") || step.includes("fuse-overlayfs");
};

const DOCTOR = "run `nook doctor` for details";

export const formatNookError = (e: NookError): string => {
  const hint = doctorHasDetails(e)
    ? e.hint
      ? `${oneLine(e.hint)}; ${DOCTOR}`
      : DOCTOR
    : e.hint && oneLine(e.hint);
  return `nook: ${oneLine(e.message)}\n${hint ? `hint: ${hint}\n` : ""}`;
};

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
