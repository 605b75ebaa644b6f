import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  hostsFile,
  parseAddHost,
  parseNetwork,
  parsePublish,
  pastaArgs,
  resolvConf,
  slirpForwards,
} from "../../../src/network/network.js";

const all = (): boolean => true;

describe("parseNetwork", () => {
  it("defaults to pasta, then slirp4netns, then none, by what is installed", () => {
    expect(parseNetwork(undefined, all)).toEqual(E.right({ kind: "pasta", options: [] }));
    expect(parseNetwork(undefined, (t) => t === "slirp4netns")).toEqual(
      E.right({ kind: "slirp4netns", options: [] }),
    );
    expect(parseNetwork(undefined, () => false)).toEqual(E.right({ kind: "none", options: [] }));
  });

  it("takes options after a colon, and names the package of a missing helper", () => {
    expect(parseNetwork("pasta:-4,--mtu,1500", all)).toEqual(
      E.right({ kind: "pasta", options: ["-4", "--mtu", "1500"] }),
    );
    expect(parseNetwork("pasta", () => false)).toEqual(
      E.left("--network pasta: pasta is not installed (Debian package passt: apt-get install passt)"),
    );
    expect(parseNetwork("host:x", all)).toEqual(E.left("--network host:x: host takes no options"));
    expect(parseNetwork("bridge", all)).toMatchObject({ _tag: "Left" });
  });
});

describe("parsePublish", () => {
  it("reads Docker's forms, ranges and protocols", () => {
    expect(parsePublish("8080:80")).toEqual(
      E.right([{ hostIp: "", hostPort: 8080, containerPort: 80, proto: "tcp" }]),
    );
    expect(parsePublish("127.0.0.1:53:5353/udp")).toEqual(
      E.right([{ hostIp: "127.0.0.1", hostPort: 53, containerPort: 5353, proto: "udp" }]),
    );
    expect(parsePublish("[::1]:8080:80")).toEqual(
      E.right([{ hostIp: "::1", hostPort: 8080, containerPort: 80, proto: "tcp" }]),
    );
    expect(parsePublish("9000-9001:80-81")).toEqual(
      E.right([
        { hostIp: "", hostPort: 9000, containerPort: 80, proto: "tcp" },
        { hostIp: "", hostPort: 9001, containerPort: 81, proto: "tcp" },
      ]),
    );
  });

  it("refuses what it cannot publish, in one line naming the flag", () => {
    for (const bad of ["80", "0:80", "8080:80/sctp", "9000-9002:80-81", "a:b", "1.2.3:80:80"]) {
      const r = parsePublish(bad);
      expect(E.isLeft(r) && r.left.startsWith(`-p ${bad}: `)).toBe(true);
    }
  });
});

describe("files and command lines", () => {
  it("points resolv.conf at the helper's forwarder, or at --dns, keeping the host's search and options", () => {
    const host = "search corp.example\nnameserver 127.0.0.53\noptions edns0\n";
    expect(resolvConf("pasta", host, [], [])).toBe(
      "search corp.example\nnameserver 169.254.1.1\noptions edns0\n",
    );
    expect(resolvConf("slirp4netns", host, ["9.9.9.9"], ["a.example"])).toBe(
      "search a.example\nnameserver 9.9.9.9\noptions edns0\n",
    );
    expect(resolvConf("host", host, [], [])).toBe(
      "search corp.example\nnameserver 127.0.0.53\noptions edns0\n",
    );
  });

  it("lists --add-host entries in /etc/hosts", () => {
    expect(parseAddHost("db:10.0.0.5")).toEqual(E.right({ name: "db", ip: "10.0.0.5" }));
    expect(hostsFile("box", [{ name: "db", ip: "10.0.0.5" }])).toContain("10.0.0.5\tdb\n");
    expect(parseAddHost("db")).toEqual(E.left("--add-host db: expected NAME:IP"));
  });

  it("gives pasta the published ports and keeps the host's loopback closed unless asked", () => {
    const ports = [
      { hostIp: "127.0.0.1", hostPort: 8080, containerPort: 80, proto: "tcp" as const },
      { hostIp: "", hostPort: 53, containerPort: 53, proto: "udp" as const },
    ];
    expect(pastaArgs(42, ports, false, "/c/net.pid", []).join(" ")).toBe(
      "--config-net --quiet -t 127.0.0.1/8080:80 -u 53:53 -T none -U none --no-map-gw --dns-forward 169.254.1.1 -P /c/net.pid 42",
    );
    expect(pastaArgs(42, [], true, "/p", []).join(" ")).toContain(
      "-t none -u none -T auto -U auto --no-map-gw",
    );
    expect(slirpForwards(ports)[1]).toBe(
      '{"execute":"add_hostfwd","arguments":{"proto":"udp","host_addr":"0.0.0.0","host_port":53,"guest_addr":"10.0.2.100","guest_port":53}}',
    );
  });
});
