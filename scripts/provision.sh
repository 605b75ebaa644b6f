#!/usr/bin/env bash
# Prepares a Debian 12 host for nook's test suite.
#
# As root: installs the Debian packages the tests use, gives /dev/fuse and
# /dev/net/tun mode 0666 (as a stock Debian install has them), and creates two
# unprivileged test users:
#   nook-sub    with one /etc/subuid and /etc/subgid range (the usual desktop case)
#   nook-nosub  with none (the HPC login node case: single-id maps)
# Not as root: changes nothing, checks what is there and names what is missing.
#
# Idempotent; safe to run on every test run.
set -euo pipefail

PACKAGES=(
  gcc libc6-dev make            # nook-helper
  uidmap                        # newuidmap/newgidmap (setuid)
  fuse-overlayfs fuse3          # rootfs without kernel overlay
  slirp4netns passt             # user-mode networking
  runc                          # podman's runtime in the run benchmark on hybrid-cgroup hosts
  docker-registry               # the registry the tests pull from
  skopeo umoci                  # build and push fixture images
  busybox-static                # the fixture images' userland
  python3                       # fixture layer tars with exact owners
  curl                          # benchmarks wait for their registry with it
  tmux                          # drives nook run -it in the tests as a person would
  util-linux                    # runuser, setpriv, unshare, su
  sudo                          # sudo -u, one of the ways in without a login session
  libcap2-bin                   # setcap/getcap (file-capability tests)
  procps psmisc                 # pgrep/fuser in tests
  apache2-utils                 # htpasswd -B: the basic-auth test registry's bcrypt file
  openssl                       # the token-auth test registry's signing key and certificate
  podman                        # the pull benchmark's reference (scripts/bench/pull.sh)
  hyperfine                     # runs the benchmarks
  qemu-system-x86 qemu-utils    # the systemd guest of the vm tests (../shared/vm/: cgroup v2 delegation)
  debootstrap e2fsprogs         # build that guest's image
  slurm-wlm slurm-client munge  # the single-node Slurm cluster of the OCI runtime tests (srun --container)
)
TOOLS=(gcc newuidmap newgidmap fuse-overlayfs slirp4netns pasta docker-registry skopeo umoci busybox python3 runuser setpriv sudo setcap
  htpasswd openssl podman hyperfine qemu-system-x86_64 qemu-img debootstrap runc slurmctld slurmd srun sbatch sinfo
  munged mungekey)
SUB_USER=nook-sub
NOSUB_USER=nook-nosub

log() { printf 'provision: %s\n' "$*" >&2; }

missing_packages() {
  local p missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

# First uid after every existing range, so a new range never overlaps one
# (newuidmap fails with EINVAL on overlapping ranges).
next_free_id() {
  awk -F: 'BEGIN { m = 100000 } NF == 3 && $2 + $3 > m { m = $2 + $3 } END { print m }' /etc/subuid /etc/subgid
}

ensure_user() {
  local user=$1
  if ! id -u "$user" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/bash "$user"
    log "created user $user"
  fi
}

ensure_ranges() {
  local user=$1 file n start
  for file in /etc/subuid /etc/subgid; do
    n=$(grep -c "^$user:" "$file" || true)
    if [ "$n" -gt 1 ]; then
      sed -i "/^$user:/d" "$file"
      n=0
    fi
    if [ "$n" -eq 0 ]; then
      start=$(next_free_id)
      echo "$user:$start:65536" >>"$file"
      log "gave $user the range $start:65536 in $file"
    fi
  done
}

drop_ranges() {
  local user=$1 file
  for file in /etc/subuid /etc/subgid; do
    [ -f "$file" ] && sed -i "/^$user:/d" "$file"
  done
}

as_root() {
  local missing
  missing=$(missing_packages)
  if [ -n "$missing" ]; then
    log "installing: $missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
  chmod 0666 /dev/fuse /dev/net/tun
  touch /etc/subuid /etc/subgid
  ensure_user "$SUB_USER"
  ensure_user "$NOSUB_USER"
  ensure_ranges "$SUB_USER"
  drop_ranges "$NOSUB_USER"
  log "ready: $SUB_USER ($(grep "^$SUB_USER:" /etc/subuid)), $NOSUB_USER (no ranges)"
}

check_only() {
  local problems=() t
  for t in "${TOOLS[@]}"; do
    # Daemons and admin tools live in sbin, which a user's PATH on Debian leaves out.
    PATH="$PATH:/usr/sbin:/sbin" command -v "$t" >/dev/null 2>&1 || problems+=("$t is not installed")
  done
  local missing
  missing=$(missing_packages 2>/dev/null || true)
  [ -n "$missing" ] && problems+=("Debian packages missing: $missing (sudo apt-get install $missing)")
  for dev in /dev/fuse /dev/net/tun; do
    [ -r "$dev" ] && [ -w "$dev" ] || problems+=("$dev is not readable and writable by you (sudo chmod 0666 $dev)")
  done
  grep -q "^$(id -un):" /etc/subuid 2>/dev/null || problems+=("you have no range in /etc/subuid: the subordinate-id tests will be skipped")
  if [ ${#problems[@]} -gt 0 ]; then
    log "not root, so nothing was changed; found:"
    printf '  - %s\n' "${problems[@]}" >&2
    log "run this script as root (sudo bash scripts/provision.sh) to set all of it up"
    return 1
  fi
  log "not root; everything the tests need is present"
}

if [ "$(id -u)" -eq 0 ]; then as_root; else check_only; fi
