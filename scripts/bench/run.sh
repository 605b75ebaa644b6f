#!/usr/bin/env bash
# Start-up benchmark: `nook run --rm --network none busybox true` against
# `podman run --rm --network none busybox true`, rootless, as nook-sub, the
# image already stored by each, side by side in one hyperfine run; nook also
# with `--security-opt seccomp=unconfined` (as nook-unconfined), so that the
# cost of its default seccomp filter is measured in the same run.
#
#   sudo bash scripts/bench/run.sh          (sudo RUNS=30 bash ... for more runs)
#
# Prints hyperfine's table and the lines:
#   run --rm true: nook/podman median ratio = X.XX
#   seccomp filter: nook median - nook-unconfined median = N.N ms
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-20}
user=nook-sub
# shellcheck source=lib.sh
. "$repo/scripts/bench/lib.sh"
bench_checks
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
bench_setup busybox
image=$host/busybox:latest

podman_base
eval "$(fresh "$work/podman")"
"${podman_cmd[@]}" pull --quiet --tls-verify=false "$image" >/dev/null
runtime=$("${podman_cmd[@]}" info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null || echo unknown)
names=(podman)
# crun refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported"),
# as this one is; runc runs there, without cgroups for a rootless user.
runtime_flag=()
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && command -v runc >/dev/null; then
  runtime_flag=(--runtime runc)
  runtime=runc
fi
log "podman $(podman --version | awk '{print $3}'), OCI runtime $runtime"
cmds=("$(printf '%q ' "${podman_cmd[@]}" "${runtime_flag[@]}" run --rm --network none "$image" true)")
if [ ${#nook_cmd[@]} -gt 0 ]; then
  eval "$(fresh "$work/nook-data")"
  "${nook_cmd[@]}" pull -q "$image" >/dev/null
  names+=(nook nook-unconfined)
  cmds+=("$(printf '%q ' "${nook_cmd[@]}" run --rm --network none "$image" true)")
  cmds+=("$(printf '%q ' "${nook_cmd[@]}" run --rm --network none --security-opt seccomp=unconfined "$image" true)")
fi

hyperfine_args=(--shell bash --runs "$runs" --warmup 3 --export-json "$work/run.json")
for name in "${names[@]}"; do hyperfine_args+=(--command-name "$name"); done
hyperfine "${hyperfine_args[@]}" "${cmds[@]}"
ratio "$work/run.json" "run --rm true"
