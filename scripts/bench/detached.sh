# shellcheck shell=bash disable=SC2154
# Shared by the benchmarks of detached containers (exec.sh, memory.sh;
# sourced after lib.sh): removing every container of both tools before
# bench_cleanup removes the work directory. A detached container's monitor
# (nook) or conmon (podman) outlives the command that started it, and
# podman's conmon starts `podman container cleanup` when its container ends,
# which still writes in podman's storage after `podman rm -f` has returned.
# Needs: user, work, nook_cmd, podman_cmd (empty arrays when not set up).

# The user's live (not zombie) processes of this run: those whose command
# line names the work directory, and the pids listed in $work/pids (the
# containers' commands and monitors, whose command lines need not name it).
bench_leftovers() {
  local p
  for p in $(pgrep -u "$user" -f "$work/"; cat "$work/pids" 2>/dev/null); do
    if [ "$(stat -c %U "/proc/$p" 2>/dev/null)" = "$user" ] && [[ "$(ps -o stat= -p "$p")" != Z* ]]; then
      echo "$p"
    fi
  done | sort -un
}

# Trap for EXIT: rm -f all containers, wait up to 10 s for what they leave
# running to end (kill it after that, and say so), then bench_cleanup.
detached_cleanup() {
  local status=$? ids left=
  set +e
  if [ ${#nook_cmd[@]} -gt 0 ] && [ -d "$work/nook-data" ]; then
    ids=$("${nook_cmd[@]}" ps -aq 2>/dev/null)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || "${nook_cmd[@]}" rm -f $ids >/dev/null || { log "nook rm -f failed"; status=1; }
  fi
  if [ ${#podman_cmd[@]} -gt 0 ] && [ -d "$work/podman" ]; then
    "${podman_cmd[@]}" rm -f -a -t 0 >/dev/null || { log "podman rm -f -a failed"; status=1; }
  fi
  for _ in $(seq 100); do
    left=$(bench_leftovers)
    [ -z "$left" ] && break
    sleep 0.1
  done
  if [ -n "$left" ]; then
    log "still running 10 s after rm -f, killed: $(ps -o pid=,comm= -p "$(echo "$left" | paste -sd,)" | paste -sd';')"
    # shellcheck disable=SC2086
    kill -KILL $left 2>/dev/null
    sleep 0.5
  fi
  bench_cleanup || status=1
  exit "$status"
}
