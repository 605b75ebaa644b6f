#!/usr/bin/env bash
# Memory benchmark: what each tool keeps resident per detached container,
# besides the container's own command. COUNT idle containers (`sleep 100000`
# in the busybox fixture image, --network none) with each tool, rootless, as
# nook-sub, all running at the same time; then RSS and PSS
# (/proc/PID/smaps_rollup) of each tool's per-container support processes.
#
#   sudo bash scripts/bench/memory.sh            (sudo COUNT=20 bash ... for more)
#   sudo DRIVER=fuse-overlayfs bash scripts/bench/memory.sh
#
# Support processes:
#   nook    each container's monitor (monitorPid in its started.json) and the
#           monitor's descendants, fuse-overlayfs when that driver is used;
#   podman  each container's conmon (State.ConmonPid) and its descendants;
# for both, also any other process of the user whose command line names the
# tool's storage directory (podman's fuse-overlayfs leaves its parent), and
# never the container's command (State.Pid) or what it started. Podman's
# rootless pause process, one per user and shared by all of its containers,
# is reported apart. The figures are taken SETTLE seconds (default 2) after
# the last container started.
#
# DRIVER=overlay (default: kernel overlayfs in the user namespace, what both
# tools pick on this kernel) or fuse-overlayfs (nook --storage-driver
# fuse-overlayfs; podman with overlay.mount_program=/usr/bin/fuse-overlayfs).
#
# Prints a table per tool and:
#   memory per container: nook/podman ratio RSS = X.XX, PSS = X.XX
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
count=${COUNT:-10}
driver=${DRIVER:-overlay}
user=nook-sub
# shellcheck source=lib.sh
. "$repo/scripts/bench/lib.sh"
bench_checks
[[ $count =~ ^[1-9][0-9]*$ ]] || die "COUNT must be a positive number, not '$count'"
case $driver in
  overlay) ;;
  fuse-overlayfs) command -v fuse-overlayfs >/dev/null || die "fuse-overlayfs is missing: run scripts/provision.sh as root" ;;
  *) die "DRIVER must be overlay or fuse-overlayfs, not '$driver'" ;;
esac
bench_setup busybox
image=$host/busybox:latest
[ ${#nook_cmd[@]} -gt 0 ] || die "no built nook: npm run build"

# shellcheck source=detached.sh
. "$repo/scripts/bench/detached.sh"
podman_cmd=()
trap detached_cleanup EXIT

podman_base
if [ "$driver" = fuse-overlayfs ]; then
  podman_cmd+=(--storage-opt overlay.mount_program=/usr/bin/fuse-overlayfs)
fi
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
log "podman $(podman --version | awk '{print $3}'), OCI runtime $runtime, storage $driver"
for i in $(seq "$count"); do
  "${podman_cmd[@]}" "${runtime_flag[@]}" run -d --name "bench-$i" --network none "$image" sleep 100000 >/dev/null ||
    die "podman run -d bench-$i failed"
done
# shellcheck disable=SC2207
podman_ids=($("${podman_cmd[@]}" ps -q --no-trunc))
[ ${#podman_ids[@]} -eq "$count" ] || die "podman runs ${#podman_ids[@]} containers, not $count"
"${podman_cmd[@]}" inspect --format '{{.State.ConmonPid}} {{.State.Pid}}' "${podman_ids[@]}" >"$work/podman.pids"
pause_pid=$(cat "$work/run/libpod/tmp/pause.pid" 2>/dev/null || echo 0)

eval "$(fresh "$work/nook-data")"
"${nook_cmd[@]}" pull -q "$image" >/dev/null || die "nook pull failed"
nook_driver=()
[ "$driver" = fuse-overlayfs ] && nook_driver=(--storage-driver fuse-overlayfs)
for i in $(seq "$count"); do
  "${nook_cmd[@]}" run -d --name "bench-$i" --network none "${nook_driver[@]}" "$image" sleep 100000 >/dev/null ||
    die "nook run -d bench-$i failed"
done
# shellcheck disable=SC2207
nook_ids=($("${nook_cmd[@]}" ps -q --no-trunc))
[ ${#nook_ids[@]} -eq "$count" ] || die "nook runs ${#nook_ids[@]} containers, not $count"
"${nook_cmd[@]}" inspect "${nook_ids[@]}" >"$work/nook.inspect.json"
# Every pid of theirs, for detached_cleanup to check that rm -f ended them all.
{
  tr ' ' '\n' <"$work/podman.pids"
  python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
for c in json.load(open(f"{work}/nook.inspect.json")):
    print(c["State"]["Pid"])
    print(json.load(open(f"{work}/nook-data/nook/containers/{c['Id']}/started.json"))["monitorPid"])
PY
} >"$work/pids"

# Idle for a moment: what a container costs while it runs, not while it starts.
sleep "${SETTLE:-2}"

python3 - "$user" "$count" "$work" "$pause_pid" <<'PY'
import json, os, pwd, sys
from collections import defaultdict

user, count, work, pause_pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
uid = pwd.getpwnam(user).pw_uid

def stat(pid):
    """(ppid, comm) or None when it is gone."""
    try:
        s = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    comm = s[s.index("(") + 1 : s.rindex(")")]
    return int(s[s.rindex(")") + 2 :].split()[1]), comm

procs = {}  # pid -> (ppid, comm, cmdline) of the user's processes
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        if os.stat(f"/proc/{d}").st_uid != uid:
            continue
        cmd = open(f"/proc/{d}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    st = stat(d)
    if st:
        procs[int(d)] = (st[0], st[1], cmd)
children = defaultdict(list)
for pid, (ppid, _, _) in procs.items():
    children[ppid].append(pid)

def tree(pid):
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p in procs and p not in out:
            out.add(p)
            todo += children[p]
    return out

def mem(pid):
    vals = {}
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            parts = line.split()
            if len(parts) == 3 and parts[2] == "kB":
                vals[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        return None
    return vals.get("Rss", 0), vals.get("Pss", 0)

def support(name, roots, commands, storage):
    missing = [r for r in roots if r not in procs]
    if missing:
        sys.exit(f"bench: {name}: support processes {missing} are not running")
    gone = [c for c in commands if c not in procs]
    if gone:
        sys.exit(f"bench: {name}: container commands {gone} are not running")
    keep = set()
    for r in roots:
        keep |= tree(r)
    keep |= {p for p, (_, _, cmd) in procs.items() if storage in cmd}
    for c in commands:
        keep -= tree(c)
    keep.discard(pause_pid)
    rows, total, measured = defaultdict(lambda: [0, 0, 0]), [0, 0], 0
    for p in sorted(keep):
        m = mem(p)
        if m is None:
            continue
        measured += 1
        row = rows[procs[p][1]]
        row[0] += 1
        row[1] += m[0]
        row[2] += m[1]
        total[0] += m[0]
        total[1] += m[1]
    print(f"{name}: {measured} support processes for {count} containers")
    for comm, (n, rss, pss) in sorted(rows.items()):
        print(f"  {comm:<16} x{n:<3} RSS {rss / n:7.0f} KiB  PSS {pss / n:7.0f} KiB  (mean per process)")
    cmd_mem = [mem(c) for c in commands]
    cmd_mem = [m for m in cmd_mem if m]
    if cmd_mem:
        print(f"  (not counted: the containers' own commands, RSS {sum(m[0] for m in cmd_mem) / len(cmd_mem):.0f} KiB,"
              f" PSS {sum(m[1] for m in cmd_mem) / len(cmd_mem):.0f} KiB each)")
    per = (total[0] / count, total[1] / count)
    print(f"  per container: RSS {per[0]:.0f} KiB, PSS {per[1]:.0f} KiB")
    return per

pairs = [tuple(map(int, line.split())) for line in open(f"{work}/podman.pids") if line.strip()]
podman = support("podman", [c for c, _ in pairs], [p for _, p in pairs], f"{work}/podman/")
pause = mem(pause_pid) if pause_pid in procs else None
if pause:
    print(f"  podman's rootless pause process (pid {pause_pid}, one per user, shared by all its containers):"
          f" RSS {pause[0]} KiB, PSS {pause[1]} KiB;"
          f" with 1/{count} of it: RSS {podman[0] + pause[0] / count:.0f} KiB, PSS {podman[1] + pause[1] / count:.0f} KiB per container")

nook_roots, nook_cmds = [], []
for c in json.load(open(f"{work}/nook.inspect.json")):
    started = json.load(open(f"{work}/nook-data/nook/containers/{c['Id']}/started.json"))
    nook_roots.append(started["monitorPid"])
    nook_cmds.append(c["State"]["Pid"])
nook = support("nook", nook_roots, nook_cmds, f"{work}/nook-data/")

print(f"memory per container: nook/podman ratio RSS = {nook[0] / podman[0]:.2f}, PSS = {nook[1] / podman[1]:.2f}")
ok = nook[0] <= podman[0] and nook[1] <= podman[1]
print(f"goal nook <= podman: {'met' if ok else 'not met'}")
PY
