#!/usr/bin/env python3
"""Writes a tar described by a JSON document on stdin to stdout, with Python's
tarfile, so that the unpacker's tests read tars written by a tool other than
the library under test. Hostile names, sizes and link targets are written as
given; tarfile does not check them.

  {"format": "pax" | "gnu" | "ustar",          default "pax"
   "gzip": true,                                gzip the result
   "cut": N,                                    keep only the first N bytes (before gzip)
   "entries": [
     {"name": "a/b", "type": "file" | "dir" | "symlink" | "hardlink" | "char" | "block" | "fifo",
      "data": "text" | "data_b64": "...",       contents (files)
      "size": N,                                header size for a file written without data
      "mode": 420, "uid": 0, "gid": 0, "mtime": 1767225600,
      "linkname": "target",                     symlinks and hardlinks
      "devmajor": 1, "devminor": 3,
      "pax": {"key": "value"},                  extra PAX records
      "pax_b64": {"key": "base64 of raw bytes"} PAX records with binary values
     }, ...]}
"""
import base64
import gzip
import io
import json
import sys
import tarfile

MTIME = 1767225600  # 2026-01-01T00:00:00Z, as scripts/fixtures/layers.py
FORMATS = {"pax": tarfile.PAX_FORMAT, "gnu": tarfile.GNU_FORMAT, "ustar": tarfile.USTAR_FORMAT}
TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}
DEFAULT_MODE = {"dir": 0o755, "symlink": 0o777}


def entry_info(e):
    kind = e.get("type", "file")
    ti = tarfile.TarInfo(e["name"])
    ti.type = TYPES[kind]
    ti.mode = e.get("mode", DEFAULT_MODE.get(kind, 0o644))
    ti.uid, ti.gid = e.get("uid", 0), e.get("gid", 0)
    ti.uname = ti.gname = ""
    ti.mtime = e.get("mtime", MTIME)
    ti.linkname = e.get("linkname", "")
    ti.devmajor, ti.devminor = e.get("devmajor", 0), e.get("devminor", 0)
    pax = dict(e.get("pax", {}))
    for k, v in e.get("pax_b64", {}).items():
        # tarfile writes values that are not UTF-8 with hdrcharset=BINARY.
        pax[k] = base64.b64decode(v).decode("utf-8", "surrogateescape")
    ti.pax_headers = pax
    return ti


def entry_data(e):
    if "data_b64" in e:
        return base64.b64decode(e["data_b64"])
    data = e.get("data")
    return data.encode() if isinstance(data, str) else None


def main():
    spec = json.load(sys.stdin)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=FORMATS[spec.get("format", "pax")]) as t:
        for e in spec["entries"]:
            ti = entry_info(e)
            data = entry_data(e)
            if data is not None:
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                # A header claiming `size` bytes with none following (absurd sizes, truncation).
                ti.size = e.get("size", 0)
                header = ti.tobuf(t.format, t.encoding, t.errors)
                t.fileobj.write(header)
                t.offset += len(header)
    out = buf.getvalue()
    if "cut" in spec:
        out = out[: spec["cut"]]
    if spec.get("gzip"):
        out = gzip.compress(out, mtime=0)
    sys.stdout.buffer.write(out)


if __name__ == "__main__":
    main()
