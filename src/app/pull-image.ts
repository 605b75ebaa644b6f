// The pull use case as the command calls it: strings in, a stored image out.
import * as E from "fp-ts/lib/Either.js";
import { parsePlatform, type Platform } from "../image/platform.js";
import { parseReference, type Reference } from "../image/reference.js";
import type { NookError } from "../lib/errors.js";
import { probeWhiteouts } from "../rootfs/whiteout-probe.js";
import { defaultStoreRoot, Store } from "../store/store.js";
import { fullIdMap } from "./in-userns.js";
import { pull, type Pulled } from "./pull.js";
import type { PullEvents } from "./pull-events.js";

export interface PullRequest {
  readonly image: string;
  readonly platform?: string;
}

export const checkPullRequest = (
  req: PullRequest,
): E.Either<NookError, { ref: Reference; platform: Platform | undefined }> => {
  const ref = parseReference(req.image);
  if (E.isLeft(ref)) return ref;
  if (req.platform === undefined) return E.right({ ref: ref.right, platform: undefined });
  const platform = parsePlatform(req.platform);
  if (E.isLeft(platform)) return platform;
  return E.right({ ref: ref.right, platform: platform.right });
};

/** Pulls as root of the user namespace (see in-userns.ts). */
export const pullImage = async (
  req: PullRequest,
  events: PullEvents,
): Promise<E.Either<NookError, Pulled>> => {
  const checked = checkPullRequest(req);
  if (E.isLeft(checked)) return checked;
  const store = new Store(defaultStoreRoot());
  store.init();
  const whiteouts = await probeWhiteouts(store.root);
  return pull(checked.right.ref, store, {
    ...(checked.right.platform ? { platform: checked.right.platform } : {}),
    unpack: { whiteouts, preserveOwner: fullIdMap() },
    events,
  });
};
