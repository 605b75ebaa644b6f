#!/usr/bin/env bash
# nook's main job on a built-in default, from a fresh Debian 12 machine:
#   sudo bash scripts/demo.sh
# Sets the host up (as root), builds nook, builds a busybox image from the
# host's static busybox (umoci), serves it from a local registry
# (docker-registry on 127.0.0.1, fed by skopeo), then, as the unprivileged
# user nook-sub: pulls it with nook, lists and inspects it, shows the
# unpacked layer's owners from inside and outside the user namespace, and runs
# a container from it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (sudo bash scripts/demo.sh): it starts a registry and uses the test user nook-sub" >&2
  exit 1
fi
bash scripts/provision.sh
npm ci --no-audit --no-fund --loglevel=error

work=$(mktemp -d /tmp/nook-demo-XXXXXX)
chmod 0755 "$work"
registry_pid=
store=
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  # Layer files belong to nook-sub's subordinate ids: remove them from inside its namespace.
  [ -n "$store" ] && (cd /tmp && runuser -u nook-sub -- env HOME=/tmp node "$work/dist/nook" unshare rm -rf "$store") || true
  rm -rf "$work"
}
trap cleanup EXIT

# The checkout may be unreadable to other users (root's home): run a staged copy.
cp -r dist "$work/"
mkdir -p "$work/node_modules/@koromix"
cp -r node_modules/koffi "$work/node_modules/"
cp -r node_modules/@koromix/* "$work/node_modules/@koromix/"
chmod -R a+rX "$work"

fixtures=$(bash scripts/fixtures/build.sh)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/registry.yml" <<YML
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: $work/registry } }
http: { addr: 127.0.0.1:$port }
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(200):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v2/", timeout=1)
        break
    except OSError:
        time.sleep(0.05)
PY
skopeo copy --quiet --dest-tls-verify=false "oci:$fixtures/oci:busybox" "docker://127.0.0.1:$port/busybox:latest"

store=$(runuser -u nook-sub -- mktemp -d /tmp/nook-demo-store-XXXXXX)
nook() { (cd /tmp && runuser -u nook-sub -- env HOME=/tmp XDG_DATA_HOME="$store" node "$work/dist/nook" "$@"); }

image=127.0.0.1:$port/busybox
cat <<TXT

== nook $(nook --version), as user nook-sub (subordinate ids $(grep '^nook-sub:' /etc/subuid | cut -d: -f2-))

== nook pull $image
TXT
nook pull "$image"
echo
echo "== nook images"
nook images
echo
echo "== nook image inspect (Config, RootFS)"
nook image inspect "$image" | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(json.dumps({k: d[k] for k in ("Id", "Config", "RootFS")}, indent=2))'
layer=$(nook image inspect "$image" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RootFS"]["Layers"][0][7:])')
tree=$store/nook/layers/$layer/diff
echo
echo "== the unpacked layer from inside the user namespace (nook unshare): owners as in the image"
nook unshare ls -ln "$tree" "$tree/home"
echo
echo "== the same from outside: image uid 1000 is subordinate id $(($(grep '^nook-sub:' /etc/subuid | cut -d: -f2) + 999))"
runuser -u nook-sub -- ls -ln "$tree/home"
echo
echo "== nook run --rm $image sh -c '...': a container, rootless"
nook run --rm --hostname demo "$image" sh -c 'echo "hello from $(hostname): pid $$, uid $(id -u)"; echo "processes:"; ps; echo "uid map:"; cat /proc/self/uid_map; grep NoNewPrivs /proc/self/status'
