# shellcheck shell=bash disable=SC2154,SC2034
# The parts of net.sh (sourced after lib.sh and detached.sh, once
# bench_setup has made $work): the iperf3 servers and containers of the
# throughput part, one transfer and its check, the start-up part, clean-up.
# Needs: user, work, image, as_user, nook_cmd, podman_cmd, runtime_flag,
# reps, secs, runs, failed.

net=$work/net
net_report=$repo/scripts/bench/net-report.py

# The throughput modes, in the order of the tables. podman-ph is podman
# with slirp4netns:port_handler=slirp4netns, host->container only (the port
# handler is not on the other path); nook-host (--network host: the host's
# own loopback, no user-mode networking) is the ceiling on this machine.
h2c_keys=(hand nook-pasta nook-slirp podman podman-ph nook-host)
c2h_keys=(hand nook-pasta nook-slirp podman nook-host)
declare -A h2c_port h2c_pid c2h_pid broken
host_port=
ctr_iperf=()
bg_pids=()
hand_pid=

# free_ports N: N distinct free TCP ports on 127.0.0.1.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# iperf3 in the busybox image, which has none: the host's binary through the
# host's dynamic loader and libraries, the host's /usr bound at /hostusr (not
# /host/usr: nook cannot bind onto a path whose parent the image lacks).
iperf_in_container() {
  local bin interp dirs d path=
  bin=$(readlink -f "$(command -v iperf3)")
  interp=$(readlink -f "$(ldd "$bin" | awk '$1 ~ /^\// {print $1; exit}')")
  dirs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | xargs -r readlink -f | xargs -r -n1 dirname | sort -u)
  for d in "$bin" "$interp" $dirs; do
    [[ $d == /usr/* ]] || die "iperf3's $d is outside /usr: the container sees only the host's /usr"
  done
  for d in $dirs; do path+=${path:+:}/hostusr${d#/usr}; done
  ctr_iperf=("/hostusr${interp#/usr}" --library-path "$path" "/hostusr${bin#/usr}")
}

# wait_for WHAT CMD...: until CMD's output says iperf3's server listens (10 s).
wait_for() {
  local what=$1 i
  shift
  for i in $(seq 100); do
    "$@" 2>/dev/null | grep -q "Server listening" && return 0
    sleep 0.1
  done
  die "$what: iperf3 -s does not listen after 10 s"
}

# The pids of a container, for detached_cleanup to check that rm -f ended
# them: nook's command, monitor and network helper; podman's conmon and command.
nook_pid() {
  "${nook_cmd[@]}" inspect "$1" | python3 -c '
import json, sys
c = json.load(sys.stdin)[0]
d = "/".join([sys.argv[2], "nook/containers", c["Id"]])
pids = [c["State"]["Pid"], json.load(open(d + "/started.json"))["monitorPid"]]
try:
    pids.append(int(open(d + "/net.pid").read()))
except (OSError, ValueError):
    pass
with open(sys.argv[1], "a") as f:
    print(*pids, sep="\n", file=f)
print(c["State"]["Pid"])' "$work/pids" "$work/nook-data"
}
podman_pid() {
  "${podman_cmd[@]}" inspect --format '{{.State.ConmonPid}} {{.State.Pid}}' "$1" | tr ' ' '\n' >>"$work/pids"
  "${podman_cmd[@]}" inspect --format '{{.State.Pid}}' "$1"
}

# hand_pasta NAME PASTA-OPTION... -- COMMAND...: pasta by hand, in the
# foreground under this script, running COMMAND in a new user and network
# namespace; sets hand_pid to the pid of COMMAND.
hand_pasta() {
  local name=$1 pid i
  shift
  "${as_user[@]}" pasta --config-net --quiet --foreground -P "$net/$name.pasta.pid" "$@" >"$net/$name.log" 2>&1 &
  bg_pids+=($!)
  for i in $(seq 100); do
    if [ -s "$net/$name.pasta.pid" ]; then
      pid=$(pgrep -P "$(cat "$net/$name.pasta.pid")" | head -1)
      if [ -n "$pid" ]; then
        echo "$pid" >>"$work/pids"
        hand_pid=$pid
        return 0
      fi
    fi
    sleep 0.1
  done
  die "pasta ($name) did not start its command: $(grep -v syslog "$net/$name.log" | head -3)"
}

mode_of() {
  case $1 in
    nook-pasta) echo pasta ;;
    nook-slirp) echo slirp4netns ;;
    nook-host) echo host ;;
    podman) echo slirp4netns ;;
    podman-ph) echo slirp4netns:port_handler=slirp4netns ;;
  esac
}

start_h2c() {
  local key=$1 port=${h2c_port[$1]}
  case $key in
    hand)
      hand_pasta hand-h2c -t "127.0.0.1/$port:5201" -u none -T none -U none --no-map-gw -- iperf3 -s --forceflush
      h2c_pid[$key]=$hand_pid
      wait_for "pasta by hand" cat "$net/hand-h2c.log"
      ;;
    nook-host)
      "${nook_cmd[@]}" run -d --name "h2c-$key" --network host -v /usr:/hostusr:ro "$image" \
        "${ctr_iperf[@]}" -s --forceflush -B 127.0.0.1 -p "$port" >/dev/null || die "nook run -d h2c-$key failed"
      h2c_pid[$key]=$(nook_pid "h2c-$key")
      wait_for "h2c-$key" "${nook_cmd[@]}" logs "h2c-$key"
      ;;
    nook-*)
      "${nook_cmd[@]}" run -d --name "h2c-$key" --network "$(mode_of "$key")" -p "127.0.0.1:$port:5201" \
        -v /usr:/hostusr:ro "$image" "${ctr_iperf[@]}" -s --forceflush >/dev/null || die "nook run -d h2c-$key failed"
      h2c_pid[$key]=$(nook_pid "h2c-$key")
      wait_for "h2c-$key" "${nook_cmd[@]}" logs "h2c-$key"
      ;;
    podman*)
      "${podman_cmd[@]}" "${runtime_flag[@]}" run -d --name "h2c-$key" --network "$(mode_of "$key")" \
        -p "127.0.0.1:$port:5201" -v /usr:/hostusr:ro "$image" "${ctr_iperf[@]}" -s --forceflush >/dev/null ||
        die "podman run -d h2c-$key failed"
      h2c_pid[$key]=$(podman_pid "h2c-$key")
      wait_for "h2c-$key" "${podman_cmd[@]}" logs "h2c-$key"
      ;;
  esac
}

start_c2h() {
  local key=$1
  case $key in
    hand)
      hand_pasta hand-c2h -t none -u none -T "$host_port" -U none --no-map-gw -- sleep 100000
      c2h_pid[$key]=$hand_pid
      ;;
    nook-pasta | nook-slirp)
      "${nook_cmd[@]}" run -d --name "c2h-$key" --network "$(mode_of "$key")" --host-loopback \
        -v /usr:/hostusr:ro "$image" sleep 100000 >/dev/null || die "nook run -d c2h-$key failed"
      c2h_pid[$key]=$(nook_pid "c2h-$key")
      ;;
    nook-host)
      # No container to exec into: nook exec cannot join a --network host
      # container (EPERM on the host's network namespace), so each transfer
      # is a nook run --rm of its own; the counters are the host's.
      c2h_pid[$key]=$$
      ;;
    podman)
      "${podman_cmd[@]}" "${runtime_flag[@]}" run -d --name "c2h-$key" --network slirp4netns:allow_host_loopback=true \
        -v /usr:/hostusr:ro "$image" sleep 100000 >/dev/null || die "podman run -d c2h-$key failed"
      c2h_pid[$key]=$(podman_pid "c2h-$key")
      ;;
  esac
}

# client KEY DIR: the iperf3 client of a mode and direction, in cmd.
client() {
  local key=$1 dir=$2
  if [ "$dir" = h2c ]; then
    cmd=("${as_user[@]}" iperf3 -c 127.0.0.1 -p "${h2c_port[$key]}")
    return
  fi
  case $key in
    hand) cmd=("${as_user[@]}" nsenter -t "${c2h_pid[$key]}" -U -n --preserve-credentials iperf3 -c 127.0.0.1 -p "$host_port") ;;
    nook-pasta) cmd=("${nook_cmd[@]}" exec "c2h-$key" "${ctr_iperf[@]}" -c 127.0.0.1 -p "$host_port") ;;
    nook-host) cmd=("${nook_cmd[@]}" run --rm --network host -v /usr:/hostusr:ro "$image" "${ctr_iperf[@]}" -c 127.0.0.1 -p "$host_port") ;;
    nook-slirp) cmd=("${nook_cmd[@]}" exec "c2h-$key" "${ctr_iperf[@]}" -c 10.0.2.2 -p "$host_port") ;;
    podman) cmd=("${podman_cmd[@]}" exec "c2h-$key" "${ctr_iperf[@]}" -c 10.0.2.2 -p "$host_port") ;;
  esac
}

# repro KEY DIR: how to reproduce a transfer by hand, as nook-sub, with any
# busybox image (the script's registry is gone after the run).
repro() {
  local key=$1 dir=$2 i p
  i=$(printf '%q ' "${ctr_iperf[@]}")
  p=$((40000 + RANDOM % 20000))
  if [ "$dir" = h2c ]; then
    case $key in
      hand) echo "pasta --config-net -f -t 127.0.0.1/$p:5201 -u none -T none -U none --no-map-gw -- iperf3 -s &" ;;
      nook-host) echo "nook run -d --name s --network host -v /usr:/hostusr:ro busybox ${i}-s -B 127.0.0.1 -p $p" ;;
      nook-*) echo "nook run -d --name s --network $(mode_of "$key") -p 127.0.0.1:$p:5201 -v /usr:/hostusr:ro busybox ${i}-s" ;;
      podman*) echo "podman run --runtime runc -d --name s --network $(mode_of "$key") -p 127.0.0.1:$p:5201 -v /usr:/hostusr:ro busybox ${i}-s" ;;
    esac
    echo "iperf3 -c 127.0.0.1 -p $p -t $secs"
  else
    echo "iperf3 -s -B 127.0.0.1 -p $p &"
    case $key in
      hand) echo "pasta --config-net -f -t none -u none -T $p -U none --no-map-gw -- iperf3 -c 127.0.0.1 -p $p -t $secs" ;;
      nook-host) echo "nook run --rm --network host -v /usr:/hostusr:ro busybox ${i}-c 127.0.0.1 -p $p -t $secs" ;;
      nook-pasta) echo "nook run --rm --network pasta --host-loopback -v /usr:/hostusr:ro busybox ${i}-c 127.0.0.1 -p $p -t $secs" ;;
      nook-slirp) echo "nook run --rm --network slirp4netns --host-loopback -v /usr:/hostusr:ro busybox ${i}-c 10.0.2.2 -p $p -t $secs" ;;
      podman) echo "podman run --runtime runc --rm --network slirp4netns:allow_host_loopback=true -v /usr:/hostusr:ro busybox ${i}-c 10.0.2.2 -p $p -t $secs" ;;
    esac
  fi
}

# The bytes through the interfaces of pid's network namespace: "LO OTHER NAMES"
# (lo: received; the others: received + sent, names comma-separated).
netdev() {
  awk 'NR > 2 { sub(":", " "); if ($1 == "lo") lo += $2; else { o += $2 + $10; n = n (n == "" ? "" : ",") $1 } }
    END { printf "%.0f %.0f %s\n", lo, o, n }' "/proc/$1/net/dev"
}

# measure KEY DIR REP SECONDS: one transfer, checked (net-report.py one);
# a stall or an error marks the mode and direction broken.
measure() {
  local key=$1 dir=$2 rep=$3 s=$4 pid out before after rc=0
  [ "$dir" = h2c ] && pid=${h2c_pid[$key]} || pid=${c2h_pid[$key]}
  client "$key" "$dir"
  out=$net/$key.$dir.$rep
  before=$(netdev "$pid")
  timeout -k 5 $((s + 25)) "${cmd[@]}" -t "$s" -J --connect-timeout 5000 >"$out.json" 2>"$out.err" || rc=$?
  after=$(netdev "$pid")
  if ! python3 "$net_report" one "$net/results.jsonl" "$key" "$dir" "$rep" "$s" "$rc" "$out" "$before" "$after"; then
    broken[$key.$dir]=1
    repro "$key" "$dir" >"$net/repro.$key.$dir"
    failed=1
  fi
}

# Ends what the throughput part started; also from the EXIT trap, so it
# goes through whatever is already gone (set +e for this function only).
stop_throughput() {
  local - f p c ids
  set +e
  for f in "$net"/hand-*.pasta.pid; do
    [ -f "$f" ] || continue
    p=$(cat "$f")
    # Its command is pid 1 of a pid namespace of its own: SIGTERM from
    # outside does not reach a sleep there. pasta ends with its command.
    for c in $(pgrep -P "$p"); do kill -KILL "$c" 2>/dev/null; done
    rm -f "$f"
  done
  if [ -f "$net/host-server.pid" ]; then
    kill "$(cat "$net/host-server.pid")" 2>/dev/null
    rm -f "$net/host-server.pid"
  fi
  for p in "${bg_pids[@]}"; do
    # pasta itself, should its command be gone already.
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  bg_pids=()
  if [ ${#nook_cmd[@]} -gt 0 ] && [ -d "$work/nook-data" ]; then
    ids=$("${nook_cmd[@]}" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || "${nook_cmd[@]}" rm -f $ids >/dev/null || {
      log "nook rm -f failed"
      failed=1
    }
  fi
  if [ ${#podman_cmd[@]} -gt 0 ] && [ -d "$work/podman" ]; then
    "${podman_cmd[@]}" rm -f -a -t 0 >/dev/null || {
      log "podman rm -f -a failed"
      failed=1
    }
  fi
  return 0
}

throughput() {
  local key dir rep p
  iperf_in_container
  read -r host_port p1 p2 p3 p4 p5 p6 < <(free_ports 7)
  h2c_port=([hand]=$p1 [nook-pasta]=$p2 [nook-slirp]=$p3 [podman]=$p4 [podman-ph]=$p5 [nook-host]=$p6)
  log "iperf3 $(iperf3 --version | awk 'NR == 1 {print $2}') in the containers: ${ctr_iperf[*]}"

  # The host's server first: pasta -T auto (nook --host-loopback) forwards
  # the host's loopback ports it finds bound when it starts.
  "${as_user[@]}" iperf3 -s -D --forceflush -B 127.0.0.1 -p "$host_port" -I "$net/host-server.pid" --logfile "$net/host-server.log" ||
    die "iperf3 -s on the host failed"
  wait_for "iperf3 -s on 127.0.0.1:$host_port" cat "$net/host-server.log"
  for key in "${h2c_keys[@]}"; do start_h2c "$key"; done
  for key in "${c2h_keys[@]}"; do start_c2h "$key"; done

  log "throughput: $reps transfers of $secs s per mode and direction, after a 1 s warm-up each (started $(date -u +%H:%M:%S) UTC)"
  : >"$net/results.jsonl"
  for dir in h2c c2h; do
    [ "$dir" = h2c ] && keys=("${h2c_keys[@]}") || keys=("${c2h_keys[@]}")
    for key in "${keys[@]}"; do measure "$key" "$dir" 0 1; done
  done
  for rep in $(seq "$reps"); do
    for dir in h2c c2h; do
      [ "$dir" = h2c ] && keys=("${h2c_keys[@]}") || keys=("${c2h_keys[@]}")
      for key in "${keys[@]}"; do
        [ -z "${broken[$key.$dir]:-}" ] || continue
        measure "$key" "$dir" "$rep" "$secs"
      done
    done
  done
  log "throughput: done $(date -u +%H:%M:%S) UTC"
  stop_throughput
  python3 "$net_report" summary "$net/results.jsonl" "$net" || failed=1
}

startup() {
  local port names cmds name hyperfine_args
  port=$(free_ports 1)
  names=("nook none" "nook host" "nook pasta" "nook pasta -p" "nook slirp4netns" "podman none" "podman slirp4netns")
  cmds=(
    "$(printf '%q ' "${nook_cmd[@]}" run --rm --network none "$image" true)"
    "$(printf '%q ' "${nook_cmd[@]}" run --rm --network host "$image" true)"
    "$(printf '%q ' "${nook_cmd[@]}" run --rm --network pasta "$image" true)"
    "$(printf '%q ' "${nook_cmd[@]}" run --rm --network pasta -p "127.0.0.1:$port:80" "$image" true)"
    "$(printf '%q ' "${nook_cmd[@]}" run --rm --network slirp4netns "$image" true)"
    "$(printf '%q ' "${podman_cmd[@]}" "${runtime_flag[@]}" run --rm --network none "$image" true)"
    "$(printf '%q ' "${podman_cmd[@]}" "${runtime_flag[@]}" run --rm --network slirp4netns "$image" true)"
  )
  log "start-up: $runs runs of each after 3 warm-ups (started $(date -u +%H:%M:%S) UTC)"
  hyperfine_args=(--shell bash --runs "$runs" --warmup 3 --export-json "$work/startup.json")
  for name in "${names[@]}"; do hyperfine_args+=(--command-name "$name"); done
  if ! hyperfine "${hyperfine_args[@]}" "${cmds[@]}"; then
    log "hyperfine failed (a command exited non-zero?)"
    failed=1
    return 0
  fi
  log "start-up: done $(date -u +%H:%M:%S) UTC"
  python3 "$net_report" startup "$work/startup.json" || failed=1
}

# Trap for EXIT: the hand-run pastas, the host's iperf3 server, every
# container; a process of the run still there 10 s later fails the run;
# then detached_cleanup (the registry, podman's pause process, $work).
net_cleanup() {
  local status=$? left=
  set +e
  stop_throughput
  for _ in $(seq 100); do
    left=$(bench_leftovers)
    [ -z "$left" ] && break
    sleep 0.1
  done
  if [ -n "$left" ]; then
    log "left running 10 s after the clean-up: $(ps -o pid=,comm= -p "$(echo "$left" | paste -sd,)" | paste -sd';')"
    status=1
  fi
  (exit "$status")
  detached_cleanup
}
