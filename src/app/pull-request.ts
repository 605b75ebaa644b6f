// What can be checked of a pull before paying for a user namespace: kept
// apart from pull-image.ts so that the command loads only this much before it
// re-executes itself there.
import * as E from "fp-ts/lib/Either.js";
import { parsePlatform, type Platform } from "../image/platform.js";
import { parseReference, type Reference } from "../image/reference.js";
import type { NookError } from "../lib/errors.js";

export interface PullRequest {
  readonly image: string;
  readonly platform?: string;
  readonly tlsVerify?: boolean;
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
