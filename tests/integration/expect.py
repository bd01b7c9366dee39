"""Reads the `@expect` / `@absent` / `@exact-total` markers of a fixture
source and checks a leaktop JSON report against them."""
import json
import os
import re
import subprocess

EXPECT = re.compile(r"@expect (\S+) size_diff=(-?\d+) count_diff=(-?\d+)")
ABSENT = re.compile(r"@absent (\S+)")
EXACT = re.compile(r"@exact-total (\w+)")


def markers(source):
    """{label: {"expect": {(file, line): (size_diff, count_diff)}, "absent": set, "exact": bool}}"""
    out = {}
    path = os.path.realpath(source)
    with open(source) as f:
        for lineno, text in enumerate(f, 1):
            for m in EXPECT.finditer(text):
                d = out.setdefault(m.group(1), {"expect": {}, "absent": set(), "exact": False})
                d["expect"][(path, lineno)] = (int(m.group(2)), int(m.group(3)))
            for m in ABSENT.finditer(text):
                out.setdefault(m.group(1), {"expect": {}, "absent": set(), "exact": False})["absent"].add((path, lineno))
            for m in EXACT.finditer(text):
                out.setdefault(m.group(1), {"expect": {}, "absent": set(), "exact": False})["exact"] = True
    return out


def merge(*marker_sets):
    out = {}
    for ms in marker_sets:
        for label, d in ms.items():
            o = out.setdefault(label, {"expect": {}, "absent": set(), "exact": False})
            for key, (size, count) in d["expect"].items():
                old = o["expect"].get(key, (0, 0))
                o["expect"][key] = (old[0] + size, old[1] + count)
            o["absent"] |= d["absent"]
            o["exact"] |= d["exact"]
    return out


def run_json(leaktop, argv, extra=(), env=None, timeout=120):
    """Runs `leaktop run --json` and returns (exit status, [reports], stderr)."""
    cmd = [leaktop, "run", "--json", *extra, "--", *argv]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    reports = [json.loads(line) for line in p.stdout.splitlines() if line.startswith('{"event":"report"')]
    return p.returncode, reports, p.stderr


def row_key(stat):
    f = stat["frames"][0]
    return (os.path.realpath(f["file"]) if f["file"] else None, f["line"])


def check_report(report, spec, what):
    """Returns a list of problems (empty when the report matches)."""
    problems = []
    rows = {}
    for st in report["stats"]:
        rows.setdefault(row_key(st), []).append(st)
    for key, (size, count) in sorted(spec["expect"].items()):
        got = rows.get(key)
        if not got:
            problems.append(f"{what}: no row for {key[0]}:{key[1]} (want {size:+d} B, {count:+d} blocks)")
            continue
        st = got[0]
        if (st["size_diff"], st["count_diff"]) != (size, count):
            problems.append(f"{what}: {os.path.basename(key[0])}:{key[1]} has {st['size_diff']:+d} B "
                            f"{st['count_diff']:+d} blocks, want {size:+d} B {count:+d} blocks")
    for key in sorted(spec["absent"]):
        for st in rows.get(key, []):
            if st["size_diff"] or st["count_diff"]:
                problems.append(f"{what}: {os.path.basename(key[0])}:{key[1]} should not grow, has "
                                f"{st['size_diff']:+d} B {st['count_diff']:+d} blocks")
    if spec["exact"]:
        want = (sum(v[0] for v in spec["expect"].values()), sum(v[1] for v in spec["expect"].values()))
        got = (report["total"]["size_diff"], report["total"]["count_diff"])
        if want != got:
            problems.append(f"{what}: total diff {got}, want exactly {want}")
    return problems
