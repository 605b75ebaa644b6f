#!/usr/bin/env bash
# Network benchmark, rootless, as nook-sub, side by side in one run:
#
# 1. TCP throughput (iperf3) between the host and a container, both ways:
#    host->container  iperf3 -s in a detached container published with
#                     -p 127.0.0.1:PORT:5201, the client on the host to
#                     127.0.0.1:PORT;
#    container->host  iperf3 -s on the host's 127.0.0.1, the client in the
#                     container: with pasta on the container's own 127.0.0.1
#                     (--host-loopback), with slirp4netns at 10.0.2.2;
#    for nook --network pasta, nook --network slirp4netns, podman --network
#    slirp4netns (4.3, its default port handler rootlessport), podman with
#    slirp4netns:port_handler=slirp4netns (host->container only: the port
#    handler is only on that path), pasta run by hand (no container) as the
#    reference for what pasta itself does, and nook --network host (the
#    host's own loopback: the ceiling here). Only loopback addresses of this
#    machine are targets. Each transfer is checked: one that times out or has
#    a second without data is a stall, reported with how to reproduce it,
#    and makes the script fail. The bytes counted on the interfaces of the
#    container's network namespace tell which path the data took (lo: pasta's
#    splice path or rootlessport; tap0/eth0: the tap device).
# 2. The start-up cost of each network mode: hyperfine over
#    `run --rm --network MODE busybox true` for nook (none, host, pasta,
#    pasta with -p, slirp4netns) and podman (none, slirp4netns).
#
#   sudo bash scripts/bench/net.sh
#   sudo REPS=7 SECS=10 RUNS=30 bash scripts/bench/net.sh
#   sudo PARTS=throughput bash scripts/bench/net.sh    (or PARTS=startup)
#
# REPS (5) transfers of SECS (5) s per mode and direction, round-robin over
# the modes after a 1 s warm-up transfer each; RUNS (20) hyperfine runs (3
# warm-ups) per start-up command. iperf3 (Debian package) is installed when
# missing. iperf3 runs in the busybox container through the host's dynamic
# loader, the host's /usr bound read-only at /hostusr.
#
# Prints the median Gbit/s (receiver side) per mode and direction, the path
# taken, the ratios nook pasta / podman slirp4netns and nook slirp4netns /
# podman slirp4netns, whether the goal (nook's pasta >= 3x podman's
# slirp4netns both ways) is met, then hyperfine's table and the cost of each
# mode over --network none.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
runs=${RUNS:-20}
reps=${REPS:-5}
secs=${SECS:-5}
parts=${PARTS:-throughput,startup}
user=nook-sub
# shellcheck source=lib.sh
. "$repo/scripts/bench/lib.sh"
bench_checks pasta slirp4netns nsenter timeout ldd
for v in runs reps secs; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "${v^^} must be a positive number, not '${!v}'"
done
do_throughput=0
do_startup=0
for p in ${parts//,/ }; do
  case $p in
    throughput) do_throughput=1 ;;
    startup) do_startup=1 ;;
    *) die "PARTS is a comma-separated list of throughput and startup, not '$parts'" ;;
  esac
done

if [ "$do_throughput" = 1 ] && ! command -v iperf3 >/dev/null; then
  # As scripts/provision.sh installs its packages (the package's question
  # whether to start an iperf3 daemon defaults to no).
  log "installing iperf3 (Debian package iperf3)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends iperf3 >/dev/null
  command -v iperf3 >/dev/null || die "iperf3 is still missing after apt-get install iperf3"
fi

bench_setup busybox
image=$host/busybox:latest
[ ${#nook_cmd[@]} -gt 0 ] || die "no built nook: npm run build"
# shellcheck source=detached.sh
. "$repo/scripts/bench/detached.sh"
# shellcheck source=net-lib.sh
. "$repo/scripts/bench/net-lib.sh"
podman_cmd=()
trap net_cleanup EXIT

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
eval "$(fresh "$work/nook-data")"
"${nook_cmd[@]}" pull -q "$image" >/dev/null || die "nook pull failed"
install -d -m 0755 -o "$user" -g "$user" "$net"
log "podman $(podman --version | awk '{print $3}') (OCI runtime $runtime), slirp4netns $(slirp4netns --version | awk 'NR == 1 {print $3}'), passt $(dpkg-query -W -f='${Version}' passt 2>/dev/null || echo '?'), kernel $(uname -r), $(nproc) CPUs"

# Both parts set failed=1 on a stall or a failed command and go on; a
# broken set-up ends the script (die).
failed=0
if [ "$do_throughput" = 1 ]; then
  throughput
fi
if [ "$do_startup" = 1 ]; then
  startup
fi
[ "$failed" = 0 ] || die "FAILED: see above"
