// Containers that outlive the command, as the unprivileged test users: run
// -d, then separate nook invocations for ps, exec, logs, stop, kill, wait,
// inspect and rm; a monitor or pid 1 killed from outside; 20 containers at
// once; two nooks acting on one container.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, descendants, nookBin, runAs, running } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";

const bb = (): string => `${inject("registry")}/busybox`;

interface Inspected {
  Id: string;
  Name: string;
  State: {
    Status: string;
    Running: boolean;
    Pid: number;
    ExitCode: number;
    StartedAt: string;
    FinishedAt: string;
  };
  Config: { Hostname: string; Cmd: string[]; Image: string };
}

describeAs("sub", "detached containers and the verbs on them", (user) => {
  let s: TestStore;
  const containersDir = (): string => join(s.dataHome, "nook", "containers");
  const inspect = async (ref: string): Promise<Inspected> => {
    const r = await s.nook(["inspect", ref]);
    expect(r.stderr).toBe("");
    return (JSON.parse(r.stdout) as Inspected[])[0]!;
  };
  /** The monitor of a container's current run and everything below it. */
  const processesOf = (id: string): number[] => {
    const started = JSON.parse(readFileSync(join(containersDir(), id, "started.json"), "utf8")) as {
      monitorPid: number;
    };
    return [started.monitorPid, ...descendants(started.monitorPid)];
  };

  beforeAll(async () => {
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
  });
  afterAll(async () => s.remove());

  it("runs detached; ps, exec, logs, stop, inspect and rm each work from a separate nook", async () => {
    const run = await s.nook([
      "run",
      "-d",
      "--name",
      "web",
      "--hostname",
      "webhost",
      bb(),
      "sh",
      "-c",
      "echo started; echo oops >&2; exec sleep 1000",
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const id = run.stdout.trim();
    expect(id).toMatch(/^[0-9a-f]{64}$/);

    const ps = await s.nook(["ps"]);
    expect(ps.stdout.split("\n")[0]).toMatch(
      /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/,
    );
    expect(ps.stdout).toMatch(new RegExp(`^${id.slice(0, 12)}\\s+.*busybox.*Up .*web$`, "m"));
    const json = (await s.nook(["ps", "--format", "json"])).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json).toEqual([expect.objectContaining({ ID: id.slice(0, 12), Names: "web", State: "running" })]);

    // exec: the same hostname, the container's processes (sleep is pid 1), the same rootfs.
    const inside = await s.nook([
      "exec",
      "web",
      "sh",
      "-c",
      "hostname; cat /proc/1/comm; echo made > /tmp/f",
    ]);
    expect(inside.stderr).toBe("");
    expect(inside.stdout).toBe("webhost\nsleep\n");
    expect((await s.nook(["exec", id.slice(0, 8), "cat", "/tmp/f"])).stdout).toBe("made\n");
    // A file of a subordinate id in the container's layer, for rm to remove.
    expect((await s.nook(["exec", "-u", "1000", "web", "touch", "/tmp/by-1000"])).code).toBe(0);
    expect((await s.nook(["exec", "web", "false"])).code).toBe(1);
    expect((await s.nook(["exec", "web", "no-such-command"])).code).toBe(127);

    const logs = await s.nook(["logs", "web"]);
    expect(logs.stdout).toBe("started\n");
    expect(logs.stderr).toBe("oops\n");

    const procs = processesOf(id);
    expect(procs.length).toBeGreaterThanOrEqual(2);
    const t0 = Date.now();
    const stop = await s.nook(["stop", "-t", "1", "web"]);
    expect(stop.stdout).toBe("web\n");
    // sleep as pid 1 ignores SIGTERM: SIGKILL after the second.
    expect(Date.now() - t0).toBeLessThan(5000);
    const after = await inspect("web");
    expect(after.State).toMatchObject({ Status: "exited", Running: false, ExitCode: 137 });
    expect(after.Config).toMatchObject({ Hostname: "webhost", Image: bb() });
    expect(procs.filter(running)).toEqual([]);
    expect((await s.nook(["ps", "-a"])).stdout).toMatch(/Exited \(137\) .* ago\s+web$/m);

    const rm = await s.nook(["rm", "web"]);
    expect(rm.stderr).toBe("");
    expect(rm.stdout).toBe("web\n");
    expect(existsSync(join(containersDir(), id))).toBe(false);
    expect((await s.nook(["ps", "-aq"])).stdout).toBe("");
  });

  it("records the exit code, which wait prints; start runs an exited container again", async () => {
    const id = (await s.nook(["run", "-d", bb(), "sh", "-c", "echo run; exit 3"])).stdout.trim();
    const wait = await s.nook(["wait", id]);
    expect(wait.stdout).toBe("3\n");
    expect((await inspect(id)).State).toMatchObject({ Status: "exited", ExitCode: 3 });
    expect((await s.nook(["start", id.slice(0, 12)])).stdout).toBe(`${id.slice(0, 12)}\n`);
    expect((await s.nook(["wait", id])).stdout).toBe("3\n");
    // Both runs' output, in order.
    expect((await s.nook(["logs", id])).stdout).toBe("run\nrun\n");
    expect((await s.nook(["rm", id])).code).toBe(0);
  });

  it("follows the log with -f until the container ends, and keeps stdout and stderr apart", async () => {
    const id = (
      await s.nook([
        "run",
        "-d",
        bb(),
        "sh",
        "-c",
        "for i in 1 2 3; do echo $i; echo e$i >&2; sleep 0.3; done",
      ])
    ).stdout.trim();
    const r = await s.nook(["logs", "-f", "-t", id]);
    expect(r.stdout.split("\n").map((l) => l.replace(/^\S+Z /, ""))).toEqual(["1", "2", "3", ""]);
    expect(r.stderr).toBe(
      r.stderr
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => `${l}\n`)
        .join(""),
    );
    expect(r.stderr.replace(/^\S+Z /gm, "")).toBe("e1\ne2\ne3\n");
    // --tail counts the lines of both streams, as Docker's does: the last one is e3.
    const tail = await s.nook(["logs", "--tail", "2", id]);
    expect([tail.stdout, tail.stderr]).toEqual(["3\n", "e3\n"]);
    await s.nook(["rm", id]);
  });

  it("never shows a container as running after its monitor or its pid 1 is killed", async () => {
    const a = (await s.nook(["run", "-d", bb(), "sleep", "1000"])).stdout.trim();
    const b = (await s.nook(["run", "-d", bb(), "sleep", "1000"])).stdout.trim();
    const procsA = processesOf(a);
    const monitorA = procsA[0]!;
    const pid1B = (await inspect(b)).State.Pid;
    expect(pid1B).toBeGreaterThan(0);
    await runAs(user(), ["kill", "-KILL", String(monitorA)]);
    await runAs(user(), ["kill", "-KILL", String(pid1B)]);
    await new Promise((r) => setTimeout(r, 300));
    const ps = await s.nook(["ps", "-a", "--format", "json"]);
    const states = Object.fromEntries(
      ps.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { ID: string; State: string; Status: string })
        .map((c) => [c.ID, c.Status]),
    );
    expect(states[a.slice(0, 12)]).toMatch(/^Exited \(137\)/);
    expect(states[b.slice(0, 12)]).toMatch(/^Exited \(137\)/);
    // The killed monitor's container went with it (pid 1's parent-death signal).
    expect(procsA.filter(running)).toEqual([]);
    expect((await s.nook(["rm", a, b])).code).toBe(0);
  });

  it("runs 20 detached containers at once, lists them, and removes them leaving nothing behind", async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.nook(["run", "-d", "--name", `many${i}`, bb(), "sleep", "1000"]),
      ),
    );
    expect(runs.map((r) => r.code)).toEqual(Array(20).fill(0));
    const ids = runs.map((r) => r.stdout.trim());
    const ps = await s.nook(["ps", "-q", "--no-trunc"]);
    expect(ps.stdout.trim().split("\n").sort()).toEqual([...ids].sort());
    // 20 ids of 16 possible first digits: two share one, and that prefix is ambiguous.
    const first = ids.map((i) => i[0]!).find((c, i, all) => all.indexOf(c) !== i)!;
    const ambiguous = await s.nook(["inspect", first]);
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr.split("\n")[0]).toMatch(
      new RegExp(`^nook: ${first} names \\d+ containers .*: give more of the id$`),
    );
    const procs = ids.flatMap(processesOf);
    expect(procs.length).toBeGreaterThanOrEqual(40);
    const rm = await s.nook(["rm", "-f", ...ids.map((i) => i.slice(0, 12))]);
    expect(rm.stderr).toBe("");
    expect(rm.code).toBe(0);
    expect(procs.filter(running)).toEqual([]);
    expect(readdirSync(containersDir())).toEqual([]);
  });

  it("refuses a name in use and verbs the status does not allow, in one line each", async () => {
    const id = (await s.nook(["run", "-d", "--name", "dup", bb(), "sleep", "1000"])).stdout.trim();
    const again = await s.nook(["run", "-d", "--name", "dup", bb(), "true"]);
    expect(again.code).toBe(125);
    expect(again.stderr.split("\n")[0]).toBe(
      `nook: the name dup is already in use by container ${id.slice(0, 12)}`,
    );
    const rm = await s.nook(["rm", "dup"]);
    expect(rm.code).toBe(125);
    expect(rm.stderr.split("\n")[0]).toBe("nook: container dup is running: stop it first, or use rm -f");
    const start = await s.nook(["start", "dup"]);
    expect(start.stderr.split("\n")[0]).toBe("nook: container dup is running: it is already running");
    const unknown = await s.nook(["stop", "nosuch"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.split("\n")[0]).toBe("nook: no such container: nosuch");
    expect((await s.nook(["kill", "-s", "NOPE", "dup"])).code).toBe(125);
    expect((await s.nook(["kill", "-s", "TERM", "dup"])).code).toBe(0);
    await s.nook(["rm", "-f", "dup"]);
  });

  it("lets rm -f and stop act on one container at once: both end, nothing is left", async () => {
    const id = (await s.nook(["run", "-d", bb(), "sleep", "1000"])).stdout.trim();
    const procs = processesOf(id);
    const [stop, rm] = await Promise.all([s.nook(["stop", "-t", "3", id]), s.nook(["rm", "-f", id])]);
    expect(rm.code).toBe(0);
    // stop either finished first, or found the container gone.
    expect([0, 1]).toContain(stop.code);
    if (stop.code === 1) expect(stop.stderr).toBe(`nook: no such container: ${id}\n`);
    expect(procs.filter(running)).toEqual([]);
    expect(existsSync(join(containersDir(), id))).toBe(false);
  });

  it("logs a detached container's terminal (-dt), whose /dev/console is that terminal", async () => {
    const id = (
      await s.nook(["run", "-dt", bb(), "sh", "-c", "tty; echo hi; stty size; exec sleep 1000"])
    ).stdout.trim();
    let logs = "";
    for (let i = 0; i < 40 && !logs.includes("24 80"); i++) {
      await new Promise((r) => setTimeout(r, 50));
      logs = (await s.nook(["logs", id])).stdout;
    }
    // The pty's "\r\n" is a line end in the log, as in Podman's.
    expect(logs).toBe("/dev/pts/0\nhi\n24 80\n");
    const console = await s.nook(["exec", id, "stat", "-c", "%t:%T", "/dev/console"]);
    expect(console.stdout).toBe("88:0\n");
    await s.nook(["rm", "-f", id]);
  });

  it("lists a container's processes with top, host pids of its pid namespace only", async () => {
    const id = (await s.nook(["run", "-d", bb(), "sh", "-c", "sleep 1000 & exec sleep 2000"])).stdout.trim();
    const pid1 = (await inspect(id)).State.Pid;
    let top = "";
    for (let i = 0; i < 40 && !top.includes("sleep 1000"); i++) {
      await new Promise((r) => setTimeout(r, 50));
      top = (await s.nook(["top", id])).stdout;
    }
    const lines = top.trim().split("\n");
    expect(lines[0]).toMatch(/^UID\s+PID\s+PPID\s+CMD$/);
    expect(
      lines
        .slice(1)
        .map((l) => l.split(/\s+/).slice(1, 2)[0])
        .map(Number),
    ).toContain(pid1);
    expect(
      lines
        .slice(1)
        .map((l) => l.replace(/^(\S+\s+){3}/, ""))
        .sort(),
    ).toEqual(["sleep 1000", "sleep 2000"]);
    await s.nook(["rm", "-f", id]);
    const gone = await s.nook(["top", id]);
    expect(gone.stderr).toBe(`nook: no such container: ${id}\n`);
  });

  it("keeps an image a container was made from: rmi refuses, rmi -f only untags, prune leaves it", async () => {
    const id = (await s.nook(["run", "-d", "--name", "user1", bb(), "sleep", "1000"])).stdout.trim();
    const imageId = (await inspect(id)) as unknown as { Image: string };
    const rmi = await s.nook(["rmi", bb()]);
    expect(rmi.code).toBe(125);
    expect(rmi.stderr.split("\n")[0]).toBe(
      `nook: unable to remove ${bb()} (must be forced): container user1 is using image ${imageId.Image.slice(7, 19)}`,
    );
    const forced = await s.nook(["rmi", "-f", bb()]);
    expect(forced.stdout).toBe(`Untagged: ${bb()}:latest\n`);
    expect((await s.nook(["image", "prune", "-f"])).stdout).not.toContain(imageId.Image);
    // The container runs on its layers, and starts again after a stop.
    expect((await s.nook(["exec", id, "true"])).code).toBe(0);
    expect((await s.nook(["stop", "-t", "0", id])).code).toBe(0);
    expect((await s.nook(["start", id])).code).toBe(0);
    expect((await s.nook(["exec", id, "true"])).code).toBe(0);
    await s.nook(["rm", "-f", id]);
    // The name back, for the tests after this one.
    expect((await s.nook(["tag", imageId.Image, bb()])).code).toBe(0);
  });

  it("passes none of the caller's other open files to run, run -d or exec (stdin, stdout, stderr only)", async () => {
    const withFd9 = (args: string[]): Promise<{ stdout: string; code: number | null }> =>
      runAs(
        user(),
        ["sh", "-c", 'exec 9</etc/hostname; exec "$0" "$@"', process.execPath, nookBin(), ...args],
        {
          env: s.env,
        },
      );
    // ls's own directory fd is the 3.
    expect((await withFd9(["run", "--rm", bb(), "ls", "/proc/self/fd"])).stdout).toBe("0\n1\n2\n3\n");
    const id = (await withFd9(["run", "-d", bb(), "sleep", "1000"])).stdout.trim();
    expect((await s.nook(["exec", id, "ls", "/proc/1/fd"])).stdout).toBe("0\n1\n2\n");
    expect((await withFd9(["exec", id, "ls", "/proc/self/fd"])).stdout).toBe("0\n1\n2\n3\n");
    await s.nook(["rm", "-f", id]);
  });

  it("execs into a --network host container, binds under missing parents, and ends logs quietly for a closed reader", async () => {
    const id = (
      await s.nook([
        "run",
        "-d",
        "--network",
        "host",
        "-v",
        "/etc:/made/for/it:ro",
        bb(),
        "sh",
        "-c",
        "seq 50000; exec sleep 1000",
      ])
    ).stdout.trim();
    const e = await s.nook(["exec", id, "sh", "-c", "ls /made/for/it/hostname && ls /sys/class/net | wc -l"]);
    expect(e.stderr).toBe("");
    expect(e.stdout.split("\n")[0]).toBe("/made/for/it/hostname");
    const head = await runAs(
      user(),
      ["sh", "-c", `"$0" "$@" | head -1`, process.execPath, nookBin(), "logs", id],
      {
        env: s.env,
      },
    );
    expect(head.stdout).toBe("1\n");
    expect(head.stderr).toBe("");
    await s.nook(["rm", "-f", id]);
  });

  it("shows a foreground container in ps while it runs, and lets exec join it", async () => {
    const fg = s.nook(["run", "--name", "fg", bb(), "sh", "-c", "sleep 2; echo done"]);
    let seen = "";
    for (let i = 0; i < 40 && !seen.includes("fg"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = (await s.nook(["ps"])).stdout;
    }
    expect(seen).toMatch(/Up .*fg$/m);
    expect((await s.nook(["exec", "fg", "cat", "/proc/1/comm"])).stdout).toBe("sh\n");
    const done = await fg;
    expect(done.stdout).toBe("done\n");
    expect((await inspect("fg")).State).toMatchObject({ Status: "exited", ExitCode: 0 });
    await s.nook(["rm", "fg"]);
  });

  /** nook ARGS with `input` on its stdin, through sh (runAs gives no stdin). */
  const nookWithInput = (input: string, args: string[]) =>
    runAs(user(), ["sh", "-c", `printf '${input}' | "$0" "$@"`, process.execPath, nookBin(), ...args], {
      env: s.env,
    });

  it("start -a prints a created container's output from its first byte, stdout and stderr apart, with its exit code", async () => {
    const id = (
      await s.nook(["create", "--network", "none", bb(), "sh", "-c", "echo out; echo err >&2; exit 3"])
    ).stdout.trim();
    const r = await s.nook(["start", "-a", id]);
    expect(r).toMatchObject({ stdout: "out\n", stderr: "err\n", code: 3 });
    // What start -a printed went to the log as well.
    expect((await s.nook(["logs", id])).stdout).toBe("out\n");
    // -i: the input reaches the container, and its end closes the container's stdin.
    const cat = (
      await s.nook(["create", "-i", "--network", "none", bb(), "sh", "-c", "cat; echo end"])
    ).stdout.trim();
    const ai = await nookWithInput("a\\nb\\n", ["start", "-a", "-i", cat]);
    expect(ai).toMatchObject({ stdout: "a\nb\nend\n", code: 0 });
    await s.nook(["rm", id, cat]);
  });

  it("attaches to a running -di container: input in, output out, several clients, exit code at the end", async () => {
    const id = (
      await s.nook([
        "run",
        "-d",
        "-i",
        "--name",
        "att",
        "--network",
        "none",
        bb(),
        "sh",
        "-c",
        'while read l; do echo "got $l"; [ "$l" = quit ] && exit 5; done',
      ])
    ).stdout.trim();
    // A second client only watching (--no-stdin) sees what the first one's input caused.
    const watcher = s.nook(["attach", "--no-stdin", id]);
    await new Promise((r) => setTimeout(r, 500));
    const r = await nookWithInput("hello\\nquit\\n", ["attach", id]);
    expect(r).toMatchObject({ stdout: "got hello\ngot quit\n", stderr: "", code: 5 });
    expect(await watcher).toMatchObject({ stdout: "got hello\ngot quit\n", code: 5 });
    const again = await s.nook(["attach", id]);
    expect(again.stderr.split("\n")[0]).toBe("nook: container att is not running");
    expect(again.code).toBe(125);
    await s.nook(["rm", id]);
  });

  it("attaches a terminal to a -dit container: window size, typed input, and the detach keys leave it running", async () => {
    const id = (await s.nook(["run", "-dit", "--network", "none", bb(), "sh"])).stdout.trim();
    const attach = `XDG_DATA_HOME=${s.dataHome} ${process.execPath} ${nookBin()} attach ${id}`;
    // script(1) gives nook a terminal; `typing` (shell) types once the attach is made.
    const typed = (typing: string) =>
      runAs(user(), [
        "sh",
        "-c",
        `(sleep 1.5; ${typing}) | script -qfec "stty rows 33 cols 101; ${attach}" /dev/null`,
      ]);
    const r = await typed("printf 'stty size; echo hi-$((6*7))\\r'; sleep 1; printf '\\020\\021'");
    expect(r.code).toBe(0);
    const out = r.stdout.replace(/\r/g, "");
    expect(out).toMatch(/^33 101$/m);
    expect(out).toMatch(/^hi-42$/m);
    expect((await inspect(id)).State.Status).toBe("running");
    const bad = await s.nook(["attach", "--detach-keys", "ctrl-?", id]);
    expect(bad.stderr).toBe('nook: --detach-keys: bad key "ctrl-?"\n');
    const exit = await typed("printf 'exit 7\\r'");
    expect(exit.code).toBe(7);
    expect((await inspect(id)).State).toMatchObject({ Status: "exited", ExitCode: 7 });
    await s.nook(["rm", id]);
  });
});

describeAs("nosub", "detached containers, user without subordinate ranges", (user) => {
  let s: TestStore;
  beforeAll(async () => {
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
  });
  afterAll(async () => s.remove());

  it("runs detached, execs, stops and removes", async () => {
    const id = (await s.nook(["run", "-d", "-u", "0", bb(), "sleep", "1000"])).stdout.trim();
    expect((await s.nook(["exec", id, "cat", "/proc/1/comm"])).stdout).toBe("sleep\n");
    expect((await s.nook(["stop", "-t", "0", id])).code).toBe(0);
    expect((await s.nook(["rm", id])).code).toBe(0);
    expect((await s.nook(["ps", "-aq"])).stdout).toBe("");
  });
});
