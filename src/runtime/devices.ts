// --device, as Docker and Podman take it (pure): a host device node,
// /dev/X[:/dev/Y][:PERMISSIONS], or a CDI device, vendor.com/class=name.
//
// Rootless, a device cannot be created (mknod needs CAP_MKNOD in the host's
// namespace): the host's node is bound onto a file in the container's /dev,
// and the kernel checks each open against the node's owner and mode as it
// would for the user outside. So PERMISSIONS can only be honoured as far as
// those allow: nook refuses a device the user may not open as asked, and
// refuses to promise less access than the node gives (there is no device
// cgroup to take it away rootless); `m` (mknod) is never possible inside.
import * as E from "fp-ts/lib/Either.js";
import { isCdiName } from "./cdi.js";

export interface HostDeviceRequest {
  readonly kind: "host";
  readonly src: string;
  readonly dst: string;
  /** "rwm" when not given, as Docker's default. */
  readonly permissions: string;
  readonly permissionsGiven: boolean;
}

export type DeviceRequest = HostDeviceRequest | { readonly kind: "cdi"; readonly name: string };

const PERMISSIONS = /^(?!.*(.).*\1)[rwm]+$/;

export const parseDevice = (spec: string): E.Either<string, DeviceRequest> => {
  if (isCdiName(spec)) return E.right({ kind: "cdi", name: spec });
  const parts = spec.split(":");
  const [src = ""] = parts;
  if (!src.startsWith("/"))
    return E.left(
      `--device ${spec}: expected /dev/HOST[:/dev/CONTAINER][:rwm], or vendor.com/class=name for a CDI device`,
    );
  let dst = src;
  let permissions: string | undefined;
  if (parts.length === 2) {
    const second = parts[1] ?? "";
    if (PERMISSIONS.test(second)) permissions = second;
    else dst = second;
  } else if (parts.length === 3) {
    dst = parts[1] ?? "";
    permissions = parts[2] ?? "";
  } else if (parts.length > 3) return E.left(`--device ${spec}: expected /dev/HOST[:/dev/CONTAINER][:rwm]`);
  if (!dst.startsWith("/"))
    return E.left(`--device ${spec}: the container path must be absolute, not ${dst}`);
  if (permissions !== undefined && !PERMISSIONS.test(permissions))
    return E.left(`--device ${spec}: the permissions are letters of rwm, each once, not ${permissions}`);
  return E.right({
    kind: "host",
    src,
    dst,
    permissions: permissions ?? "rwm",
    permissionsGiven: permissions !== undefined,
  });
};
