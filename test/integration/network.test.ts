// User-mode networking as the unprivileged test users: pasta and
// slirp4netns attached to the container's network namespace, published
// ports, host loopback access on and off, --add-host, none and host. Only
// this machine's loopback addresses are ever contacted.
import { createSocket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { describeAs, runAs } from "../support/nook.js";
import { freshStore, type TestStore } from "../support/store.js";
import type { TestUser } from "../support/users.js";

const bb = (): string => `${inject("registry")}/busybox`;
const repoRoot = join(fileURLToPath(import.meta.url), "..", "..", "..");

/** A free TCP port on 127.0.0.1 (bound, then released). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const httpGet = async (port: number, tries = 40, host = "127.0.0.1"): Promise<string> => {
  for (let i = 0; ; i++) {
    try {
      const r = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(2000) });
      return await r.text();
    } catch (e) {
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
};

/**
 * nook's pasta and slirp4netns processes of the user still running (zombies
 * excluded): pasta names the container's directory in the store, slirp4netns
 * nook's socket for it; podman's (a benchmark's) are not counted.
 */
const helpers = async (user: TestUser, store: string): Promise<string[]> => {
  const r = await runAs(user, ["ps", "-u", user.name, "-o", "stat=,args="]);
  return r.stdout
    .split("\n")
    .filter((l) => /pasta|slirp4netns/.test(l) && !/^Z/.test(l.trim()))
    .filter((l) => l.includes(store) || /\/slirp-[0-9a-f]{12}\.sock/.test(l));
};

/** A TCP socket listens on PORT (/proc/net/tcp and tcp6, state 0A), any address. */
const listening = (port: number): boolean =>
  ["/proc/net/tcp", "/proc/net/tcp6"].some((f) =>
    readFileSync(f, "utf8")
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .some((c) => c[3] === "0A" && parseInt((c[1] ?? "").split(":")[1] ?? "", 16) === port),
  );

/** Sends a datagram to 127.0.0.1:PORT until an answer comes (or 5 s pass). */
const udpEchoAt = async (port: number): Promise<string | undefined> => {
  const sock = createSocket("udp4");
  let got: string | undefined;
  sock.on("message", (m) => (got ??= m.toString()));
  for (let i = 0; i < 50 && got === undefined; i++) {
    sock.send("ping-over-udp", port, "127.0.0.1");
    await new Promise((r) => setTimeout(r, 100));
  }
  sock.close();
  return got;
};

const PASTA_UDP_BROKEN =
  "this host's pasta does not send the replies of a forwarded UDP port back (checked with pasta alone, without nook: passt 2023-03 in Debian 12)";

describeAs("sub", "user-mode networking", (user) => {
  let s: TestStore;
  let hostServer: Server;
  let hostPort: number;
  let udpEcho: string;
  let pastaUdpWorks = false;
  beforeAll(async () => {
    // A static UDP echo server, readable by the test user, for -v into the container.
    const dir = (await runAs(user(), ["mktemp", "-d", "/tmp/nook-udp-XXXXXX"])).stdout.trim();
    udpEcho = join(dir, "udp-echo");
    const cc = await runAs(user(), [
      "gcc",
      "-static",
      "-O2",
      "-o",
      udpEcho,
      join(repoRoot, "test", "support", "udp-echo.c"),
    ]);
    expect(cc.stderr).toBe("");
    // Whether this host's pasta answers UDP on a forwarded port at all, with nook out of the picture.
    const probePort = await freePort();
    const probe = runAs(user(), [
      "timeout",
      "8",
      "pasta",
      "--config-net",
      "-f",
      "-q",
      "-u",
      `127.0.0.1/${probePort}:9999`,
      "-t",
      "none",
      "-T",
      "none",
      "-U",
      "none",
      "--",
      "sh",
      "-c",
      // pasta ends with its command; the command ends by itself, its output not held.
      `exec timeout 3 ${udpEcho} 9999 >/dev/null 2>&1`,
    ]);
    await new Promise((r) => setTimeout(r, 500));
    pastaUdpWorks = (await udpEchoAt(probePort)) === "echo:ping-over-udp";
    await probe;
    s = await freshStore(user());
    expect((await s.nook(["pull", "-q", bb()])).code).toBe(0);
    // A server on the host's loopback, for the host-loopback tests.
    hostServer = createServer((c) => c.end("HTTP/1.0 200 OK\r\n\r\nfrom-the-host\n"));
    hostPort = await new Promise((resolve) =>
      hostServer.listen(0, "127.0.0.1", () => resolve((hostServer.address() as { port: number }).port)),
    );
  });
  afterAll(async () => {
    hostServer.close();
    await s.remove();
  });

  it("defaults to pasta, which nook info names", async () => {
    const info = await s.nook(["info"]);
    expect(info.stdout).toMatch(/^ {2}default: pasta$/m);
    const r = await s.nook(["run", "--rm", bb(), "cat", "/etc/resolv.conf"]);
    expect(r.stdout).toMatch(/^nameserver 169\.254\.1\.1$/m);
  });

  for (const net of ["pasta", "slirp4netns"] as const) {
    const run = (args: string[]): ReturnType<TestStore["nook"]> => s.nook(["run", "--network", net, ...args]);

    it(`${net}: the container has an interface with an address, a default route and MTU 65520`, async () => {
      const r = await run([
        "--rm",
        bb(),
        "sh",
        "-c",
        "ip -o -4 addr show; ip route; cat /sys/class/net/*/mtu",
      ]);
      expect(r.stderr).toBe("");
      const addrs = r.stdout.split("\n").filter((l) => / inet /.test(l) && !/ lo /.test(l));
      expect(addrs.length).toBe(1);
      expect(r.stdout).toMatch(/^default via \S+ dev \S+/m);
      expect(r.stdout).toMatch(/^65520$/m);
    });

    it(`${net}: publishes a TCP port of a detached container on 127.0.0.1, and lists it with port`, async () => {
      const port = await freePort();
      const id = (
        await run([
          "-d",
          "-p",
          `127.0.0.1:${port}:80`,
          bb(),
          "sh",
          "-c",
          "mkdir /www && echo hello-$HOSTNAME > /www/index.html && exec httpd -f -p 80 -h /www",
        ])
      ).stdout.trim();
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      expect(await httpGet(port)).toBe(`hello-${id.slice(0, 12)}\n`);
      expect((await s.nook(["port", id])).stdout).toBe(`80/tcp -> 127.0.0.1:${port}\n`);
      // The port is taken now: a second container is refused before it starts.
      const again = await run(["--rm", "-p", `127.0.0.1:${port}:80`, bb(), "true"]);
      expect(again.code).toBe(125);
      expect(again.stderr.split("\n").filter((l) => l !== "")).toHaveLength(1);
      expect(again.stderr).toMatch(/^nook: /);
      await s.nook(["rm", "-f", id]);
    });

    it(`${net}: publishes a UDP port`, async (ctx) => {
      if (net === "pasta" && !pastaUdpWorks) {
        process.stderr.write(`[skipped] pasta UDP: ${PASTA_UDP_BROKEN}\n`);
        ctx.skip();
      }
      const port = await freePort();
      // slirp4netns answers from its host-loopback address: see the refusal below.
      const loopback = net === "slirp4netns" ? ["--host-loopback"] : [];
      const id = (
        await run([
          "-d",
          ...loopback,
          "-v",
          `${udpEcho}:/udp-echo:ro`,
          "-p",
          `127.0.0.1:${port}:9999/udp`,
          bb(),
          "/udp-echo",
          "9999",
        ])
      ).stdout.trim();
      expect(await udpEchoAt(port)).toBe("echo:ping-over-udp");
      await s.nook(["rm", "-f", id]);
      if (net === "slirp4netns") {
        const refused = await run(["--rm", "-p", `127.0.0.1:${port}:9999/udp`, bb(), "true"]);
        expect(refused.code).toBe(125);
        expect(refused.stderr.split("\n")[0]).toBe(
          "nook: slirp4netns drops the replies of a published UDP port unless the host's loopback is reachable from the container",
        );
      }
    });

    it(`${net}: reaches the host's loopback only with --host-loopback, and by an --add-host name`, async () => {
      // busybox's wget needs NSS modules the image lacks; nc speaks HTTP/1.0 well enough.
      const get = (host: string): string =>
        `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${hostPort} || echo refused`;
      // Where the host's loopback shows, when it does: slirp4netns's 10.0.2.2;
      // with pasta the container's own 127.0.0.1 (for the host's bound ports).
      // Off, neither leads out of the machine.
      const hostAddr = net === "slirp4netns" ? "10.0.2.2" : "127.0.0.1";
      const off = await run(["--rm", bb(), "sh", "-c", get(hostAddr)]);
      expect(off.stdout.trim().split("\n").pop()).toBe("refused");
      const on = await run(["--rm", "--host-loopback", bb(), "sh", "-c", get(hostAddr)]);
      expect(on.stdout).toContain("from-the-host");
      const named = await run([
        "--rm",
        "--host-loopback",
        "--add-host",
        `thehost:${hostAddr}`,
        bb(),
        "sh",
        "-c",
        get("thehost"),
      ]);
      expect(named.stdout).toContain("from-the-host");
    });

    it(`${net}: leaves no network helper and no bound port after 50 run/rm cycles with -p`, async () => {
      const port = await freePort();
      // Only this test's helpers count (another store's may run meanwhile).
      const before = await helpers(user(), s.dataHome);
      for (let i = 0; i < 50; i++) {
        const r = await run(["--rm", "-p", `127.0.0.1:${port}:80`, bb(), "true"]);
        expect(r.code).toBe(0);
      }
      let left = (await helpers(user(), s.dataHome)).filter((h) => !before.includes(h));
      for (let i = 0; i < 20 && left.length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = (await helpers(user(), s.dataHome)).filter((h) => !before.includes(h));
      }
      expect(left).toEqual([]);
      // Nothing listens on the port any more. (Binding it again would also fail when some other
      // test's connection happens to use it as its local port, as the ephemeral range allows.)
      expect(listening(port)).toBe(false);
    });
  }

  it("pasta gives the container the host's IPv6 address and route, and publishes on [::1]", async (ctx) => {
    const hostV6 = readFileSync("/proc/net/ipv6_route", "utf8")
      .split("\n")
      .some((l) => l.startsWith("00000000000000000000000000000000 00 ") && !l.includes(" lo"));
    if (!hostV6) {
      process.stderr.write("[skipped] IPv6 with pasta: this host has no IPv6 default route to copy\n");
      ctx.skip();
    }
    const r = await s.nook([
      "run",
      "--rm",
      "--network",
      "pasta",
      bb(),
      "sh",
      "-c",
      "ip -o -6 addr show scope global; ip -6 route",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/ inet6 [0-9a-f:]+\/\d+ scope global/);
    expect(r.stdout).toMatch(/^default via \S+ dev \S+/m);
    const port = await freePort();
    const id = (
      await s.nook([
        "run",
        "-d",
        "--network",
        "pasta",
        "-p",
        `[::1]:${port}:80`,
        bb(),
        "sh",
        "-c",
        "mkdir /www && echo over-v6 > /www/index.html && exec httpd -f -p 80 -h /www",
      ])
    ).stdout.trim();
    expect(await httpGet(port, 40, "[::1]")).toBe("over-v6\n");
    expect((await s.nook(["port", id])).stdout).toBe(`80/tcp -> [::1]:${port}\n`);
    await s.nook(["rm", "-f", id]);
  });

  it("--network none has only lo; --network host sees the host's interfaces", async () => {
    const none = await s.nook(["run", "--rm", "--network", "none", bb(), "ls", "/sys/class/net"]);
    expect(none.stdout).toBe("lo\n");
    const host = await s.nook(["run", "--rm", "--network", "host", bb(), "ls", "/sys/class/net"]);
    expect(host.stdout.trim().split("\n").sort()).toEqual(readdirSync("/sys/class/net").sort());
  });

  it("refuses bad network flags in one line each", async () => {
    const cases: [string[], RegExp][] = [
      [["--network", "bridge"], /^nook: --network bridge: the modes are pasta, slirp4netns, host and none/],
      [["-p", "80"], /^nook: -p 80: give the host port too/],
      [["-p", "1:2:3:4"], /^nook: -p 1:2:3:4: expected/],
      [["-p", "99999:80"], /^nook: -p 99999:80: 99999 is not a port/],
      [["--network", "none", "-p", "8080:80"], /^nook: -p needs a network of the container's own/],
      [["--add-host", "nocolon"], /^nook: --add-host nocolon: expected NAME:IP$/],
    ];
    for (const [flags, line] of cases) {
      const r = await s.nook(["run", "--rm", ...flags, bb(), "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr.split("\n")[0]).toMatch(line);
    }
  });
});
