import { describe, expect, it } from "vitest";
import {
  CAPABILITIES,
  capabilityMask,
  capabilityName,
  capabilitySet,
  DEFAULT_CAPABILITIES,
  lastCapability,
} from "../../../src/runtime/capabilities.js";

const LAST = 40; // CAP_CHECKPOINT_RESTORE, Linux 5.9 and later
const set = (add: string[], drop: string[], privileged = false) =>
  capabilitySet({ add, drop, privileged }, LAST);

describe("capabilities", () => {
  it("numbers them as the kernel does", () => {
    expect(CAPABILITIES.indexOf("SYS_ADMIN")).toBe(21);
    expect(CAPABILITIES.indexOf("SETFCAP")).toBe(31);
    expect(CAPABILITIES.indexOf("CHECKPOINT_RESTORE")).toBe(40);
  });

  it("takes names with or without CAP_, in any case", () => {
    expect(capabilityName("cap_net_admin")).toBe("NET_ADMIN");
    expect(capabilityName("Net_Raw")).toBe("NET_RAW");
    expect(capabilityName(" all ")).toBe("ALL");
    expect(capabilityName("CAP_ALL")).toBe("ALL");
    expect(capabilityName("NET_ADMINS")).toBeUndefined();
  });

  it("gives the default set, in the kernel's order, and its mask as /proc/PID/status shows it", () => {
    const d = set([], []);
    expect(d).toEqual([
      "CHOWN",
      "DAC_OVERRIDE",
      "FOWNER",
      "FSETID",
      "KILL",
      "SETGID",
      "SETUID",
      "SETPCAP",
      "NET_BIND_SERVICE",
      "SYS_CHROOT",
      "SETFCAP",
    ]);
    expect(new Set(d)).toEqual(new Set(DEFAULT_CAPABILITIES));
    expect(capabilityMask(d as string[])).toBe("800405fb");
  });

  it("adds and drops as Docker does", () => {
    expect(set(["SYS_ADMIN"], ["CHOWN"])).toEqual(
      set([], [])
        .toString()
        .split(",")
        .filter((c) => c !== "CHOWN")
        .concat("SYS_ADMIN")
        .sort((a, b) => CAPABILITIES.indexOf(a) - CAPABILITIES.indexOf(b)),
    );
    expect(set([], ["ALL"])).toEqual([]);
    expect(set(["NET_RAW"], ["ALL"])).toEqual(["NET_RAW"]);
    expect(set(["ALL"], ["SYS_ADMIN"])).toHaveLength(LAST);
    expect(set(["ALL"], [])).toEqual(CAPABILITIES);
    // An add wins over a drop of the same capability, as the adds come last.
    expect(set(["CHOWN"], ["CHOWN"])).toContain("CHOWN");
  });

  it("gives every capability the kernel has with --privileged", () => {
    expect(set([], ["ALL"], true)).toEqual(CAPABILITIES);
    expect(capabilitySet({ add: [], drop: [], privileged: true }, 37)).toEqual(CAPABILITIES.slice(0, 38));
    expect(capabilityMask(CAPABILITIES)).toBe("1ffffffffff");
  });

  it("refuses unknown names, and ones this kernel does not have, in one line", () => {
    expect(set(["NET_ADMINS"], [])).toBe("--cap-add NET_ADMINS: no such capability");
    expect(set([], ["cap_bogus"])).toBe("--cap-drop cap_bogus: no such capability");
    expect(capabilitySet({ add: ["BPF"], drop: [], privileged: false }, 37)).toBe(
      "--cap-add BPF: this kernel has no CAP_BPF (its last is CAP_AUDIT_READ)",
    );
  });

  it("reads the kernel's last capability, capped at the last nook knows", () => {
    expect(lastCapability("40\n")).toBe(40);
    expect(lastCapability("37")).toBe(37);
    expect(lastCapability("63")).toBe(40);
    expect(lastCapability(undefined)).toBe(40);
  });
});
