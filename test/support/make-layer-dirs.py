#!/usr/bin/env python3
"""Writes three unpacked layer directories, as nook's store holds them, for
the copy driver's tests (nook-helper --copy-rootfs), in either whiteout form
the unpacker writes (src/rootfs/unpack.ts):

  make-layer-dirs.py OUT overlay|keep OUTSIDE

  overlay  whiteouts are 0/0 character devices, an opaque directory has the
           xattr user.overlay.opaque=y
  keep     whiteouts are the OCI files .wh.NAME and .wh..wh..opq

OUT/l1 is the bottom layer, then OUT/l2 and OUT/l3. OUTSIDE is a directory
outside OUT holding a file "victim": l1 has symlinks to it that later layers
write and whiteout through, which must reach nothing there.

Run it as root of a user namespace (nook unshare). With CHOWN=0 in the
environment (a single-id map) every file stays the caller's. Every entry gets
the mtime and atime T below, so a copy can be checked for them."""
import os
import sys

out, form, outside = sys.argv[1], sys.argv[2], sys.argv[3]
chown = os.environ.get("CHOWN", "1") == "1"
T = 978307200  # 2001-01-01T00:00:00Z


def at(layer, name):
    return os.path.join(out, layer, name)


def own(p, uid, gid):
    if chown:
        os.chown(p, uid, gid, follow_symlinks=False)


def d(layer, name, mode=0o755, uid=0, gid=0):
    p = at(layer, name)
    os.makedirs(p, exist_ok=True)
    own(p, uid, gid)
    os.chmod(p, mode)


def f(layer, name, data, mode=0o644, uid=0, gid=0, xattrs=None):
    p = at(layer, name)
    with open(p, "w") as fh:
        fh.write(data)
    own(p, uid, gid)
    for k, v in (xattrs or {}).items():
        os.setxattr(p, k, v.encode())
    os.chmod(p, mode)


def symlink(layer, name, target, uid=0, gid=0):
    os.symlink(target, at(layer, name))
    own(at(layer, name), uid, gid)


def whiteout(layer, name):
    if form == "overlay":
        os.mknod(at(layer, name), 0o600 | 0o020000, os.makedev(0, 0))
    else:
        dn, base = os.path.split(name)
        f(layer, os.path.join(dn, ".wh." + base), "")


def opaque(layer, name):
    if form == "overlay":
        os.setxattr(at(layer, name), "user.overlay.opaque", b"y")
    else:
        f(layer, os.path.join(name, ".wh..wh..opq"), "")


for layer in ["l1", "l2", "l3"]:
    os.makedirs(at(layer, ""))

# l1, the bottom layer.
d("l1", "a")
os.setxattr(at("l1", "a"), "user.layer", b"1")
f("l1", "a/file", "a/file from l1\n")
f("l1", "a/kept", "kept from l1\n", 0o600, 1000, 1000, {"user.note": "kept"})
d("l1", "gone-dir")
f("l1", "gone-dir/x", "gone\n")
f("l1", "gone-file", "gone\n")
d("l1", "opq")
f("l1", "opq/old", "hidden by the opaque directory\n")
d("l1", "opq/sub")
f("l1", "opq/sub/deep", "hidden too\n")
f("l1", "file-to-dir", "a file in l1\n")
d("l1", "dir-to-file")
f("l1", "dir-to-file/inner", "inner\n")
symlink("l1", "escape", outside)
symlink("l1", "through", outside)
d("l1", "links")
f("l1", "links/one", "linked\n", 0o640, 1, 1)
os.link(at("l1", "links/one"), at("l1", "links/two"))
os.link(at("l1", "links/one"), at("l1", "a/three"))
f("l1", "setuid", "#!/bin/sh\n", 0o4755)
f("l1", "setgid", "#!/bin/sh\n", 0o2755, 0, 1)
f("l1", "override", "squashed\n", 0o644, 0, 0, {"user.containers.override_stat": "1000:1000:0600"})
f("l1", "overlay-meta", "no overlay xattrs\n", 0o644, 0, 0, {"user.overlay.redirect": "/elsewhere"})
os.mkfifo(at("l1", "fifo"), 0o600)
own(at("l1", "fifo"), 1, 1)
os.chmod(at("l1", "fifo"), 0o620)
symlink("l1", "link", "a/file", 1, 1)
d("l1", "app", 0o700, 1000, 1000)
f("l1", "app/secret", "uid 1000 only\n", 0o600, 1000, 1000)
d("l1", "sticky", 0o1777)
d("l1", "ro", 0o555)
f("l1", "ro/x", "in a 0555 directory\n")

# l2: whiteouts, an opaque directory, replacements both ways, and directories
# where l1 had symlinks to OUTSIDE, one with a whiteout and an opaque marker.
d("l2", "a", 0o750, 0, 1)
f("l2", "a/file", "a/file from l2\n")
whiteout("l2", "gone-dir")
whiteout("l2", "gone-file")
d("l2", "opq")
opaque("l2", "opq")
f("l2", "opq/new", "the only one left\n")
d("l2", "file-to-dir")
f("l2", "file-to-dir/in", "now a directory\n")
f("l2", "dir-to-file", "now a file\n")
d("l2", "escape")
f("l2", "escape/pwned", "must land in the rootfs\n")
d("l2", "through")
whiteout("l2", "through/victim")
opaque("l2", "through")
d("l2", "ro", 0o555)
f("l2", "ro/y", "added to a 0555 directory\n")

# l3: back after a whiteout.
f("l3", "gone-file", "back in l3\n")

# Times last, deepest first: adding entries changed the directories'.
for layer in ["l1", "l2", "l3"]:
    for root, dirs, files in os.walk(at(layer, ""), topdown=False):
        for n in files + dirs:
            os.utime(os.path.join(root, n), (T, T), follow_symlinks=False)
