#!/usr/bin/env bash
# nook's main job on a built-in default, from a fresh Debian 12 machine:
#   sudo bash scripts/demo.sh
# Sets the host up (as root), builds nook, then, as an unprivileged user,
# builds a tiny root filesystem from the host's busybox inside that user's
# user namespace and runs busybox in it as namespace root.
#
# Today nook's container verb is `nook unshare`; when `nook run` lands this
# script runs a container from a busybox image instead.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash scripts/provision.sh
  npm ci --no-audit --no-fund --loglevel=error
  # The checkout may be unreadable to other users (root's home): run a staged copy.
  stage=$(mktemp -d /tmp/nook-demo-XXXXXX)
  chmod 0755 "$stage"
  cp -r dist "$stage/"
  mkdir -p "$stage/node_modules/@koromix"
  cp -r node_modules/koffi "$stage/node_modules/"
  cp -r node_modules/@koromix/* "$stage/node_modules/@koromix/"
  chmod -R a+rX "$stage"
  trap 'rm -rf "$stage"' EXIT
  as_user=(runuser -u nook-sub --)
  nook=("$stage/dist/nook")
else
  [ -x dist/nook ] || npm ci --no-audit --no-fund --loglevel=error
  as_user=()
  nook=("$PWD/dist/nook")
fi

work=$("${as_user[@]}" mktemp -d /tmp/nook-demo-rootfs-XXXXXX)
cat <<TXT

== nook $("${as_user[@]}" node "${nook[@]}" --version), as user $("${as_user[@]}" id -un)

== the user namespace's id map (inside, outside, count):
TXT
cd /tmp
"${as_user[@]}" node "${nook[@]}" unshare cat /proc/self/uid_map

echo
echo "== a busybox root filesystem, owned by namespace root, made and run inside the namespace:"
"${as_user[@]}" node "${nook[@]}" unshare sh -c "
  set -e
  mkdir -p '$work/bin' '$work/home/app'
  cp /bin/busybox '$work/bin/busybox'
  chown 1000:1000 '$work/home/app'
  '$work/bin/busybox' sh -c 'echo \"hello from busybox as \$(id -u):\$(id -g) in the namespace\"; ls -ln $work/home'
"
echo
echo "== the same directory seen from outside (owners are your subordinate ids):"
"${as_user[@]}" ls -ln "$work/home"
"${as_user[@]}" node "${nook[@]}" unshare rm -rf "$work"
