#!/usr/bin/env python3
"""The command line as a user meets it: the errors of PRODUCT.md §3 (one
line, distinct status), exit statuses, text output, --output, --interval,
--fail-on-growth, grouping options.
Usage: test_cli.py LEAKTOP FIXTURE_BIN_DIR FIXTURE_SRC_DIR"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

leaktop, bindir, srcdir = sys.argv[1:4]


def run(args, **kw):
    return subprocess.run([leaktop, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          stdin=subprocess.DEVNULL, timeout=60, **kw)


def one_line_error(p, status, pattern, name):
    lines = p.stderr.strip().splitlines()
    check(f"{name}: status {status}", p.returncode == status, f"got {p.returncode}: {p.stderr!r}")
    check(f"{name}: one line", len(lines) == 1 and lines[0].startswith("leaktop: "), repr(p.stderr))
    check(f"{name}: says why", re.search(pattern, p.stderr) is not None, repr(p.stderr))


fx_exit = os.path.join(bindir, "fx_exit")
tmp = tempfile.mkdtemp(prefix="leaktop-cli-")
try:
    one_line_error(run(["run", "--batch", "--", "/nonexistent/prog"]), 127, "not found", "missing path")
    one_line_error(run(["run", "--batch", "--", "no-such-command-xyz"]), 127, "not found", "missing command")
    plain = os.path.join(tmp, "plain.txt")
    open(plain, "w").write("hello\n")
    one_line_error(run(["run", "--batch", "--", plain]), 126, "not executable", "non-executable file")
    os.chmod(plain, 0o755)
    one_line_error(run(["run", "--batch", "--", plain]), 126, "neither ELF nor", "executable text file")
    one_line_error(run(["run", "--batch", "--", tmp]), 126, "not executable", "directory")
    one_line_error(run(["run", "--batch", "--", os.path.join(bindir, "fx_exit_static")]), 125,
                   "statically linked", "static program")
    if os.geteuid() == 0:
        suid = os.path.join(tmp, "suid")
        shutil.copy(fx_exit, suid)
        os.chown(suid, 65534, 65534)
        os.chmod(tmp, 0o755)
        os.chmod(suid, 0o4755)
        one_line_error(run(["run", "--batch", "--", suid]), 125, "setuid", "setuid program")
    one_line_error(run(["run", "--", fx_exit]), 2, "--batch", "not a terminal")
    one_line_error(run(["run", "--batch", "--frobnicate", "--", fx_exit]), 2, "unknown option", "unknown option")
    one_line_error(run(["run", "--batch", "--group", "nonsense", "--", fx_exit]), 2, "--group", "bad group")
    one_line_error(run(["mark", "not-a-pid"]), 2, "usage", "mark bad pid")
    one_line_error(run(["mark", "1"]), 1, "not traced", "mark untraced pid")
    # Each command takes only the options that mean something for it.
    one_line_error(run(["mark", "1", "--group", "traceback"]), 2, r"mark: --group does not apply",
                   "mark refuses --group")
    one_line_error(run(["attach", "--keep-log", "1"]), 2, r"attach: --keep-log does not apply",
                   "attach refuses --keep-log (it has no log)")
    one_line_error(run(["run", "--batch", "--duration", "1", "--", fx_exit]), 2, r"run: --duration does not apply",
                   "run refuses --duration (attach only)")
    one_line_error(run(["show", "x.ltsnap", "--save", tmp]), 2, r"show: --save does not apply",
                   "show refuses --save")
    one_line_error(run(["run", "--batch", "--window", "0", "--", fx_exit]), 2, "--window", "window of 0 s")
    one_line_error(run(["diff", "a.ltsnap", "b.ltsnap", "--fail-on-suspect"]), 2,
                   r"diff: --fail-on-suspect does not apply", "diff refuses --fail-on-suspect (no history)")
    one_line_error(run(["show", "a.ltsnap", "--window", "5"]), 2, r"show: --window does not apply",
                   "show refuses --window")
    p = run(["run", "--json", "--window", "7", "--", fx_exit])
    last = json.loads(p.stdout.strip().splitlines()[-1])
    check("--window is the report's window_s; one report: no trend",
          last.get("window_s") == 7 and all("trend" not in s for s in last["stats"]), p.stdout)
    one_line_error(run(["run", "--batch", "--frames", "253", "--", fx_exit]), 2, "--frames",
                   "frames above the tracer's maximum")
    p = run(["run", "--batch", "--frames", "252", "--", fx_exit])
    check("frames at the tracer's maximum accepted", p.returncode == 0, p.stderr)
    p = run(["--help"])
    check("help states the frame default and maximum from the layout",
          re.search(r"--frames N\s+traceback depth \(default 32, .*at most 252\)", p.stdout) is not None, p.stdout)

    # The program's status and output pass through; reports go to --output.
    out = os.path.join(tmp, "report.txt")
    p = run(["run", "--batch", "--output", out, "--", fx_exit, "7"])
    check("exit status passes through", p.returncode == 7, p.returncode)
    check("program stdout passes through", p.stdout == "fx_exit says hello\n", repr(p.stdout))
    text = open(out).read()
    m = re.search(r"^\+12\.1 KiB  blocks \+1  total 12\.1 KiB in 1 blocks  .*fx_exit\.c:(\d+) in main$", text, re.M)
    check("text row in tracemalloc units at the leaking line", m is not None, text)
    check("text header names the exit", text.startswith("leaktop: exit vs "), text.splitlines()[:1])

    # A #! wrapper that execs the real program (same pid) is followed to it.
    wrapper = os.path.join(tmp, "wrapper.sh")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec {fx_exit} 5\n")
    os.chmod(wrapper, 0o755)
    p = run(["run", "--json", "--", wrapper])
    last = json.loads(p.stdout.strip().splitlines()[-1])
    rows = [s for s in last["stats"] if (s["frames"][0]["file"] or "").endswith("fx_exit.c")]
    check("exec in the launched process is followed", p.returncode == 5 and rows and
          (rows[0]["size"], rows[0]["count"]) == (12345, 1), (p.returncode, p.stderr, rows))

    # The frontend killed while the program runs: the program carries on.
    done = os.path.join(tmp, "done")
    lt = subprocess.Popen([leaktop, "run", "--batch", "--", fx_exit, "0", "800", done],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    lt.kill()
    lt.wait()
    deadline = time.monotonic() + 5
    while not os.path.exists(done) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    check("program survives its frontend being killed",
          os.path.exists(done) and open(done).read() == "done\n")

    # Another user's segment is refused, never mapped.
    if os.geteuid() == 0:
        seg = f"/dev/shm/leaktop-{os.geteuid()}-{os.getpid()}-00000000deadbeef"
        with open(seg, "wb") as f:
            f.write(b"\0" * 8192)
        os.chmod(seg, 0o600)
        os.chown(seg, 65534, 65534)
        try:
            one_line_error(run(["mark", str(os.getpid())]), 1, "another user", "foreign segment")
        finally:
            os.unlink(seg)

    # Stale segments: a dead process's is removed, a live one's and another
    # user's are kept.
    dead = 4180000 + os.getpid() % 1000
    uid = os.geteuid()
    stale = {"dead": f"/dev/shm/leaktop-{uid}-{dead}-0123456789abcdef",
             "alive": f"/dev/shm/leaktop-{uid}-{os.getpid()}-0123456789abcdef"}
    for path in stale.values():
        with open(path, "w") as f:
            f.write("x")
        os.chmod(path, 0o600)
    subprocess.run([leaktop, "mark", "1"], capture_output=True, env=dict(os.environ, LEAKTOP_STALE_AGE_S="0"))
    check("stale segment of a dead process removed", not os.path.exists(stale["dead"]))
    check("segment of a live process kept", os.path.exists(stale["alive"]))
    for path in stale.values():
        if os.path.exists(path):
            os.unlink(path)

    # --interval reports while the program runs.
    p = run(["run", "--json", "--interval", "100", "--", fx_exit, "0", "1500"])
    reps = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{")]
    reasons = [r["reason"] for r in reps]
    times = [r["elapsed_s"] for r in reps]
    check("interval reports then an exit report", reasons.count("interval") >= 2 and reasons[-1] == "exit" and
          times == sorted(times), list(zip(reasons, times)))

    # --fail-on-growth: exit 3 only above the threshold.
    check("fail-on-growth over threshold exits 3",
          run(["run", "--batch", "--fail-on-growth", "10K", "--", fx_exit]).returncode == 3)
    check("fail-on-growth under threshold keeps the status",
          run(["run", "--batch", "--fail-on-growth", "1M", "--", fx_exit]).returncode == 0)

    # Grouping options are reflected in the JSON.
    for args, group, cumul in ((["--group", "filename"], "filename", False),
                               (["--group", "traceback"], "traceback", False),
                               (["--cumulative"], "lineno", True)):
        p = run(["run", "--json", *args, "--", fx_exit])
        rep = json.loads(p.stdout.strip().splitlines()[-1])
        check(f"json group {group} cumulative {cumul}", (rep["group"], rep["cumulative"]) == (group, cumul),
              (rep["group"], rep["cumulative"]))
        if group == "traceback":
            top = [s for s in rep["stats"] if s["size"] == 12345]
            fns = [f["function"] for f in top[0]["frames"]] if top else []
            check("traceback rows hold the whole stack, each frame once",
                  fns[:2] == ["main", "__libc_start_call_main"] and
                  all(top[0]["frames"][i] != top[0]["frames"][i + 1] for i in range(len(fns) - 1)), fns)
    p = run(["run", "--json", "--group", "traceback", "--cumulative", "--", fx_exit])
    check("cumulative traceback refused", "cumulative" in p.stderr, p.stderr)

    # A program that daemonizes ends at once; what it forked runs on
    # untraced, and leaktop says where (the report is not the server's).
    pidfile = os.path.join(tmp, "daemon.pid")
    p = run(["run", "--batch", "--", os.path.join(bindir, "fx_daemon"), pidfile, "3"])
    deadline = time.time() + 10
    while not (os.path.exists(pidfile) and open(pidfile).read().endswith("\n")) and time.time() < deadline:
        time.sleep(0.05)
    server = int(open(pidfile).read()) if os.path.exists(pidfile) else -1
    check("daemon: leaktop ends with the program's 0", p.returncode == 0, (p.returncode, p.stderr))
    check("daemon: says the forked server runs on untraced, and its pid",
          f"it forked run on untraced ({server})" in p.stderr and "leaktop attach PID" in p.stderr, p.stderr)
    if server > 0:
        os.kill(server, signal.SIGKILL)

    # Another program's process of the same executable, started during the
    # run and still running after it, is none of the program's: no notice.
    # Its parent (still there) began before leaktop and is none of its
    # ancestors, as a shell in another terminal or a cron job would be.
    # A copy of sleep of the test's own: another test's `sleep` orphaned
    # to init during the run would be taken for the program's (its
    # lineage ends where a daemon's does).
    sleep_bin = os.path.join(tmp, "sleep-copy")
    shutil.copy2(shutil.which("sleep"), sleep_bin)
    helper = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys, time\n"
                               "time.sleep(0.3)\n"
                               "other = subprocess.Popen([sys.argv[1], '4'])\n"
                               "print(other.pid, flush=True)\n"
                               "time.sleep(6)\n", sleep_bin], stdout=subprocess.PIPE, text=True)
    p = run(["run", "--batch", "--output", os.devnull, "--", sleep_bin, "1"])
    with open("/proc/uptime") as f:
        ended = float(f.read().split()[0])
    other = int(helper.stdout.readline() or -1)
    # Not vacuous: the other process must have started while the program
    # ran (a second of `sleep 1`), or the walk had nothing to tell apart.
    try:
        with open(f"/proc/{other}/stat") as f:
            other_start = int(f.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        other_start = float("inf")
    check("same executable, another program's: not said to be the program's", other > 0 and
          other_start < ended - 0.1 and "run on untraced" not in p.stderr, (other, other_start, ended, p.stderr))
    for pid in (other, helper.pid):
        if pid > 0:
            os.kill(pid, signal.SIGKILL)
    helper.wait()

    # A report that cannot be written whole is an error (status 1, said),
    # never a silent short file, and `ulimit -f` is not a death by SIGXFSZ.
    saves = os.path.join(tmp, "saves")
    run(["run", "--batch", "--output", os.devnull, "--save", saves, "--", fx_exit])
    snap = os.path.join(saves, sorted(os.listdir(saves))[-1])
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (64, 64))
    cut = os.path.join(tmp, "cut.txt")
    one_line_error(run(["show", snap, "--output", cut], preexec_fn=small_files), 1,
                   f"{re.escape(cut)}: write error: File too large", "show past ulimit -f")
    one_line_error(run(["export", snap, "--format", "json", "-o", cut + ".json"], preexec_fn=small_files), 1,
                   "write error: File too large", "export past ulimit -f")
    with open("/dev/full", "w") as full:
        p = subprocess.run([leaktop, "show", snap], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    one_line_error(p, 1, "standard output: write error: No space left on device", "show to a full disk")
    p = run(["run", "--batch", "--output", "/dev/full", "--", fx_exit, "7"])
    one_line_error(p, 1, "/dev/full: write error: No space left on device",
                   "run --output to a full disk: status 1, not the program's 7")
    p = run(["run", "--batch", "--output", os.devnull, "--", "grep", "SigIgn", "/proc/self/status"])
    ignored = int(p.stdout.split()[-1], 16) if p.stdout.startswith("SigIgn:") else None
    check("the program does not inherit leaktop's ignored SIGXFSZ (nor SIGPIPE)",
          ignored is not None and not ignored & (1 << (signal.SIGXFSZ - 1)) and
          not ignored & (1 << (signal.SIGPIPE - 1)), p.stdout)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

sys.exit(finish())
