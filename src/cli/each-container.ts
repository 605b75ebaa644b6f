// The shape of docker start/stop/kill/rm/wait: a verb on each container named,
// one output line per success, one error line per failure, and an exit status
// of 1 when a container was not found (Docker's), 125 for other failures.
import type { BaseContext } from "clipanion";
import type { Either } from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { reportError } from "./report.js";

export const eachContainer = async <A>(
  context: BaseContext,
  refs: readonly string[],
  verb: (ref: string) => Promise<Either<NookError, A>>,
  line: (ref: string, a: A) => string,
): Promise<number> => {
  let status = 0;
  for (const ref of refs) {
    const r = await verb(ref);
    if (r._tag === "Right") context.stdout.write(`${line(ref, r.right)}\n`);
    else {
      reportError(context.stderr, r.left);
      status = Math.max(status, r.left._tag === "ContainerUnknown" ? 1 : 125);
    }
  }
  return status;
};
