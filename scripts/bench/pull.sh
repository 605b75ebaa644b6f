#!/usr/bin/env bash
# Pull benchmark: `nook pull` against rootless `podman pull` of the ~100 MiB
# fixture image "big", both as the unprivileged user nook-sub, from a local
# docker-registry, with empty storage before every run.
#
#   sudo bash scripts/bench/pull.sh          (sudo RUNS=10 bash ... for more runs)
#
# Needs root (it starts the registry and runs the pulls through runuser), the
# packages of scripts/provision.sh, and a built nook (npm run build).
# Prints hyperfine's table and one line:
#   pull big (~100 MiB): nook/podman median ratio = X.XX
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-5}
user=nook-sub
# shellcheck source=lib.sh
. "$repo/scripts/bench/lib.sh"
bench_checks
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
bench_setup big
image=$host/big:latest

podman_base
podman_pull=("${podman_cmd[@]}" pull --quiet --tls-verify=false "$image")
podman_prepare=$(fresh "$work/podman")
eval "$podman_prepare"
native=$("${podman_cmd[@]}" info --format '{{index .Store.GraphStatus "Native Overlay Diff"}}' 2>/dev/null ||
  echo "unknown: podman info failed")
log "podman $(podman --version | awk '{print $3}'): rootless, storage driver overlay (native overlay diff: $native)"

names=(podman)
cmds=("$(printf '%q ' "${podman_pull[@]}")")
prepares=(--prepare "$podman_prepare")
if [ ${#nook_cmd[@]} -gt 0 ]; then
  names+=(nook)
  cmds+=("$(printf '%q ' "${nook_cmd[@]}" pull "$image")")
  prepares+=(--prepare "$(fresh "$work/nook-data")")
fi

# One warm-up run each: the registry's blobs reach the page cache and podman's
# pause process exists, as in a session where the user has run podman before.
hyperfine_args=(--shell bash --runs "$runs" --warmup 1 --export-json "$work/pull.json" "${prepares[@]}")
for name in "${names[@]}"; do hyperfine_args+=(--command-name "$name"); done
hyperfine "${hyperfine_args[@]}" "${cmds[@]}"
ratio "$work/pull.json" "pull big (~100 MiB)"
