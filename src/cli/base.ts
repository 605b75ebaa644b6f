import { Command } from "clipanion";
import type { Either } from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { reportError, reportThrown } from "./report.js";

/**
 * Every nook command: `run()` does the work and returns an exit status;
 * nothing it throws reaches clipanion's own printer (which writes errors with
 * stack traces to stdout).
 */
export abstract class NookCommand extends Command {
  abstract run(): Promise<number>;

  override async execute(): Promise<number> {
    try {
      return await this.run();
    } catch (e) {
      return reportThrown(this.context.stderr, e);
    }
  }

  /** A bad option value: one line, exit status 125 as Podman gives it. */
  protected fail(message: string, hint?: string): number {
    return reportError(this.context.stderr, { _tag: "BadOption", message, ...(hint ? { hint } : {}) });
  }

  /** The exit status of a use case's result: Right is the status, Left is printed. */
  protected settle(result: Either<NookError, number>): number {
    // A plain tag test: fp-ts stays out of the start-up path.
    return result._tag === "Right" ? result.right : reportError(this.context.stderr, result.left);
  }
}
