#!/usr/bin/env python3
"""Exports (PRODUCT.md §13) read by real clients: `go tool pprof -raw` on
the pprof form gives, stack by stack, the bytes and blocks of the JSON
report (`show --json --group traceback`), inlined frames as extra Lines of
one Location, demangled C++ names, mappings with build-ids; the diff form
(--base) subtracts; folded stacks sum to the snapshot's total and, in the
two-column form, to both totals; the JSON form reads back with `show`;
`--save DIR --format` writes beside each snapshot; corrupt files get the
one-line errors of `show`/`diff`.
Usage: test_exports.py LEAKTOP FIXTURE_BIN_DIR INTEGRATION_BIN_DIR"""
import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

leaktop, fxdir, itdir = sys.argv[1:4]
GO = shutil.which("go")


def run(*args, **kw):
    return subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          timeout=180, **kw)


def lt(*args):
    return run(leaktop, *args)


def show_stacks(snap):
    """{stack: [count, size]} from the JSON report, a stack being the tuple of
    physical frames (address, (function, ...innermost first))."""
    rep = json.loads(lt("show", snap, "--json", "--group", "traceback", "--top", "0").stdout)
    out = collections.defaultdict(lambda: [0, 0])
    for s in rep["stats"]:
        stack, chain = [], []
        for f in s["frames"]:
            chain.append(f["function"])
            if not f["inlined"]:
                stack.append((int(f["address"], 16) if f["address"] else 0, tuple(chain)))
                chain = []
        out[tuple(stack)][0] += s["count"]
        out[tuple(stack)][1] += s["size"]
    return out, rep["total"]


def pprof_raw(path):
    """Samples, locations and mappings from `go tool pprof -raw`, untouched
    by pprof's own symbolization and name simplification."""
    p = run(GO, "tool", "pprof", "-symbolize=none", "-raw", path)
    text = p.stdout.decode()
    locs, samples, maps, section = {}, [], [], None
    cur = None
    for line in text.splitlines():
        if line in ("Samples:", "Locations", "Mappings"):
            section = line
            continue
        if section == "Samples:":
            m = re.match(r"\s*(-?\d+)\s+(-?\d+):((?:\s+\d+)*)", line)
            if m:
                samples.append((int(m.group(1)), int(m.group(2)), [int(x) for x in m.group(3).split()]))
        elif section == "Locations":
            m = re.match(r"\s*(\d+): (0x[0-9a-f]+) M=(\d+) ?(.*)", line)
            if m:
                cur = locs[int(m.group(1))] = {"addr": int(m.group(2), 16), "lines": []}
                if m.group(4):
                    cur["lines"].append(m.group(4))
            elif cur is not None and line.strip():
                cur["lines"].append(line.strip())
        elif section == "Mappings":
            if line.strip():
                maps.append(line)
    return samples, locs, maps, p


def line_function(text):
    """The function of one -raw Line: 'NAME FILE:LINE s=0'."""
    return re.sub(r" \S*:\d+ s=\d+.*$", "", text)


def pprof_stacks(samples, locs):
    out = collections.defaultdict(lambda: [0, 0])
    for count, size, ids in samples:
        stack = tuple((locs[i]["addr"], tuple(line_function(l) for l in locs[i]["lines"])) for i in ids)
        out[stack][0] += count
        out[stack][1] += size
    return out


def unresolved_to_lines(stacks):
    """A frame pprof shows without a Line (nothing known) has no function."""
    return {tuple((a, tuple(f for f in fns if f is not None)) for a, fns in st): v for st, v in stacks.items()}


def folded_total(text, col=-1):
    return sum(int(l.rsplit(" ", 2)[col]) for l in text.splitlines() if l)


tmp = tempfile.mkdtemp(prefix="leaktop-exports-")
try:
    saved = os.path.join(tmp, "saved")
    p = lt("run", "--batch", "--save", saved, "--format", "pprof", "--", os.path.join(fxdir, "fx_basic_O2"))
    snaps = sorted(glob.glob(os.path.join(saved, "*.ltsnap")))
    by_label = {f.rsplit("-", 1)[-1].split(".")[0]: f for f in snaps}
    check("--save --format pprof writes a .pb.gz beside each snapshot",
          len(snaps) == 3 and all(os.path.exists(f[:-len(".ltsnap")] + ".pb.gz") for f in snaps),
          os.listdir(saved) if os.path.isdir(saved) else p.stderr)
    base, after = by_label.get("base"), by_label.get("after")
    for name, exe in (("inline", os.path.join(itdir, "fx_inline")), ("names", os.path.join(itdir, "fx_names"))):
        d = os.path.join(tmp, name)
        lt("run", "--batch", "--save", d, "--format", "pprof", "--", exe)
        by_label[name] = (glob.glob(os.path.join(d, "*.ltsnap")) or [None])[0]
        by_label[name + "-live"] = (glob.glob(os.path.join(d, "*.pb.gz")) or [None])[0]

    if not check("go tool pprof is installed (scripts/setup.sh: golang-go)", GO is not None):
        sys.exit(finish())

    # 1. pprof, stack by stack, against the JSON report.
    for label in ("after", "inline", "names"):
        snap = by_label.get(label)
        if not check(f"{label}: snapshot saved", snap is not None):
            continue
        pb = os.path.join(tmp, label + ".pb.gz")
        e = lt("export", snap, "--format", "pprof", "-o", pb)
        check(f"{label}: export --format pprof -o FILE succeeds", e.returncode == 0, e.stderr)
        samples, locs, maps, raw = pprof_raw(pb)
        check(f"{label}: go tool pprof -raw reads it", raw.returncode == 0 and samples, raw.stderr[-500:])
        want, total = show_stacks(snap)
        got = pprof_stacks(samples, locs)
        check(f"{label}: every stack's bytes and blocks equal the JSON report's",
              unresolved_to_lines(dict(want)) == dict(got),
              f"json {len(want)} stacks, pprof {len(got)}: only json "
              f"{[k for k in want if k not in got][:2]}, only pprof {[k for k in got if k not in want][:2]}")
        check(f"{label}: totals equal", sum(v[1] for v in got.values()) == total["size"]
              and sum(v[0] for v in got.values()) == total["count"], total)
        check(f"{label}: mappings carry module paths and build-ids",
              any(re.search(r"/\S+ [0-9a-f]{40} \[FN\]", m) for m in maps), maps[:3])
        top = run(GO, "tool", "pprof", "-top", pb)
        check(f"{label}: go tool pprof -top reads it as inuse_space",
              top.returncode == 0 and b"Type: inuse_space" in top.stdout, top.stderr[-300:])

    inl = by_label.get("inline")
    if inl:
        samples, locs, _, _ = pprof_raw(os.path.join(tmp, "inline.pb.gz"))
        chains = [[line_function(l) for l in loc["lines"]] for loc in locs.values()]
        check("inline: one Location holds inner, middle, outer, innermost first",
              ["inner", "middle", "outer"] in chains, chains)
    if by_label.get("names"):
        samples, locs, _, _ = pprof_raw(os.path.join(tmp, "names.pb.gz"))
        names = [line_function(l) for loc in locs.values() for l in loc["lines"]]
        check("names: C++ functions demangled (templates and namespaces)",
              any(n.startswith("store::detail::Shelf<double, 111>::stock") for n in names), names)
        lines = [l for loc in locs.values() for l in loc["lines"]]
        check("names, exported from the saved file: the mangled symbol kept as the system name",
              any(l.endswith("(_ZN5store6detail5ShelfIdLi111EE5stockEv)") for l in lines), lines)
    live = by_label.get("names-live")
    if live:
        samples, locs, _, _ = pprof_raw(live)
        lines = [l for loc in locs.values() for l in loc["lines"]]
        check("names, exported live (--save --format): the mangled symbol kept as the system name",
              any(l.startswith("store::detail::Shelf<double, 111>::stock() ")
                  and l.endswith("(_ZN5store6detail5ShelfIdLi111EE5stockEv)") for l in lines), lines)
        js = json.loads(lt("run", "--json", "--group", "traceback", "--", os.path.join(itdir, "fx_names")).stdout
                        .splitlines()[-1])
        check("JSON reports carry the system name of frames that have one",
              any(f.get("system_name") == "_ZN5store6detail5ShelfIdLi111EE5stockEv"
                  for st in js["stats"] for f in st["frames"]), js["stats"][:1])

    # 2. --base: the pprof diff form and the folded two-column form.
    if base and after:
        pb = os.path.join(tmp, "diff.pb.gz")
        lt("export", after, "--base", base, "--format", "pprof", "-o", pb)
        rep = json.loads(lt("diff", base, after, "--json", "--group", "traceback").stdout)
        samples, locs, _, raw = pprof_raw(pb)
        check("--base pprof: sample sums are the diff's total",
              sum(s[1] for s in samples) == rep["total"]["size_diff"]
              and sum(s[0] for s in samples) == rep["total"]["count_diff"], (rep["total"], raw.stderr[-300:]))
        top = run(GO, "tool", "pprof", "-top", "-unit=B", pb)
        m = re.search(rb"accounting for (-?\d+)B", top.stdout)
        check("--base pprof: go tool pprof -top shows the growth", m and int(m.group(1)) == rep["total"]["size_diff"],
              top.stdout[:400])
        for pbf, snap in ((os.path.join(tmp, "b.pb.gz"), base), (os.path.join(tmp, "a.pb.gz"), after)):
            lt("export", snap, "--format", "pprof", "-o", pbf)
        db = run(GO, "tool", "pprof", "-top", "-unit=B", "-diff_base", os.path.join(tmp, "b.pb.gz"), os.path.join(tmp, "a.pb.gz"))
        m2 = re.search(rb"accounting for (-?\d+)B", db.stdout)
        check("two exports and go tool pprof -diff_base give the same growth",
              m2 and int(m2.group(1)) == rep["total"]["size_diff"], db.stdout[:300] + db.stderr[-300:])

        fo = lt("export", after, "--format", "folded")
        stats = json.loads(lt("show", after, "--json").stdout)
        text = fo.stdout.decode()
        check("folded: one 'root;...;leaf BYTES' line per stack",
              fo.returncode == 0 and all(re.fullmatch(r"\S.*;?.* \d+", l) for l in text.splitlines()), text[:300])
        check("folded: the lines sum to the snapshot's total", folded_total(text) == stats["total"]["size"],
              (folded_total(text), stats["total"]))
        check("folded: root first (main before the leaf)",
              any(re.match(r".*main;.*", l) for l in text.splitlines()), text[:300])
        fd = lt("export", after, "--base", base, "--format", "folded").stdout.decode()
        old, new = folded_total(fd, -2), folded_total(fd, -1)
        check("folded --base: 'stack OLD NEW' columns sum to both totals, their difference to the diff",
              new - old == rep["total"]["size_diff"] and new == rep["total"]["size"]
              and all(len(l.rsplit(" ", 2)) == 3 for l in fd.splitlines()), (old, new, rep["total"]))

        # 3. json: the §9 snapshot, read back by show to the same statistics.
        js = os.path.join(tmp, "after.json")
        lt("export", after, "--format", "json", "-o", js)
        a = json.loads(lt("show", after, "--json", "--group", "traceback").stdout)
        b = json.loads(lt("show", js, "--json", "--group", "traceback").stdout)
        check("json: the export reads back with show to the same statistics",
              a["stats"] == b["stats"] and a["total"] == b["total"], (a["total"], b["total"]))
        jd = json.loads(lt("export", after, "--base", base, "--format", "json").stdout)
        check("json --base: the traceback-grouped diff report", jd["total"] == rep["total"], jd.get("total"))

    # 4. Corrupt files: the same one-line errors as show/diff; usage.
    bad = os.path.join(tmp, "bad.ltsnap")
    with open(bad, "wb") as f:
        f.write(open(after, "rb").read()[:60] if after else b"LTSNAP")
    for name, path in (("truncated", bad), ("missing", os.path.join(tmp, "nope.ltsnap")), ("not a snapshot", "/etc/passwd")):
        e = lt("export", path, "--format", "pprof")
        s = lt("show", path)
        check(f"export of a {name} file: the same one-line error as show",
              e.returncode == s.returncode == 1 and e.stderr == s.stderr and e.stderr.count(b"\n") == 1
              and not e.stdout, (e.stderr, s.stderr))
        if after:
            e = lt("export", after, "--base", path, "--format", "folded")
            d = lt("diff", path, after)
            check(f"--base of a {name} file: the same one-line error as diff",
                  e.returncode == 1 and e.stderr == d.stderr, (e.stderr, d.stderr))
    e = lt("export", after or bad)
    check("export without --format: usage error", e.returncode == 2 and b"--format" in e.stderr, e.stderr)
    e = lt("export", after or bad, "--format", "svg")
    check("export --format svg: refused", e.returncode == 2 and b"--format" in e.stderr, e.stderr)
    e = lt("export", after or bad, "--format", "pprof", "--json")
    check("export refuses options of other commands", e.returncode == 2 and b"does not apply" in e.stderr, e.stderr)

    # A sampled run: every export says its figures are estimates, and the
    # JSON form reads back as sampled (so it cannot be compared with exact).
    sdir = os.path.join(tmp, "sampled")
    p = lt("run", "--batch", "--sample", "64K", "--save", sdir, "--", os.path.join(fxdir, "fx_basic_O2"))
    ssnaps = sorted(glob.glob(os.path.join(sdir, "*exit.ltsnap")))
    if check("sampled run saved its exit snapshot", len(ssnaps) == 1, p.stderr):
        pb = os.path.join(tmp, "sampled.pb.gz")
        lt("export", ssnaps[0], "--format", "pprof", "-o", pb)
        raw = run(GO, "tool", "pprof", "-symbolize=none", "-raw", pb).stdout.decode() if GO else ""
        check("sampled pprof: the period is the sampling interval",
              not GO or re.search(r"^PeriodType: space bytes\s*\nPeriod: 65536$", raw, re.M), raw[:400])
        check("sampled pprof: a comment says the figures are estimates",
              not GO or "sampled every 64 KiB: estimates" in raw, raw[:400])
        js = os.path.join(tmp, "sampled.json")
        lt("export", ssnaps[0], "--format", "json", "-o", js)
        doc = json.load(open(js))
        check("sampled JSON export: sampled and sample_bytes",
              doc.get("sampled") is True and doc.get("sample_bytes") == 65536, {k: doc.get(k) for k in
                                                                                ("sampled", "sample_bytes")})
        rep = json.loads(lt("show", js, "--json").stdout or b"{}")
        check("sampled JSON export reads back as sampled", rep.get("sampled") is True, rep.get("sampled"))
        d = lt("diff", js, snaps[0])
        check("sampled JSON export vs an exact snapshot: refused in one line",
              d.returncode != 0 and d.stderr.count(b"\n") == 1, d.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(finish())
