// The closed set of messages nook-helper sends (native/src/sync.h), decoded
// like any outside JSON. Keep in step with the C side.
import * as t from "io-ts";

export const MapRequest = t.type({ type: t.literal("map"), pid: t.number });
export type MapRequest = t.TypeOf<typeof MapRequest>;

/** After --net-wait: the helper's new network namespace waits for pasta or slirp4netns. */
export const NetRequest = t.type({ type: t.literal("net"), pid: t.number });
export type NetRequest = t.TypeOf<typeof NetRequest>;

/** After --cgroup-wait: the helper (by its host pid) waits to be placed in the container's cgroup. */
export const CgroupRequest = t.type({ type: t.literal("cgroup"), pid: t.number });
export type CgroupRequest = t.TypeOf<typeof CgroupRequest>;

/** After --exec-fifo: set up; the command waits for OCI start (the socket closes next). */
export const CreatedNotice = t.type({ type: t.literal("created"), pid: t.number });
export type CreatedNotice = t.TypeOf<typeof CreatedNotice>;

export const StepFailed = t.type({
  type: t.literal("error"),
  step: t.string,
  errno: t.number,
  message: t.string,
});
export type StepFailed = t.TypeOf<typeof StepFailed>;

export const HelperMessage = t.union([MapRequest, NetRequest, CgroupRequest, CreatedNotice, StepFailed]);
export type HelperMessage = t.TypeOf<typeof HelperMessage>;

/** nook's answers: the maps are written; the network is attached; the process is in its cgroup. */
export const MAPPED = "mapped\n";
export const NET_READY = "net-ready\n";
export const CGROUP_READY = "cgroup-ready\n";
