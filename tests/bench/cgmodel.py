#!/usr/bin/env python3
"""A/B of tracer builds that this noisy VM cannot blur: runs ARGV under
cachegrind natively and with each LIB preloaded, and prints instructions,
simulated D1 and last-level misses, and a cost model of them (Ir + 10 x
first-level misses + 60 x last-level misses, of data and instructions: a
miss's rough price in instructions) with the
tracer's share and its dearest functions. Counts are the same from run
to run (address randomization off), so a 1% change shows where
interleaved timings move by +-5%. The model is not a time: confirm a
change with timings (bench.py, ab_preload.py).
The LL cache simulated is 1 MiB (the VM's L2 is 512 KiB, its L3 shared).
Usage: cgmodel.py [--top N] [--check] [-] LIB... -- ARGV   ('-': native)
--check: fail unless every LIB's run spent something in the tracer and the
native one nothing (the preload took under valgrind).
Keep ARGV short: cachegrind runs it ~40x slower (a small C++ compile:
~30 s)."""
import collections
import os
import shutil
import subprocess
import sys
import tempfile

MISS_D1, MISS_LL = 10, 60

args = sys.argv[1:]
top, check = 8, False
while args[:1] in (["--top"], ["--check"]):
    if args[0] == "--top":
        top, args = int(args[1]), args[2:]
    else:
        check, args = True, args[1:]
if "--" not in args:
    sys.exit(__doc__)
cut = args.index("--")
libs, argv = args[:cut], args[cut + 1:]
if not libs or not argv:
    sys.exit(__doc__)


def model(ev):
    d1 = ev.get("D1mr", 0) + ev.get("D1mw", 0) + ev.get("I1mr", 0)
    ll = ev.get("DLmr", 0) + ev.get("DLmw", 0) + ev.get("ILmr", 0)
    return ev.get("Ir", 0) + MISS_D1 * d1 + MISS_LL * ll


def no_randomization():
    """setarch's prefix that turns address randomization off, when it can:
    where the stack and the heap land changes which stacks share a cache
    set, and so the counts by ~1%."""
    norand = ["setarch", os.uname().machine, "-R"]
    ok = shutil.which("setarch") and subprocess.run([*norand, "true"], capture_output=True).returncode == 0
    return norand if ok else []


def run(lib, out, norand):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if lib != "-":
        env["LD_PRELOAD"] = os.path.abspath(lib)
        env["LEAKTOP_FOLLOW_EXEC"] = "1"  # valgrind's launcher execs the program: keep the preload
    cmd = [*norand, "valgrind", "--tool=cachegrind", "--cache-sim=yes", "--LL=1048576,16,64", "--trace-children=yes",
           f"--cachegrind-out-file={out}.%p", *argv]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = p.communicate()
    if p.returncode != 0:
        sys.exit(f"cgmodel: {lib}: status {p.returncode}: {err.decode(errors='replace')[-400:]}")
    # A plain preload leaves its segment for a later `leaktop` to read.
    for seg in os.listdir("/dev/shm"):
        if seg.startswith(f"leaktop-{os.getuid()}-{p.pid}-"):
            os.unlink(os.path.join("/dev/shm", seg))


def parse(out):
    """Totals, and the model per tracer function, from the cachegrind files
    of one run (one per process it forked: each writes its own)."""
    events, fl, fn = [], "", ""
    total, per_fn = collections.Counter(), collections.Counter()
    d, stem = os.path.split(out)
    for path in sorted(os.path.join(d, x) for x in os.listdir(d) if x.startswith(stem + ".")):
        with open(path) as f:
            lines = f.readlines()
        for line in lines:
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("fl="):
                fl = line[3:].strip()
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif line[:1].isdigit():
                ev = dict(zip(events, map(int, line.split()[1:])))
                total.update(ev)
                if "/tracer/" in fl:  # the tracer's own sources, by its debug info
                    per_fn[fn] += model(ev)
    return total, per_fn


rows, norand = [], no_randomization()
with tempfile.TemporaryDirectory() as tmp:
    for i, lib in enumerate(libs):
        out = os.path.join(tmp, f"cg.{i}")
        run(lib, out, norand)
        rows.append((lib, *parse(out)))
base, bad = None, []
for lib, total, per_fn in rows:
    m = model(total)
    base = base or m
    tr = sum(per_fn.values())
    d1 = total["D1mr"] + total["D1mw"]
    ll = total["DLmr"] + total["DLmw"]
    print(f"{lib}\n  Ir {total['Ir'] / 1e6:.1f} M  D1 misses {d1 / 1e6:.2f} M  LL misses {ll / 1e6:.2f} M  "
          f"model {m / 1e6:.1f} M ({m / base:.3f}x the first)  tracer {tr / 1e6:.1f} M")
    for name, v in per_fn.most_common(top):
        print(f"    {v / 1e6:8.1f} M  {name}")
    if (tr > 0) != (lib != "-"):
        bad.append(lib)
if check and bad:
    sys.exit(f"cgmodel: the tracer's share is wrong for: {' '.join(bad)}")
