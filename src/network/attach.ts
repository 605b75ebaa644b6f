// Connecting a container's new network namespace to the host, while the
// helper waits in it (its --net-wait step): pasta, or slirp4netns, joined to
// the namespaces of the helper's pid, the container's ports published. Each
// runs outside the container and outlives nook (a detached container keeps
// its network); its pid goes to a file the helper reads, so that the
// container's end ends it too (native/src/container.c).
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import * as E from "fp-ts/lib/Either.js";
import type * as TE from "fp-ts/lib/TaskEither.js";
import { pastaArgs, slirpArgs, slirpForwards, type NetworkKind, type PortSpec } from "./network.js";

export interface NetworkPlan {
  readonly kind: NetworkKind;
  readonly options: readonly string[];
  readonly ports: readonly PortSpec[];
  readonly hostLoopback: boolean;
  /** Where the network helper's pid is written (the helper's --net-wait reads it). */
  readonly pidFile: string;
  /** Where the network helper writes what it has to say. */
  readonly logFile: string;
  /** slirp4netns's API socket (short: a unix socket path has 108 bytes at most). */
  readonly apiSocket: string;
}

export interface NetworkError {
  readonly _tag: "NetworkFailed";
  readonly message: string;
}

const failed = (message: string): NetworkError => ({ _tag: "NetworkFailed", message });

/** The first line worth showing from a helper's log (pasta also complains that it has no syslog). */
const firstLine = (file: string): string => {
  try {
    return (
      readFileSync(file, "utf8")
        .split("\n")
        .map((l) => l.trim())
        .find((l) => l !== "" && !/syslog/.test(l)) ?? ""
    );
  } catch {
    return "";
  }
};

const withLog = <A>(plan: NetworkPlan, run: (log: number) => Promise<A>): Promise<A> => {
  const log = openSync(plan.logFile, "w", 0o600);
  return run(log).finally(() => closeSync(log));
};

/** pasta configures the interface and forwards the ports, then goes to the background: its exit 0 is "ready". */
const attachPasta = (plan: NetworkPlan, pid: number): Promise<E.Either<NetworkError, void>> =>
  withLog(
    plan,
    (log) =>
      new Promise((resolve) => {
        const child = spawn(
          "pasta",
          pastaArgs(pid, plan.ports, plan.hostLoopback, plan.pidFile, plan.options),
          {
            stdio: ["ignore", log, log],
          },
        );
        child.once("error", (e) => resolve(E.left(failed(`start pasta: ${e.message}`))));
        child.once("exit", (code) => {
          if (code === 0) return resolve(E.right(undefined));
          const why = firstLine(plan.logFile);
          resolve(E.left(failed(`pasta exited with status ${code}${why ? `: ${why}` : ""}`)));
        });
      }),
  );

/** One request to slirp4netns's API socket, one JSON answer. */
const slirpRequest = (socket: string, request: string): Promise<E.Either<string, void>> =>
  new Promise((resolve) => {
    let answer = "";
    const c = connect(socket, () => c.end(request));
    c.setEncoding("utf8");
    c.on("data", (d: string) => (answer += d));
    c.on("error", (e) => resolve(E.left(e.message)));
    c.on("close", () => {
      try {
        const parsed = JSON.parse(answer) as { error?: { desc?: string } };
        resolve(parsed.error ? E.left(parsed.error.desc ?? answer) : E.right(undefined));
      } catch {
        resolve(E.left(`unreadable answer ${JSON.stringify(answer)}`));
      }
    });
  });

/** slirp4netns stays in the foreground (detached from nook): ready when it writes "1" on its ready fd. */
const attachSlirp = (plan: NetworkPlan, pid: number): Promise<E.Either<NetworkError, void>> =>
  withLog(plan, async (log) => {
    const child = spawn("slirp4netns", slirpArgs(pid, plan.hostLoopback, plan.apiSocket, 3, plan.options), {
      stdio: ["ignore", log, log, "pipe"],
      detached: true,
    });
    const ready = await new Promise<E.Either<NetworkError, void>>((resolve) => {
      const fd = child.stdio[3];
      fd?.once("data", () => resolve(E.right(undefined)));
      child.once("error", (e) => resolve(E.left(failed(`start slirp4netns: ${e.message}`))));
      child.once("exit", (code) => {
        const why = firstLine(plan.logFile);
        resolve(E.left(failed(`slirp4netns exited with status ${code}${why ? `: ${why}` : ""}`)));
      });
    });
    child.stdio[3]?.destroy();
    child.unref();
    if (E.isLeft(ready)) return ready;
    writeFileSync(plan.pidFile, `${child.pid}\n`);
    for (const [i, request] of slirpForwards(plan.ports).entries()) {
      const r = await slirpRequest(plan.apiSocket, request);
      const p = plan.ports[i];
      if (E.isLeft(r)) {
        child.kill("SIGTERM");
        return E.left(
          failed(
            `publish ${p?.hostIp || "0.0.0.0"}:${p?.hostPort}/${p?.proto}: slirp4netns could not bind it (in use?): ${r.left}`,
          ),
        );
      }
    }
    return E.right(undefined);
  });

/** What the helper's --net-wait step asks of nook: the network, attached to `pid`'s namespaces. */
export const attachNetwork =
  (plan: NetworkPlan) =>
  (pid: number): TE.TaskEither<NetworkError, void> =>
  () =>
    plan.kind === "pasta"
      ? attachPasta(plan, pid)
      : plan.kind === "slirp4netns"
        ? attachSlirp(plan, pid)
        : Promise.resolve(E.right(undefined));
