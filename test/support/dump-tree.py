#!/usr/bin/env python3
"""Prints a directory tree as JSON, one object per entry, as the caller sees
it (run it inside `nook unshare` to see namespace ids): path, type, owners,
mode bits, link target, inode, link count, device numbers, small file
contents, and extended attributes. Used by the integration tests to check
unpacked layers without trusting nook's own code."""
import json, os, stat, sys

root = sys.argv[1]
out = []
for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    for name in sorted(dirnames + filenames):
        p = os.path.join(dirpath, name)
        st = os.lstat(p)
        m = st.st_mode
        kind = ("dir" if stat.S_ISDIR(m) else "file" if stat.S_ISREG(m) else "symlink" if stat.S_ISLNK(m)
                else "char" if stat.S_ISCHR(m) else "block" if stat.S_ISBLK(m) else "fifo" if stat.S_ISFIFO(m)
                else "socket")
        e = {"path": os.path.relpath(p, root), "type": kind, "uid": st.st_uid, "gid": st.st_gid,
             "mode": stat.S_IMODE(m), "ino": st.st_ino, "nlink": st.st_nlink}
        if kind == "symlink":
            e["target"] = os.readlink(p)
        if kind in ("char", "block"):
            e["rdev"] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
        if kind == "file" and st.st_size <= 4096:
            try:
                with open(p, "rb") as f:
                    e["content"] = f.read().decode("utf8", "replace")
            except PermissionError:
                pass  # seen from outside the namespace, a subordinate id's 0600 file
        try:
            names = os.listxattr(p, follow_symlinks=False)
            e["xattrs"] = {n: os.getxattr(p, n, follow_symlinks=False).decode("utf8", "replace") for n in names}
        except OSError:
            pass
        out.append(e)
json.dump(out, sys.stdout)
