import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseCdiSpec, resolveCdi, type LoadedSpec } from "../../../src/runtime/cdi.js";
import { parseDevice } from "../../../src/runtime/devices.js";

describe("--device", () => {
  it("takes Docker's forms for host devices", () => {
    const host = (src: string, dst: string, permissions: string, permissionsGiven: boolean) =>
      E.right({ kind: "host", src, dst, permissions, permissionsGiven });
    expect(parseDevice("/dev/fuse")).toEqual(host("/dev/fuse", "/dev/fuse", "rwm", false));
    expect(parseDevice("/dev/null:/dev/n")).toEqual(host("/dev/null", "/dev/n", "rwm", false));
    expect(parseDevice("/dev/null:rw")).toEqual(host("/dev/null", "/dev/null", "rw", true));
    expect(parseDevice("/dev/null:/dev/n:r")).toEqual(host("/dev/null", "/dev/n", "r", true));
  });

  it("takes vendor.com/class=name as a CDI device", () => {
    expect(parseDevice("nvidia.com/gpu=all")).toEqual(E.right({ kind: "cdi", name: "nvidia.com/gpu=all" }));
    expect(parseDevice("nvidia.com/gpu=0")).toEqual(E.right({ kind: "cdi", name: "nvidia.com/gpu=0" }));
  });

  it("refuses the rest in one line", () => {
    expect(E.isLeft(parseDevice("null"))).toBe(true);
    expect(parseDevice("/dev/null:dev/n")).toEqual(
      E.left("--device /dev/null:dev/n: the container path must be absolute, not dev/n"),
    );
    expect(parseDevice("/dev/null:/dev/n:rr")).toEqual(
      E.left("--device /dev/null:/dev/n:rr: the permissions are letters of rwm, each once, not rr"),
    );
    expect(E.isLeft(parseDevice("/a:/b:rw:x"))).toBe(true);
  });
});

const spec = (path: string, text: string): LoadedSpec => {
  const s = parseCdiSpec(text, path, parseYaml);
  if (E.isLeft(s)) throw new Error(s.left.message);
  return { path, spec: s.right };
};

describe("CDI specs", () => {
  const etc = spec(
    "/etc/cdi/a.yaml",
    `cdiVersion: 0.6.0
kind: vendor.com/gpu
containerEdits:
  env: [SPEC=etc]
devices:
  - name: "0"
    containerEdits:
      deviceNodes: [{ path: /dev/gpu0 }]
  - name: all
    containerEdits:
      deviceNodes: [{ path: /dev/gpu0 }, { path: /dev/gpu1 }]
      mounts: [{ hostPath: /usr/lib/libgpu.so, containerPath: /usr/lib/libgpu.so, options: [ro, bind] }]
`,
  );
  const run = spec(
    "/var/run/cdi/b.json",
    JSON.stringify({
      cdiVersion: "0.7.0",
      kind: "vendor.com/gpu",
      devices: [
        { name: "0", containerEdits: { deviceNodes: [{ path: "/dev/gpu0", hostPath: "/dev/other" }] } },
      ],
    }),
  );

  it("gathers the edits of each device and, once, of its spec", () => {
    expect(resolveCdi(["vendor.com/gpu=all"], [etc])).toEqual(
      E.right({
        env: ["SPEC=etc"],
        deviceNodes: [{ path: "/dev/gpu0" }, { path: "/dev/gpu1" }],
        mounts: [
          { hostPath: "/usr/lib/libgpu.so", containerPath: "/usr/lib/libgpu.so", options: ["ro", "bind"] },
        ],
      }),
    );
  });

  it("lets a later directory's spec override an earlier one's device", () => {
    const r = resolveCdi(["vendor.com/gpu=0"], [etc, run]);
    expect(E.isRight(r) && r.right.deviceNodes).toEqual([{ path: "/dev/gpu0", hostPath: "/dev/other" }]);
  });

  it("refuses malformed and unknown specs in one line naming the file", () => {
    const bad = parseCdiSpec(
      '{"cdiVersion":"0.6.0","kind":"v.com/c","devices":[{"name":"x"}]}',
      "/etc/cdi/x.json",
      parseYaml,
    );
    expect(E.isLeft(bad) && bad.left.message).toBe(
      "CDI spec /etc/cdi/x.json.devices[0].containerEdits: expected container edits, got nothing",
    );
    const version = parseCdiSpec(
      '{"cdiVersion":"1.0.0","kind":"v.com/c","devices":[]}',
      "/etc/cdi/v.json",
      parseYaml,
    );
    expect(E.isLeft(version) && version.left.message).toMatch(/cdiVersion 1\.0\.0 is not one nook reads/);
    const yaml = parseCdiSpec("kind: [", "/etc/cdi/y.yaml", parseYaml);
    expect(E.isLeft(yaml) && yaml.left.message).toMatch(/^CDI spec \/etc\/cdi\/y\.yaml: not YAML/);
  });
});
