#!/usr/bin/env bash
# What a container's cgroup costs at start, in the systemd guest of
# ../shared/vm/ (systemd as PID 1, cgroup v2, the lingering user "nook" with
# delegated controllers): `run --rm --network none busybox true` with
#   none      --cgroups disabled: no cgroup of its own
#   systemd   --memory 64m: a transient scope over the user bus
#   cgroupfs  --memory 64m from inside a delegated scope without the bus
#   podman    podman run --memory 64m (crun, systemd cgroup manager), when
#             podman is installed in the guest (PODMAN=install: apt-get it)
# RUNS runs each, round-robin, after one warm-up each; prints the medians and
# each one's cost over nook's none. The guest runs under qemu's emulator
# (TCG) on this host: absolute times are ~5-15x the host's; the differences
# are what this measures. NOOK_VM_NAME=NAME uses a guest already started with
# `vm.sh start --name NAME --project .` (with .cache/bb.tar, a busybox
# docker-archive, in the checkout) instead of starting one.
#
#   sudo bash scripts/bench/cgroups.sh
#   sudo RUNS=20 PODMAN=install bash scripts/bench/cgroups.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
vm_dir=${NOOK_VM_DIR:-$repo/../shared/vm}
RUNS=${RUNS:-10}
name=${NOOK_VM_NAME:-nook-bench-$$}
log() { printf 'bench: %s\n' "$*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "run as root (the guest image is built with debootstrap)"; exit 1; }
[ -x "$vm_dir/vm.sh" ] || { log "$vm_dir/vm.sh is missing"; exit 1; }
[ -f "$repo/dist/nook.cjs" ] || { log "build nook first: npm run build"; exit 1; }

stage=$(mktemp -d /tmp/nook-bench-cg-XXXXXX)
cleanup() {
  [ -n "${NOOK_VM_NAME:-}" ] || "$vm_dir/vm.sh" stop --name "$name" >/dev/null 2>&1 || true
  rm -rf "$stage"
}
trap cleanup EXIT
chmod 755 "$stage"
cp -r "$repo/dist" "$stage/dist"
mkdir -p "$stage/node_modules"
cp -r "$repo/node_modules/koffi" "$repo/node_modules/@koromix" "$stage/node_modules/" 2>/dev/null || cp -r "$repo/node_modules/koffi" "$stage/node_modules/"
fixtures=$(bash "$repo/scripts/fixtures/build.sh" | tail -1)
mkdir -p "$stage/.cache"
cp "$fixtures/busybox-docker.tar" "$stage/.cache/bb.tar"
chmod -R a+rX "$stage"

if [ -z "${NOOK_VM_NAME:-}" ]; then
  bash "$vm_dir/build-image.sh" >/dev/null
  "$vm_dir/vm.sh" start --name "$name" --project "$stage" >/dev/null
fi
vm() { "$vm_dir/vm.sh" exec --name "$name" "$@"; }
if [ "${PODMAN:-}" = install ]; then
  log "installing podman in the guest (slow under emulation)"
  vm --root -- sh -c 'apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends podman crun catatonit >/dev/null'
fi
vm -- node /project/dist/nook load -q -i /project/.cache/bb.tar
has_podman=$(vm -- sh -c 'command -v podman >/dev/null && podman load -q -i /project/.cache/bb.tar >/dev/null && echo yes || echo no')

# In the guest: one timing per line, "MODE MS", round-robin over the modes.
vm -i -- sh -s > "$stage/times" <<GUEST
set -e
N="node /project/dist/nook"
t() { s=\$(date +%s%N); "\$@" >/dev/null; e=\$(date +%s%N); echo \$(( (e - s) / 1000000 )); }
none() { \$N run --rm --network none --cgroups disabled busybox true; }
systemd() { \$N run --rm --network none --memory 64m busybox true; }
podman_() { podman run --rm --network none --memory 64m busybox true; }
# cgroupfs: the same loop from inside one delegated scope without the user bus.
cgroupfs_loop() {
  systemd-run --user --scope -q -p Delegate=yes -- env -u DBUS_SESSION_BUS_ADDRESS -u XDG_RUNTIME_DIR sh -c '
    N="node /project/dist/nook"
    for i in \$(seq 0 $RUNS); do
      s=\$(date +%s%N); \$N run --rm --network none --memory 64m busybox true >/dev/null; e=\$(date +%s%N)
      [ \$i -gt 0 ] && echo "cgroupfs \$(( (e - s) / 1000000 ))"
    done'
}
for m in none systemd; do \$m; done
[ $has_podman = yes ] && podman_
for i in \$(seq 1 $RUNS); do
  echo "none \$(t none)"
  echo "systemd \$(t systemd)"
  [ $has_podman = yes ] && echo "podman \$(t podman_)"
done
cgroupfs_loop
GUEST

python3 - "$stage/times" "$RUNS" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
by = {}
for mode, ms in rows:
    by.setdefault(mode, []).append(int(ms))
med = {m: statistics.median(v) for m, v in by.items()}
print(f"run --rm busybox true in the guest, {sys.argv[2]} runs each, median ms (min-max):")
for m in ["none", "systemd", "cgroupfs", "podman"]:
    if m in by:
        extra = f"  +{med[m] - med['none']:.0f} ms over nook none" if m != "none" and m != "podman" else ""
        print(f"  {m:9} {med[m]:7.0f}  ({min(by[m])}-{max(by[m])}){extra}")
if "podman" in med:
    print(f"nook systemd / podman --memory 64m: {med['systemd'] / med['podman']:.2f}")
    print(f"nook cgroupfs / podman --memory 64m: {med['cgroupfs'] / med['podman']:.2f}")
PY
