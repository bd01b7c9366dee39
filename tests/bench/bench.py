#!/usr/bin/env python3
"""Side-by-side overhead: each workload runs natively, under
`leaktop run --batch` (exact, and sampling every 64 KiB and 512 KiB), and
under heaptrack, interleaved, ROUNDS times;
prints median wall time, CPU time (user+sys of the whole process tree),
peak RSS of the whole tree (every process's RSS summed, sampled from /proc
at ~20 Hz) and of its largest process, for each, and the ratios. The timings are numbers to read, not
assertions; with --check it fails unless every workload ran under every
tool and gave every figure (a positive wall time, CPU time and peak RSS).
With --preload the frontend is left out: the tracer alone, preloaded
(LD_PRELOAD, exact and sampled), against native and against the
interposition floor (libbench_forward.so: a preloaded malloc that only
forwards to glibc), and with --before LIB an older libleaktop.so too
(exact mode must not get slower); without
--preload, --before LIB runs `leaktop run` with that tracer too.
With --exact the sampling columns are left out. Real programs (issue 14):
CPython building/dumping/parsing ~2 M live objects (bench_python.py),
GCC's cc1plus (as g++ -O1 -c runs it) compiling bench_compile.cpp
(<regex>, <map>) and sqlite3 running a generated script; heaptrack is
not run on the compile (it takes minutes and gigabytes there). With
--curve: the live-set curve instead, bench_live at 10 k .. 10 M live
blocks (FIFO and random turnover), native against the preloaded tracer
(and --before LIB), in ns per malloc/free pair.
Beside the medians, the fastest round's CPU time: on a loaded machine
the least disturbed figure; and the paired ratio, the median of each
round's own wall-time ratio to native with half its interquartile range
(a round's runs are adjacent in time, so a slow stretch of the machine
weighs on both; the range says what the median can be trusted to).
With --preload --profile: where the time goes instead, perf's samples
of each run split into the program's own objects, libc, the kernel and
the tracer, native against the tracer preloaded; a part's growth is
what the tracer costs there (its own code, or evicting the program's
lines), as a share of the native run.
Usage: bench.py LEAKTOP BENCH_DIR [--rounds N] [--quick] [--only NAME] [--check]
                [--preload [--before LIB]] [--exact] [--curve | --profile]"""
import argparse
import glob
import shlex
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("leaktop")
ap.add_argument("bindir")
ap.add_argument("--rounds", type=int, default=5)
ap.add_argument("--quick", action="store_true", help="small workloads, to check the script runs")
ap.add_argument("--only", action="append")
ap.add_argument("--check", action="store_true", help="fail unless every figure was measured")
ap.add_argument("--preload", action="store_true", help="the tracer alone (LD_PRELOAD), no frontend")
ap.add_argument("--before", help="also this (older) libleaktop.so, exact mode")
ap.add_argument("--exact", action="store_true", help="leave out the sampling columns")
ap.add_argument("--curve", action="store_true", help="the live-set curve (bench_live), tracer preloaded")
ap.add_argument("--profile", action="store_true",
                help="where the time goes: perf samples per object, native and tracer preloaded")
args = ap.parse_args()

scale = 10 if args.quick else 1
B = lambda name: os.path.join(args.bindir, name)  # noqa: E731
HERE = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix="leaktop-bench-")
# The system's python3 when there is one (what a user would trace), else ours.
python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable


def sqlite_script(rows):
    """A generated script: one INSERT a row, an index, a grouping and a join."""
    path = os.path.join(tmp, "bench.sql")
    with open(path, "w") as f:
        f.write("CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL);\nBEGIN;\n")
        for i in range(rows):
            f.write(f"INSERT INTO t VALUES({i}, 'name{i * 7919 % rows}', {i % 1000}, {i * 0.5});\n")
        f.write("COMMIT;\nCREATE INDEX ti ON t(name);\n"
                "SELECT grp, count(*), sum(val) FROM t GROUP BY grp ORDER BY 3 DESC LIMIT 3;\n"
                "SELECT count(*) FROM t a JOIN t b ON a.name = b.name WHERE a.grp < 500;\n")
    return path


def compile_source():
    """bench_compile.cpp, or with --quick a small file using <map>."""
    if not args.quick:
        return os.path.join(HERE, "bench_compile.cpp")
    path = os.path.join(tmp, "small.cpp")
    with open(path, "w") as f:
        f.write("#include <map>\nint f(int k) { std::map<int, int> m; m[k] = 1; return (int)m.size(); }\n")
    return path


def cc1plus(src):
    """cc1plus's own argv as g++ -O1 -c would run it: the driver is a
    separate process that a preloaded tracer leaves when it execs."""
    gxx = shutil.which("g++") or "g++"
    out = os.path.join(tmp, "out.s")
    r = subprocess.run([gxx, "-###", "-O1", "-c", src, "-o", os.path.join(tmp, "out.o")],
                       capture_output=True, text=True)
    for line in r.stderr.splitlines():
        argv = shlex.split(line) if line.startswith(" ") else []
        if argv and os.path.basename(argv[0]) == "cc1plus":
            argv[argv.index("-o") + 1] = out
            return argv
    sys.exit(f"bench: no cc1plus command in {gxx} -###")


NO_HEAPTRACK = {"cc1plus -O1 <regex> <map>"}
WORKLOADS = [
    ("alloc 1 thread, 12-16 deep", [B("bench_alloc"), "1", str(2000000 // scale)]),
    ("alloc 2 threads, 12-16 deep", [B("bench_alloc"), "2", str(2000000 // scale)]),
    ("alloc shallow (2-3 deep)", [B("bench_alloc"), "1", str(2000000 // scale), "2", "3"]),
    ("alloc large blocks (64 KiB)", [B("bench_alloc"), "1", str(200000 // scale), "12", "16", "65536"]),
    ("realloc growth", [B("bench_realloc"), str(2000000 // scale)]),
    ("C++ containers", [B("bench_cxx"), str(500000 // scale)]),
    # A real program: g++'s compiler proper on a C++ file (the driver would
    # run it as a child the tracer leaves alone).
    ("g++ compile (cc1plus)", [subprocess.run(["g++", "-print-prog-name=cc1plus"], capture_output=True,
                                              text=True).stdout.strip() or "cc1plus",
                               "-quiet", "-imultiarch", "x86_64-linux-gnu", "-D_GNU_SOURCE",
                               "-O0" if args.quick else "-O2", os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_cxx.cpp"),
                               "-o", os.devnull]),
    # A real program: CPython with its own small-object allocator off, so
    # every object is a malloc (a few million calls, stacks ~30 deep).
    ("python3 (PYTHONMALLOC=malloc)", [python, "-c",
     "import json\n"
     f"for r in range({20 // scale}):\n"
     "    d = {str(i): [i, str(i) * 3, {'k': i}] for i in range(20000)}\n"
     "    s = json.dumps(d)\n"
     "    e = json.loads(s)\n"
     "    del d, s, e\n"]),
    ("python3 records, ~2 M live", [python, os.path.join(HERE, "bench_python.py"), str(100000 // scale)]),
    ("cc1plus -O1 <regex> <map>", cc1plus(compile_source())),
    ("sqlite3 script", [shutil.which("sqlite3") or "sqlite3", ":memory:",
                        ".read " + sqlite_script(300000 // scale)]),
]
if args.only:
    WORKLOADS = [w for w in WORKLOADS if any(o in w[0] for o in args.only)]

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
    TOOLS.append(("exact", plain, preloaded(tracer)))
    if not args.exact:
        TOOLS += [("pre 64K", plain, preloaded(tracer, "64K")),
                  ("pre 512K", plain, preloaded(tracer, "512K"))]
else:
    TOOLS = [("native", plain, {}), ("leaktop", leaktop_run(), {})]
    if args.before:
        TOOLS.append(("lt before", leaktop_run(), {"LEAKTOP_TRACER": args.before}))
    if not args.exact:
        TOOLS += [("lt 64K", leaktop_run("--sample", "64K"), {}),
                  ("lt 512K", leaktop_run("--sample", "512K"), {})]
    if heaptrack:
        TOOLS.append(("heaptrack", lambda argv: [heaptrack, "-o", os.path.join(tmp, "ht"), *argv], {}))


PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_rss_kib(root):
    """The resident memory of root and all its descendants now, summed
    (KiB; pages two of them share, like leaktop's segment, count twice)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_KIB
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (OSError, ValueError, IndexError):
            pass  # gone meanwhile
    return total


class TreeSampler(threading.Thread):
    """Samples the process tree's summed RSS at ~20 Hz and keeps the peak:
    the largest process's maxrss (what getrusage gives) misstates a tool
    made of several processes (heaptrack and its interpreter, leaktop's
    frontend and the program)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()

    def run(self):
        t0 = time.monotonic()
        while not self.done.is_set():
            self.peak = max(self.peak, tree_rss_kib(self.pid))
            self.done.wait(0.01 if time.monotonic() - t0 < 0.2 else 0.05)  # short runs: denser


def measure(argv, extra_env, output=False):
    """(wall s, cpu s, peak RSS KiB of the process tree summed, peak RSS
    KiB of its largest process) of the whole process tree, and its standard
    output when asked for."""
    t0 = time.monotonic()
    env = dict(os.environ, PYTHONMALLOC="malloc")  # only python3 reads it
    env.pop("LEAKTOP_SAMPLE", None)  # the tools say whether they sample
    env.update(extra_env)
    p = subprocess.Popen(argv, stdout=subprocess.PIPE if output else subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, env=env)
    sampler = TreeSampler(p.pid)
    sampler.start()
    out = p.stdout.read().decode() if output else ""
    # Reaped only once the sampler stopped: its pid is not reused meanwhile.
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    sampler.done.set()
    sampler.join()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    if status != 0:
        sys.exit(f"bench: {' '.join(argv)} failed with status {status}")
    # A preloaded tracer leaves its segment for a frontend to read: ours to remove.
    for seg in glob.glob(f"/dev/shm/leaktop-{os.getuid()}-{p.pid}-*"):
        os.unlink(seg)
    # A run too short for one sample: its largest process stands in.
    figures = (wall, ru.ru_utime + ru.ru_stime, max(sampler.peak, ru.ru_maxrss), ru.ru_maxrss)
    return (*figures, out) if output else figures


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown cpu"


def applies(name, tool):
    return not (tool == "heaptrack" and name in NO_HEAPTRACK)


def paired(runs, native_runs):
    """The median of the rounds' own wall-time ratios, and half the spread
    between their quartiles (0 with fewer than 4 rounds)."""
    rs = [t[0] / n[0] for t, n in zip(runs, native_runs) if n[0] > 0]
    if not rs:
        return 0, 0
    if len(rs) < 4:
        return statistics.median(rs), 0
    q = statistics.quantiles(rs, n=4)
    return statistics.median(rs), (q[2] - q[0]) / 2


def run_table():
    measured = {}
    print(f"{'workload':30} {'tool':9} {'wall s':>8} {'cpu s':>8} {'tree RSS':>10} {'largest':>10} {'x native':>9} "
          f"{'cpu x':>6} {'min cpu x':>9} {'/heaptrack':>10} {'paired x':>11}")
    for name, argv in WORKLOADS:
        tools = [t for t in TOOLS if applies(name, t[0])]
        samples = {t: [] for t, _, _ in tools}
        for _ in range(args.rounds):
            for tool, wrap, env in tools:
                samples[tool].append(measure(wrap(argv), env))
        med = {t: tuple(statistics.median(s[i] for s in v) for i in range(4)) for t, v in samples.items()}
        fastest = {t: min(s[1] for s in v) for t, v in samples.items()}
        for tool, _, _ in tools:
            wall, cpu, rss, largest = med[tool]
            ratio = wall / med["native"][0]
            cpu_ratio = cpu / med["native"][1] if med["native"][1] else 0
            min_ratio = fastest[tool] / fastest["native"] if fastest["native"] else 0
            vs_ht = f"{wall / med['heaptrack'][0]:10.2f}" if "heaptrack" in med and tool == "leaktop" else " " * 10
            pr, spread = paired(samples[tool], samples["native"])
            print(f"{name:30} {tool:9} {wall:8.3f} {cpu:8.3f} {rss / 1024:8.1f}MB {largest / 1024:8.1f}MB "
                  f"{ratio:9.2f} {cpu_ratio:6.2f} {min_ratio:9.2f} {vs_ht} {pr:6.2f}±{spread:.2f}")
            measured[(name, tool)] = (wall, cpu, rss, largest)
        sys.stdout.flush()
    # A tool of several processes (a frontend and the program, heaptrack
    # and its interpreter) holds more in its tree than in its largest one
    # (seen when the run lasts a few samples).
    multi = [(name, tool) for (name, tool), v in measured.items() if tool.startswith(("leaktop", "lt ", "heaptrack"))
             and v[0] >= 0.3 and not v[2] > v[3]]
    return [(name, tool) for name, _ in WORKLOADS for tool, _, _ in TOOLS
            if applies(name, tool) and not all(v > 0 for v in measured.get((name, tool), (0,)))] + \
        [(name, f"{tool}: tree RSS not above its largest process's") for name, tool in multi], len(measured)


PROFILE_PARTS = ("program", "libc", "kernel", "tracer")  # the program: its executable and other libraries


def perf_samples(argv, env):
    """perf record (cpu-clock, 2 kHz) of one run: samples per object,
    folded into the program, libc, the kernel and the tracer."""
    data = os.path.join(tmp, "perf.data")
    # The environment through env(1), as measure() sets it: a tracer
    # preloaded into perf itself would take itself out of the program's
    # at perf's exec.
    run = subprocess.run([perf, "record", "-q", "-e", "cpu-clock", "-F", "2000", "-o", data, "--",
                          "env", "PYTHONMALLOC=malloc", *(f"{k}={v}" for k, v in env.items()), *argv],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if run.returncode != 0:
        sys.exit(f"bench: perf record {' '.join(argv)} failed with status {run.returncode}")
    report = subprocess.run([perf, "report", "-i", data, "-q", "--stdio", "--sort", "dso", "-F", "sample,dso"],
                            capture_output=True, text=True).stdout
    parts = dict.fromkeys(PROFILE_PARTS, 0)
    for line in report.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[0].isdigit():
            dso = fields[1]
            part = ("tracer" if dso.startswith("libleaktop") else "kernel" if dso.startswith("[kernel")
                    else "libc" if dso.startswith("libc.so") else "program")
            parts[part] += int(fields[0])
    return parts


def run_profile():
    """Each workload native and with the tracer preloaded, ROUNDS times
    each, interleaved: median samples per part, and what the tracer's run
    adds to each as a share of the native run's total."""
    tools = [t for t in TOOLS if t[0] in ("native", "exact")]
    print("perf cpu-clock samples at 2 kHz (medians); + is the tracer's run minus native, in % of native's total")
    print(f"{'workload':30} {'tool':7} " + " ".join(f"{p:>9}" for p in PROFILE_PARTS) + f" {'total':>9}")
    missing, rows = [], 0
    for name, argv in WORKLOADS:
        samples = {t: [] for t, _, _ in tools}
        for _ in range(args.rounds):
            for tool, wrap, env in tools:
                samples[tool].append(perf_samples(wrap(argv), env))
        med = {t: {p: statistics.median(r[p] for r in v) for p in PROFILE_PARTS} for t, v in samples.items()}
        total = {t: sum(m.values()) for t, m in med.items()}
        for tool, _, _ in tools:
            print(f"{name:30} {tool:7} " + " ".join(f"{med[tool][p]:9.0f}" for p in PROFILE_PARTS) +
                  f" {total[tool]:9.0f}")
        base = total["native"]
        if base > 0 and med["exact"]["tracer"] > 0:
            print(f"{name:30} {'+':7} " + " ".join(
                f"{100 * (med['exact'][p] - med['native'][p]) / base:+8.1f}%" for p in PROFILE_PARTS) +
                f" {100 * (total['exact'] - base) / base:+8.1f}%")
        else:
            missing.append((name, "profile"))
        rows += 1
        sys.stdout.flush()
    return missing, rows


def ns_per_pair(out):
    return float(out.rsplit(":", 1)[1].split()[0])


def run_curve():
    """bench_live's ns per pair at each live-set size, per tool (preloaded)."""
    lives = [10000, 100000] if args.quick else [10000, 100000, 1000000, 10000000]
    pairs = str(200000 if args.quick else 2000000)
    tools = [t for t in TOOLS if t[0] in ("native", "before", "exact")]
    print(f"{'turnover':9} {'live':>9} " + " ".join(f"{t:>9}" for t, _, _ in tools) +
          " " + " ".join(f"{t + ' +ns':>11}" for t, _, _ in tools[1:]) + "   (ns per malloc/free pair)")
    missing, rows = [], 0
    for order in ("fifo", "random"):
        for live in lives:
            samples = {t: [] for t, _, _ in tools}
            for _ in range(args.rounds):
                for tool, wrap, env in tools:
                    samples[tool].append(ns_per_pair(measure([B("bench_live"), str(live), pairs, order], env,
                                                             output=True)[-1]))
            med = {t: statistics.median(v) for t, v in samples.items()}
            missing += [(f"{order} {live}", t) for t, v in med.items() if not v > 0]
            rows += len(med)
            print(f"{order:9} {live:9} " + " ".join(f"{med[t]:9.1f}" for t, _, _ in tools) + " " +
                  " ".join(f"{med[t] - med['native']:11.1f}" for t, _, _ in tools[1:]))
            sys.stdout.flush()
    return missing, rows


if args.curve and not args.preload:
    sys.exit("bench: --curve measures the preloaded tracer: add --preload")
perf = shutil.which("perf")
if args.profile and args.curve:
    sys.exit("bench: --curve or --profile, not both")
if args.profile and not (args.preload and perf):
    sys.exit("bench: --profile samples the preloaded tracer with perf: add --preload, install linux-perf")
print(f"machine: {cpu_model()}, {os.cpu_count()} cpus; {args.rounds} interleaved rounds; medians")
try:
    missing, rows = run_curve() if args.curve else run_profile() if args.profile else run_table()
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if args.check:
    if missing or not rows:
        sys.exit(f"bench: figures missing or zero for {missing or 'every workload'}")
    print(f"bench: {rows} rows, every figure measured")
