// The closed set of messages nook-helper sends (native/src/sync.h), decoded
// like any outside JSON. Keep in step with the C side.
import * as t from "io-ts";

export const MapRequest = t.type({ type: t.literal("map"), pid: t.number });
export type MapRequest = t.TypeOf<typeof MapRequest>;

export const StepFailed = t.type({
  type: t.literal("error"),
  step: t.string,
  errno: t.number,
  message: t.string,
});
export type StepFailed = t.TypeOf<typeof StepFailed>;

export const HelperMessage = t.union([MapRequest, StepFailed]);
export type HelperMessage = t.TypeOf<typeof HelperMessage>;

/** nook's only answer: the maps are written. */
export const MAPPED = "mapped\n";
