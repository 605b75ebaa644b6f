import { constants } from "node:os";

// Errors that reach the user. Each module has its own tagged union of errors
// (youki's per-module enums); every member carries the one line the user sees,
// built where the facts are known, and optionally a hint (the fix to copy).
// cli/report.ts is the one place that prints them.

export interface NookError {
  readonly _tag: string;
  /** One line, no trailing period: "newuidmap not found in PATH". */
  readonly message: string;
  /** What to do about it, also one line, or absent. */
  readonly hint?: string;
  /** Exit status for the CLI; 125 (nook itself failed) when absent. */
  readonly exitCode?: number;
}

/** Exit status when nook itself fails, as Docker and Podman use it. */
export const EXIT_NOOK_FAILED = 125;
/** Exit status for a malformed command line. */
export const EXIT_USAGE = 2;

/** Carries a NookError through code that can only throw (clipanion's execute). */
export class NookFailure extends Error {
  constructor(readonly error: NookError) {
    super(error.message);
    this.name = "NookFailure";
  }
}

/** "ENOENT" for 2; "errno 999" for a number the platform does not name. */
// From os.constants rather than util.getSystemErrorName: node:util pulls in
// a dozen modules at start-up that nook run does not otherwise need.
let names: Map<number, string> | undefined;

export const errnoName = (errno: number): string => {
  names ??= new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));
  return names.get(Math.abs(errno)) ?? `errno ${errno}`;
};
