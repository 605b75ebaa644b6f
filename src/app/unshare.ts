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

export interface Forwarder {
  /** From now on signals go to `child`; those that came before it existed go first. */
  readonly attach: (child: RunningHelper["child"]) => void;
  readonly close: () => void;
}

/**
 * Installs nook's signal handlers before the helper starts: a signal that
 * arrives while the container is being set up is held and passed on once
 * the command runs, instead of killing nook (and with it the container)
 * with the default action. SIGINT from a terminal reaches the whole
 * foreground group by itself, so nook only ignores it.
 */
export const forwardSignals = (): Forwarder => {
  let target: RunningHelper["child"] | undefined;
  const held: NodeJS.Signals[] = [];
  const handlers = FORWARDED.map(
    (sig) =>
      [
        sig,
        () => {
          if (target) target.kill(sig);
          else held.push(sig);
        },
      ] as const,
  );
  const ignore = (): void => {};
  process.on("SIGINT", ignore);
  for (const [sig, h] of handlers) process.on(sig, h);
  return {
    attach: (child) => {
      target = child;
      for (const sig of held.splice(0)) child.kill(sig);
    },
    close: () => {
      process.off("SIGINT", ignore);
      for (const [sig, h] of handlers) process.off(sig, h);
    },
  };
};

/** Waits for the command, with signals passed on through `fwd`; resolves to its exit status. */
export const waitForwarding = async (running: RunningHelper, fwd: Forwarder): Promise<number> => {
  fwd.attach(running.child);
  return exitCodeOf(await running.exited);
};

export const defaultShell = (): string => process.env.SHELL || "/bin/sh";

/** Runs argv (or the user's shell) in the user namespace; resolves to the exit status to pass on. */
export const unshare = async (argv: readonly string[]): Promise<E.Either<NookError, number>> => {
  const fwd = forwardSignals();
  try {
    const started = await runInUserns(argv.length > 0 ? argv : [defaultShell()])();
    if (E.isLeft(started)) return started;
    return E.right(await waitForwarding(started.right, fwd));
  } finally {
    fwd.close();
  }
};
