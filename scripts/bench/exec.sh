#!/usr/bin/env bash
# Exec benchmark: `nook exec CTR true` against `podman exec CTR true`, rootless,
# as nook-sub, each into one idle detached container of its own (`sleep 100000`
# in the busybox fixture image, --network none), side by side in one hyperfine
# run.
#
#   sudo bash scripts/bench/exec.sh          (sudo RUNS=30 bash ... for more runs)
#
# FLOOR=0 leaves out the third command, `node -e 0` as the same user: the
# least any command written for Node can take here, for reading the goal
# (nook at most 0.5x podman) against.
# Prints hyperfine's table and one line:
#   exec true: nook/podman median ratio = X.XX
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-20}
floor=${FLOOR:-1}
user=nook-sub
# shellcheck source=lib.sh
. "$repo/scripts/bench/lib.sh"
bench_checks
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
[[ $floor =~ ^[01]$ ]] || die "FLOOR must be 0 or 1, not '$floor'"
bench_setup busybox
image=$host/busybox:latest
ctr=bench-exec

# shellcheck source=detached.sh
. "$repo/scripts/bench/detached.sh"
podman_cmd=()
trap detached_cleanup EXIT

podman_base
eval "$(fresh "$work/podman")"
"${podman_cmd[@]}" pull --quiet --tls-verify=false "$image" >/dev/null || die "podman pull failed"
runtime=$("${podman_cmd[@]}" info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null || echo unknown)
# crun refuses hybrid cgroup hosts ("cgroups in hybrid mode not supported"),
# as this one is; runc runs there, without cgroups for a rootless user.
runtime_flag=()
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] && command -v runc >/dev/null; then
  runtime_flag=(--runtime runc)
  runtime=runc
fi
log "podman $(podman --version | awk '{print $3}'), OCI runtime $runtime"
"${podman_cmd[@]}" "${runtime_flag[@]}" run -d --name "$ctr" --network none "$image" sleep 100000 >/dev/null ||
  die "podman run -d failed"
# podman exec runs in the runtime the container was created with.
"${podman_cmd[@]}" exec "$ctr" true || die "podman exec $ctr true failed"
# Its pids, for detached_cleanup to check that rm -f ended them.
"${podman_cmd[@]}" inspect --format '{{.State.ConmonPid}} {{.State.Pid}}' "$ctr" | tr ' ' '\n' >>"$work/pids"
names=(podman)
cmds=("$(printf '%q ' "${podman_cmd[@]}" exec "$ctr" true)")

if [ ${#nook_cmd[@]} -gt 0 ]; then
  eval "$(fresh "$work/nook-data")"
  "${nook_cmd[@]}" pull -q "$image" >/dev/null || die "nook pull failed"
  "${nook_cmd[@]}" run -d --name "$ctr" --network none "$image" sleep 100000 >/dev/null || die "nook run -d failed"
  "${nook_cmd[@]}" exec "$ctr" true || die "nook exec $ctr true failed"
  driver=$("${nook_cmd[@]}" inspect "$ctr" | python3 -c '
import json, sys
c = json.load(sys.stdin)[0]
with open(sys.argv[1], "a") as pids:
    print(c["State"]["Pid"], file=pids)
    started = "/".join([sys.argv[2], "nook/containers", c["Id"], "started.json"])
    print(json.load(open(started))["monitorPid"], file=pids)
print(c["Driver"])' "$work/pids" "$work/nook-data")
  log "nook: storage driver $driver"
  names+=(nook)
  cmds+=("$(printf '%q ' "${nook_cmd[@]}" exec "$ctr" true)")
fi
if [ "$floor" = 1 ]; then
  names+=("node -e 0")
  cmds+=("$(printf '%q ' "${as_user[@]}" "$(command -v node)" -e 0)")
fi

hyperfine_args=(--shell bash --runs "$runs" --warmup 3 --export-json "$work/exec.json")
for name in "${names[@]}"; do hyperfine_args+=(--command-name "$name"); done
hyperfine "${hyperfine_args[@]}" "${cmds[@]}"

# Both containers must have lived through it: an exec that killed its
# container would be timed against a dead one.
[ "$("${podman_cmd[@]}" inspect --format '{{.State.Running}}' "$ctr")" = true ] ||
  die "podman's container is no longer running"
if [ ${#nook_cmd[@]} -gt 0 ]; then
  "${nook_cmd[@]}" ps -q --filter "name=$ctr" | grep -q . || die "nook's container is no longer running"
fi
ratio "$work/exec.json" "exec true"
python3 - "$work/exec.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
if "node -e 0" in results:
    print(f"node -e 0 median: {results['node -e 0']['median']:.3f} s (the floor for a Node command)")
if "nook" in results:
    r = results["nook"]["median"] / results["podman"]["median"]
    print(f"goal nook/podman <= 0.50: {'met' if r <= 0.5 else 'not met'} ({r:.2f})")
PY
