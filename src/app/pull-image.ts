// The pull use case as the command calls it: strings in, a stored image out.
import * as E from "fp-ts/lib/Either.js";
import type { NookError } from "../lib/errors.js";
import { probeWhiteouts } from "../rootfs/whiteout-probe.js";
import { openStore } from "./locations.js";
import { fullIdMap } from "./in-userns.js";
import { pull, type Pulled } from "./pull.js";
import type { PullEvents } from "./pull-events.js";
import { checkPullRequest, type PullRequest } from "./pull-request.js";

/** Pulls as root of the user namespace (see in-userns.ts). */
export const pullImage = async (
  req: PullRequest,
  events: PullEvents,
): Promise<E.Either<NookError, Pulled>> => {
  const checked = checkPullRequest(req);
  if (E.isLeft(checked)) return checked;
  const store = openStore();
  store.init();
  const whiteouts = await probeWhiteouts(store.root);
  return pull(checked.right.ref, store, {
    ...(checked.right.platform ? { platform: checked.right.platform } : {}),
    ...(req.tlsVerify === false ? { tlsVerify: false } : {}),
    unpack: { whiteouts, preserveOwner: fullIdMap() },
    events,
  });
};
