#!/usr/bin/env python3
"""The reports of scripts/bench/net.sh.

one RESULTS KEY DIR REP SECONDS RC OUT BEFORE AFTER
    checks one iperf3 transfer (OUT.json, OUT.err; the client's exit status
    RC; BEFORE and AFTER: "LO OTHER NAMES", the bytes through the interfaces
    of the container's network namespace), appends it to RESULTS (JSON
    lines), prints one line; exits 1 when it stalled or failed.
summary RESULTS NETDIR
    the throughput table, the path each mode took, the ratios and the goal;
    the stalls and failures with how to reproduce them (NETDIR/repro.*);
    exits 1 when there was any.
startup HYPERFINE_JSON
    the start-up table from hyperfine's export.
"""
import json
import statistics
import sys

LABELS = {
    "hand": "pasta by hand (no container)",
    "nook-pasta": "nook --network pasta",
    "nook-slirp": "nook --network slirp4netns",
    "podman": "podman --network slirp4netns",
    "podman-ph": "podman --network slirp4netns:port_handler=slirp4netns",
    "nook-host": "nook --network host (the host's loopback: the ceiling)",
}
DIRS = {"h2c": "host -> container", "c2h": "container -> host"}
PASTA = {"hand", "nook-pasta"}


def path_name(key, dirn, via):
    """What the interface that carried the data means for this mode."""
    if via == "lo":
        if key == "nook-host":
            return "host lo"
        if key in PASTA:
            return "splice"
        if key == "podman" and dirn == "h2c":
            return "lo (rootlessport)"
        return "lo"
    if via in ("?", "-"):
        return via
    return f"tap ({via})"


def one(args):
    results, key, dirn, rep, secs, rc, out, before, after = args
    rep, secs, rc = int(rep), int(secs), int(rc)
    rec = {"key": key, "dir": dirn, "rep": rep, "secs": secs, "status": "ok", "detail": "", "gbps": None, "via": "-"}
    data = None
    if rc in (124, 137):
        rec["status"] = "stall"
        rec["detail"] = f"no result after {secs + 25} s: timeout ended the client"
    else:
        try:
            with open(out + ".json") as f:
                data = json.load(f)
        except (OSError, ValueError):
            try:
                err = open(out + ".err").read().strip().splitlines()
            except OSError:
                err = []
            rec["status"] = "error"
            rec["detail"] = f"client exit status {rc}, no JSON; stderr: {' / '.join(err[:3]) or '(empty)'}"
    if data is not None:
        if data.get("error"):
            rec["status"] = "error"
            rec["detail"] = f"iperf3: {data['error']}"
        else:
            for iv in data.get("intervals", []):
                s = iv["sum"]
                if s["seconds"] >= 0.5 and s["bytes"] == 0:
                    rec["status"] = "stall"
                    rec["detail"] = f"no data from {s['start']:.1f} s to {s['end']:.1f} s"
                    break
            received = data["end"]["sum_received"]
            rec["gbps"] = received["bits_per_second"] / 1e9
            rec["bytes"] = received["bytes"]
            if rc != 0 and rec["status"] == "ok":
                rec["status"] = "error"
                rec["detail"] = f"client exit status {rc}"
            b, a = before.split(" ", 2), after.split(" ", 2)
            lo, other = int(a[0]) - int(b[0]), int(a[1]) - int(b[1])
            names = a[2] if len(a) > 2 else ""
            rec["lo"], rec["other"] = lo, other
            if received["bytes"] > 0:
                if lo >= 0.8 * received["bytes"]:
                    rec["via"] = "lo"
                elif other >= 0.8 * received["bytes"]:
                    rec["via"] = names or "?"
                else:
                    rec["via"] = "?"
    with open(results, "a") as f:
        print(json.dumps(rec), file=f)
    what = f"{LABELS[key]}, {DIRS[dirn]}, {'warm-up' if rep == 0 else f'run {rep}'}"
    if rec["status"] == "ok":
        print(f"  {what}: {rec['gbps']:.2f} Gbit/s via {path_name(key, dirn, rec['via'])}", file=sys.stderr)
        return 0
    gbps = f" ({rec['gbps']:.2f} Gbit/s)" if rec["gbps"] is not None else ""
    print(f"  {what}: {rec['status'].upper()}: {rec['detail']}{gbps}", file=sys.stderr)
    return 1


def summary(args):
    results, netdir = args
    recs = [json.loads(line) for line in open(results) if line.strip()]
    keys = list(LABELS)
    runs = {}
    for r in recs:
        runs.setdefault((r["key"], r["dir"]), []).append(r)

    def cell(key, dirn):
        rs = runs.get((key, dirn))
        if not rs:
            return None, "-", "-"
        bad = [r for r in rs if r["status"] != "ok"]
        good = [r["gbps"] for r in rs if r["status"] == "ok" and r["rep"] > 0]
        vias = sorted({path_name(key, dirn, r["via"]) for r in rs if r["status"] == "ok"})
        if bad:
            return None, f"{bad[0]['status'].upper()} ({len(bad)} of {len(rs)})", ", ".join(vias) or "-"
        if not good:
            return None, "-", ", ".join(vias)
        med = statistics.median(good)
        return med, f"{med:.2f} ({min(good):.2f}-{max(good):.2f}, n={len(good)})", ", ".join(vias)

    medians = {}
    print()
    print("TCP throughput, Gbit/s at the receiver: median (min-max, n transfers)")
    print()
    print("| mode | host -> container | path | container -> host | path |")
    print("| --- | --- | --- | --- | --- |")
    for key in keys:
        row = [LABELS[key]]
        for dirn in DIRS:
            med, text, via = cell(key, dirn)
            medians[(key, dirn)] = med
            row += [text, via]
        print("| " + " | ".join(row) + " |")
    print()

    def ratio(a, b, dirn):
        x, y = medians.get((a, dirn)), medians.get((b, dirn))
        return None if x is None or not y else x / y

    def fmt(r):
        return "n/a" if r is None else f"{r:.2f}"

    for a, b, name in [
        ("nook-pasta", "podman", "nook pasta / podman slirp4netns"),
        ("nook-slirp", "podman", "nook slirp4netns / podman slirp4netns"),
        ("nook-pasta", "hand", "nook pasta / pasta by hand"),
    ]:
        print(f"{name}: host -> container {fmt(ratio(a, b, 'h2c'))}, container -> host {fmt(ratio(a, b, 'c2h'))}")
    goal = [ratio("nook-pasta", "podman", d) for d in DIRS]
    if None in goal:
        verdict = "not measured (a stall or failure above)"
    else:
        verdict = "met" if all(g >= 3 for g in goal) else "not met"
        verdict += " (" + ", ".join(f"{DIRS[d]} {g:.2f}x" for d, g in zip(DIRS, goal)) + ")"
    print(f"goal nook pasta >= 3x podman slirp4netns in both directions: {verdict}")

    bad = [r for r in recs if r["status"] != "ok"]
    if not bad:
        return 0
    print()
    print(f"{len(bad)} transfers stalled or failed (a bug, not a figure):")
    seen = set()
    for r in bad:
        print(f"- {LABELS[r['key']]}, {DIRS[r['dir']]}, {'warm-up' if r['rep'] == 0 else 'run ' + str(r['rep'])}:"
              f" {r['status']}: {r['detail']}")
        if (r["key"], r["dir"]) in seen:
            continue
        seen.add((r["key"], r["dir"]))
        try:
            lines = open(f"{netdir}/repro.{r['key']}.{r['dir']}").read().splitlines()
        except OSError:
            continue
        print("  to reproduce, as nook-sub:")
        for line in lines:
            print(f"    {line}")
    return 1


def startup(args):
    (path,) = args
    results = {r["command"]: r for r in json.load(open(path))["results"]}
    print()
    print("run --rm --network MODE busybox true: median, mean ± σ, cost over the same tool's --network none (medians)")
    print()
    print("| command | median | mean ± σ | over none |")
    print("| --- | --- | --- | --- |")
    for name, r in results.items():
        base = results.get(name.split(" ")[0] + " none")
        over = f"{(r['median'] - base['median']) * 1000:+.0f} ms" if base and base is not r else "-"
        print(f"| {name} | {r['median']:.3f} s | {r['mean']:.3f} ± {r['stddev']:.3f} s | {over} |")
    print()
    for mode in ("none", "slirp4netns"):
        n, p = results.get(f"nook {mode}"), results.get(f"podman {mode}")
        if n and p:
            print(f"--network {mode}: nook/podman median ratio = {n['median'] / p['median']:.2f}")
    if "nook pasta" in results and "podman slirp4netns" in results:
        r = results["nook pasta"]["median"] / results["podman slirp4netns"]["median"]
        print(f"nook pasta / podman slirp4netns median ratio = {r:.2f}")
    return 0


if __name__ == "__main__":
    cmd, rest = sys.argv[1], sys.argv[2:]
    sys.exit({"one": one, "summary": summary, "startup": startup}[cmd](rest))
