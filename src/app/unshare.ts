// nook unshare: a shell (or a command) as root of the user's user namespace,
// to look at or fix files that subordinate ids own, like `podman unshare`.
import { constants } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import type { ExitStatus, RunningHelper } from "../runtime/helper.js";
import { runInUserns } from "../runtime/userns.js";

/** Signals a terminal sends to the whole foreground group reach the command by themselves; others are passed on. */
const FORWARDED: NodeJS.Signals[] = ["SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"];

export const exitCodeOf = (s: ExitStatus): number =>
  s.code ?? 128 + (s.signal ? (constants.signals[s.signal] ?? 0) : 0);

export const waitForwarding = async (running: RunningHelper): Promise<number> => {
  const forward = (sig: NodeJS.Signals) => () => running.child.kill(sig);
  const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
  const ignore = () => {};
  process.on("SIGINT", ignore);
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    return exitCodeOf(await running.exited);
  } finally {
    process.off("SIGINT", ignore);
    for (const [sig, h] of handlers) process.off(sig, h);
  }
};

export const defaultShell = (): string => process.env.SHELL || "/bin/sh";

/** Runs argv (or the user's shell) in the user namespace; resolves to the exit status to pass on. */
export const unshare = async (argv: readonly string[]): Promise<E.Either<NookError, number>> => {
  const started = await runInUserns(argv.length > 0 ? argv : [defaultShell()])();
  if (E.isLeft(started)) return started;
  return E.right(await waitForwarding(started.right));
};
