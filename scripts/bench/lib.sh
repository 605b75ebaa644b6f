# Shared by the benchmarks (sourced): a local registry holding fixture
# images, the unprivileged user's environment, and a staged nook.
# Needs: repo (the checkout), user (the benchmark user). Sets: work, host,
# as_user, nook_cmd (empty when there is no built nook).
log() { printf 'bench: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

bench_checks() {
  [ "$(id -u)" -eq 0 ] || die "run as root (sudo bash $0): the tools run as $user through runuser"
  id -u "$user" >/dev/null 2>&1 || die "user $user is missing: run scripts/provision.sh as root"
  local tool
  for tool in docker-registry skopeo podman hyperfine python3 curl runuser "$@"; do
    command -v "$tool" >/dev/null || die "$tool is missing: run scripts/provision.sh as root"
  done
}

registry_pid=
bench_cleanup() {
  # podman leaves its rootless pause process (the holder of its user
  # namespace) behind; it is ours, so it goes with the rest.
  local pause=$work/run/libpod/tmp/pause.pid
  [ -f "$pause" ] && kill "$(cat "$pause")" 2>/dev/null || true
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}

# bench_setup TAG...: the work dir, a registry on 127.0.0.1 holding the fixture TAGs.
bench_setup() {
  local fixtures port tag
  fixtures=$(bash "$repo/scripts/fixtures/build.sh")
  work=$(mktemp -d /tmp/nook-bench-XXXXXX)
  chmod 0755 "$work"
  trap bench_cleanup EXIT
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  host=127.0.0.1:$port
  cat >"$work/registry.yml" <<YML
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
YML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "http://$host/v2/" 2>/dev/null && break
    kill -0 "$registry_pid" 2>/dev/null || die "docker-registry exited: $(cat "$work/registry.log")"
    sleep 0.05
  done
  for tag in "$@"; do
    skopeo copy --quiet --dest-tls-verify=false "oci:$fixtures/oci:$tag" "docker://$host/$tag:latest"
  done
  log "registry on $host holds $*"

  # What a login session would give the user. No systemd here, so no
  # /run/user/UID: both tools get a private runtime directory, kept across
  # runs as a login session's would be.
  install -d -m 0700 -o "$user" -g "$user" "$work/run"
  local home
  home=$(getent passwd "$user" | cut -d: -f6)
  as_user=(runuser -u "$user" -- env -i "HOME=$home" "USER=$user" "LOGNAME=$user" LANG=C.UTF-8
    PATH=/usr/local/bin:/usr/bin:/bin "XDG_RUNTIME_DIR=$work/run")

  # nook: a staged copy the user can read, its store in XDG_DATA_HOME.
  nook_cmd=()
  if [ -x "$repo/dist/nook" ] && [ -d "$repo/node_modules/koffi" ]; then
    mkdir -p "$work/nook/node_modules"
    cp -r "$repo/dist" "$work/nook/"
    cp -r "$repo/node_modules/koffi" "$repo/node_modules/@koromix" "$work/nook/node_modules/"
    chmod -R a+rX "$work/nook"
    nook_cmd=("${as_user[@]}" "XDG_DATA_HOME=$work/nook-data" "$(command -v node)" "$work/nook/dist/nook")
  else
    log "no built nook (dist/nook or node_modules/koffi missing; npm run build)"
  fi
}

# podman_cmd: rootless podman with its own storage under $work. overlay is the
# driver a rootless user gets on a current kernel (native overlay in a user
# namespace, Linux >= 5.13); cgroupfs and file events because there is no
# systemd here.
podman_base() {
  podman_cmd=("${as_user[@]}" podman --root "$work/podman/root" --runroot "$work/podman/runroot"
    --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
}

# Fresh storage for a run: an empty directory the user owns (root removes the
# old one: its files belong to the user's subordinate ids).
fresh() { printf 'rm -rf %s && install -d -m 0700 -o %s -g %s %s' "$1" "$user" "$user" "$1"; }

# ratio JSON NAME: medians and the nook/podman ratio from hyperfine's export.
ratio() {
  python3 - "$1" "$2" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
podman = results["podman"]["median"]
print(f"podman median: {podman:.3f} s")
if "nook" in results:
    nook = results["nook"]["median"]
    print(f"nook median: {nook:.3f} s")
    print(f"{sys.argv[2]}: nook/podman median ratio = {nook / podman:.2f}")
    if "nook-unconfined" in results:
        bare = results["nook-unconfined"]["median"]
        print(f"nook-unconfined median: {bare:.3f} s")
        print(f"seccomp filter: nook median - nook-unconfined median = {(nook - bare) * 1000:.1f} ms")
else:
    print(f"{sys.argv[2]}: nook/podman median ratio = n/a (nook cannot do it yet)")
PY
}
