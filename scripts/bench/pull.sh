#!/usr/bin/env bash
# Pull benchmark: `nook pull` against rootless `podman pull` of the ~100 MiB
# fixture image "big", both as the unprivileged user nook-sub, from a local
# docker-registry, with empty storage before every run.
#
#   sudo bash scripts/bench/pull.sh          (RUNS=10 sudo -E bash ... for more runs)
#
# Needs root (it starts the registry and runs the pulls through runuser), the
# packages of scripts/provision.sh, and a built nook (npm run build) for the
# nook half; until `nook pull` exists, only podman runs and the script says so.
# Prints hyperfine's table and one line:
#   pull big (~100 MiB): nook/podman median ratio = X.XX
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-5}
user=nook-sub
log() { printf 'bench: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash scripts/bench/pull.sh): the pulls run as $user through runuser"
id -u "$user" >/dev/null 2>&1 || die "user $user is missing: run scripts/provision.sh as root"
for tool in docker-registry skopeo podman hyperfine python3 curl runuser; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/provision.sh as root"
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"

fixtures=$(bash "$repo/scripts/fixtures/build.sh")

work=$(mktemp -d /tmp/nook-bench-XXXXXX)
chmod 0755 "$work"
registry_pid=
cleanup() {
  # podman leaves its rootless pause process (the holder of its user
  # namespace) behind; it is ours, so it goes with the rest.
  local pause=$work/run/libpod/tmp/pause.pid
  [ -f "$pause" ] && kill "$(cat "$pause")" 2>/dev/null || true
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# --- the registry: docker-registry on 127.0.0.1, holding big ------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $host
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 200); do
  curl -fsS -o /dev/null "http://$host/v2/" 2>/dev/null && break
  kill -0 "$registry_pid" 2>/dev/null || die "docker-registry exited: $(cat "$work/registry.log")"
  sleep 0.05
done
skopeo copy --quiet --dest-tls-verify=false "oci:$fixtures/oci:big" "docker://$host/big:latest"
image=$host/big:latest
log "registry on $host holds big"

# --- the user's environment: what a login session would give nook-sub --------
# No systemd here, so no /run/user/UID: both tools get a private runtime
# directory, kept across runs as a login session's would be.
install -d -m 0700 -o "$user" -g "$user" "$work/run"
home=$(getent passwd "$user" | cut -d: -f6)
as_user=(runuser -u "$user" -- env -i "HOME=$home" "USER=$user" "LOGNAME=$user" LANG=C.UTF-8
  PATH=/usr/local/bin:/usr/bin:/bin "XDG_RUNTIME_DIR=$work/run")
# Fresh storage for a run: an empty directory the user owns (root removes the
# old one: its files belong to the user's subordinate ids).
fresh() { printf 'rm -rf %s && install -d -m 0700 -o %s -g %s %s' "$1" "$user" "$user" "$1"; }

# --- podman: rootless, its own storage under $work ------------------------------
# --root/--runroot keep it off the user's own storage; overlay is the driver a
# rootless user gets on a current kernel (native overlay in a user namespace,
# Linux >= 5.13); cgroupfs and file events because there is no systemd here.
podman_cmd=("${as_user[@]}" podman --root "$work/podman/root" --runroot "$work/podman/runroot"
  --storage-driver overlay --cgroup-manager cgroupfs --events-backend file
  pull --quiet --tls-verify=false "$image")
podman_prepare=$(fresh "$work/podman")
eval "$podman_prepare"
native=$("${as_user[@]}" podman --root "$work/podman/root" --runroot "$work/podman/runroot" \
  --storage-driver overlay info --format '{{index .Store.GraphStatus "Native Overlay Diff"}}' 2>/dev/null ||
  echo "unknown: podman info failed")
log "podman $(podman --version | awk '{print $3}'): rootless, storage driver overlay (native overlay diff: $native)"

# --- nook: a staged copy the user can read, its store in XDG_DATA_HOME ----------
names=(podman)
cmds=("$(printf '%q ' "${podman_cmd[@]}")")
prepares=(--prepare "$podman_prepare")
if [ -x "$repo/dist/nook" ] && [ -d "$repo/node_modules/koffi" ]; then
  mkdir -p "$work/nook/node_modules"
  cp -r "$repo/dist" "$work/nook/"
  cp -r "$repo/node_modules/koffi" "$repo/node_modules/@koromix" "$work/nook/node_modules/"
  chmod -R a+rX "$work/nook"
  nook_cmd=("${as_user[@]}" "XDG_DATA_HOME=$work/nook-data" "$(command -v node)" "$work/nook/dist/nook")
  if "${as_user[@]}" "XDG_DATA_HOME=$work/nook-data" "$(command -v node)" "$work/nook/dist/nook" \
    pull --help >/dev/null 2>&1; then
    names+=(nook)
    cmds+=("$(printf '%q ' "${nook_cmd[@]}" pull "$image")")
    prepares+=(--prepare "$(fresh "$work/nook-data")")
  else
    log "nook pull is not there yet (nook pull --help fails): running podman only"
  fi
else
  log "no built nook (dist/nook or node_modules/koffi missing; npm run build): running podman only"
fi

# --- the benchmark -----------------------------------------------------------
# One warm-up run each: the registry's blobs reach the page cache and podman's
# pause process exists, as in a session where the user has run podman before.
hyperfine_args=(--shell bash --runs "$runs" --warmup 1 --export-json "$work/pull.json" "${prepares[@]}")
for name in "${names[@]}"; do hyperfine_args+=(--command-name "$name"); done
hyperfine "${hyperfine_args[@]}" "${cmds[@]}"

python3 - "$work/pull.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
podman = results["podman"]["median"]
print(f"podman median: {podman:.3f} s")
if "nook" in results:
    nook = results["nook"]["median"]
    print(f"nook median: {nook:.3f} s")
    print(f"pull big (~100 MiB): nook/podman median ratio = {nook / podman:.2f}")
else:
    print("pull big (~100 MiB): nook/podman median ratio = n/a (nook pull not available yet)")
PY
