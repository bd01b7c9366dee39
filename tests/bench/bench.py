#!/usr/bin/env python3
"""Side-by-side overhead: each workload runs natively, under
`leaktop run --batch` (exact, and sampling every 64 KiB and 512 KiB), and
under heaptrack, interleaved, ROUNDS times;
prints median wall time, CPU time (user+sys of the whole process tree) and
peak RSS for each, and the ratios. The timings are numbers to read, not
assertions; with --check it fails unless every workload ran under every
tool and gave every figure (a positive wall time, CPU time and peak RSS).
With --preload the frontend is left out: the tracer alone, preloaded
(LD_PRELOAD, exact and sampled), against native and against the
interposition floor (libbench_forward.so: a preloaded malloc that only
forwards to glibc), and with --before LIB an older libleaktop.so too
(exact mode must not get slower). Beside the medians, the fastest round's
CPU time: on a loaded machine the least disturbed figure.
Usage: bench.py LEAKTOP BENCH_DIR [--rounds N] [--quick] [--only NAME] [--check]
                [--preload [--before LIB]]"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("leaktop")
ap.add_argument("bindir")
ap.add_argument("--rounds", type=int, default=5)
ap.add_argument("--quick", action="store_true", help="small workloads, to check the script runs")
ap.add_argument("--only", action="append")
ap.add_argument("--check", action="store_true", help="fail unless every figure was measured")
ap.add_argument("--preload", action="store_true", help="the tracer alone (LD_PRELOAD), no frontend")
ap.add_argument("--before", help="with --preload: also this (older) libleaktop.so, exact mode")
args = ap.parse_args()

scale = 10 if args.quick else 1
B = lambda name: os.path.join(args.bindir, name)  # noqa: E731
WORKLOADS = [
    ("alloc 1 thread, 12-16 deep", [B("bench_alloc"), "1", str(2000000 // scale)]),
    ("alloc 2 threads, 12-16 deep", [B("bench_alloc"), "2", str(2000000 // scale)]),
    ("alloc shallow (2-3 deep)", [B("bench_alloc"), "1", str(2000000 // scale), "2", "3"]),
    ("alloc large blocks (64 KiB)", [B("bench_alloc"), "1", str(200000 // scale), "12", "16", "65536"]),
    ("realloc growth", [B("bench_realloc"), str(2000000 // scale)]),
    ("C++ containers", [B("bench_cxx"), str(500000 // scale)]),
    # A real program: CPython with its own small-object allocator off, so
    # every object is a malloc (a few million calls, stacks ~30 deep).
    # A real program: g++'s compiler proper on a C++ file (the driver would
    # run it as a child the tracer leaves alone).
    ("g++ compile (cc1plus)", [subprocess.run(["g++", "-print-prog-name=cc1plus"], capture_output=True,
                                              text=True).stdout.strip() or "cc1plus",
                               "-quiet", "-imultiarch", "x86_64-linux-gnu", "-D_GNU_SOURCE",
                               "-O0" if args.quick else "-O2", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_cxx.cpp"),
                               "-o", os.devnull]),
    ("python3 (PYTHONMALLOC=malloc)", [sys.executable, "-c",
     "import json\n"
     f"for r in range({20 // scale}):\n"
     "    d = {str(i): [i, str(i) * 3, {'k': i}] for i in range(20000)}\n"
     "    s = json.dumps(d)\n"
     "    e = json.loads(s)\n"
     "    del d, s, e\n"]),
]
if args.only:
    WORKLOADS = [w for w in WORKLOADS if any(o in w[0] for o in args.only)]

tmp = tempfile.mkdtemp(prefix="leaktop-bench-")
heaptrack = shutil.which("heaptrack")
def leaktop_run(*opts):
    return lambda argv: [args.leaktop, "run", "--batch", "--output", os.devnull, *opts, "--", *argv]


def preloaded(lib, sample=None):
    """The argv as it is, with the tracer preloaded (an environment)."""
    env = {"LD_PRELOAD": lib}
    if sample:
        env["LEAKTOP_SAMPLE"] = sample
    return env


# Each tool: (name, how it wraps the argv, what it adds to the environment).
plain = lambda argv: argv  # noqa: E731
if args.preload:
    tracer = os.environ.get("LEAKTOP_TRACER") or os.path.join(
        os.path.dirname(os.path.abspath(args.leaktop)), "..", "lib", "leaktop", "libleaktop.so")
    TOOLS = [("native", plain, {}), ("floor", plain, {"LD_PRELOAD": B("libbench_forward.so")})]
    if args.before:
        TOOLS.append(("before", plain, preloaded(args.before)))
    TOOLS += [("exact", plain, preloaded(tracer)),
              ("pre 64K", plain, preloaded(tracer, "64K")),
              ("pre 512K", plain, preloaded(tracer, "512K"))]
else:
    TOOLS = [("native", plain, {}),
             ("leaktop", leaktop_run(), {}),
             ("lt 64K", leaktop_run("--sample", "64K"), {}),
             ("lt 512K", leaktop_run("--sample", "512K"), {})]
    if heaptrack:
        TOOLS.append(("heaptrack", lambda argv: [heaptrack, "-o", os.path.join(tmp, "ht"), *argv], {}))


def measure(argv, extra_env):
    """(wall s, cpu s, peak RSS KiB) of the whole process tree."""
    t0 = time.monotonic()
    env = dict(os.environ, PYTHONMALLOC="malloc")  # only python3 reads it
    env.pop("LEAKTOP_SAMPLE", None)  # the tools say whether they sample
    env.update(extra_env)
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        sys.exit(f"bench: {' '.join(argv)} failed with status {status}")
    # A preloaded tracer leaves its segment for a frontend to read: ours to remove.
    for seg in glob.glob(f"/dev/shm/leaktop-{os.getuid()}-{p.pid}-*"):
        os.unlink(seg)
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown cpu"


measured = {}
print(f"machine: {cpu_model()}, {os.cpu_count()} cpus; {args.rounds} interleaved rounds; medians")
print(f"{'workload':30} {'tool':9} {'wall s':>8} {'cpu s':>8} {'peak RSS':>10} {'x native':>9} {'cpu x':>6} "
      f"{'min cpu x':>9} {'/heaptrack':>10}")
try:
    for name, argv in WORKLOADS:
        samples = {t: [] for t, _, _ in TOOLS}
        for _ in range(args.rounds):
            for tool, wrap, env in TOOLS:
                samples[tool].append(measure(wrap(argv), env))
        med = {t: tuple(statistics.median(s[i] for s in v) for i in range(3)) for t, v in samples.items()}
        fastest = {t: min(s[1] for s in v) for t, v in samples.items()}
        for tool, _, _ in TOOLS:
            wall, cpu, rss = med[tool]
            ratio = wall / med["native"][0]
            cpu_ratio = cpu / med["native"][1] if med["native"][1] else 0
            min_ratio = fastest[tool] / fastest["native"] if fastest["native"] else 0
            vs_ht = f"{wall / med['heaptrack'][0]:10.2f}" if "heaptrack" in med and tool == "leaktop" else " " * 10
            print(f"{name:30} {tool:9} {wall:8.3f} {cpu:8.3f} {rss / 1024:8.1f}MB {ratio:9.2f} {cpu_ratio:6.2f} "
                  f"{min_ratio:9.2f} {vs_ht}")
            measured[(name, tool)] = (wall, cpu, rss)
        sys.stdout.flush()
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if args.check:
    missing = [(name, tool) for name, _ in WORKLOADS for tool, _, _ in TOOLS
               if not all(v > 0 for v in measured.get((name, tool), (0, 0, 0)))]
    if missing or not WORKLOADS:
        sys.exit(f"bench: figures missing or zero for {missing or 'every workload'}")
    print(f"bench: {len(measured)} rows, every figure measured")
