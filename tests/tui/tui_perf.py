#!/usr/bin/env python3
"""Measures the live view under load: 100,000 distinct live stacks while the
program allocates and frees as fast as it can (tui_stacks).

usage: tui_perf.py LEAKTOP TUI_STACKS [CHURN_THREADS] [--check]

Prints: the program's allocation rate (from its log), the time of one
refresh in lineno and traceback grouping (shown on the help screen), the
frontend's CPU use over a wall interval (utime+stime from /proc/PID/stat),
and key latency (time from send-keys until the screen shows the answer).
With --check it fails when a key takes longer than 100 ms (median) or
the frontend uses more than half a CPU.
"""
import glob
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tui_test  # noqa: E402  (its Term class drives tmux)

LEAKTOP, STACKS = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
THREADS = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3].isdigit() else "1"
CHECK = "--check" in sys.argv
tui_test.LEAKTOP = LEAKTOP
HZ = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])   # utime, stime


def cpu_percent(pid, seconds):
    a, t0 = cpu_ticks(pid), time.time()
    time.sleep(seconds)
    b, t1 = cpu_ticks(pid), time.time()
    return 100.0 * (b - a) / HZ / (t1 - t0)


def refresh_ms(t):
    """The last refresh's cost, read from the bottom of the help screen."""
    t.keys("?")
    t.wait(r"Help")
    t.keys("End")
    m = re.search(r"the last one took ([\d.]+) ms", t.wait(r"the last one took"))
    t.keys("Escape")
    t.wait(r"\+Size")
    return float(m.group(1))


def key_latency(t, key, answer, back, back_answer, n=30):
    times = []
    for _ in range(n):
        t0 = time.time()
        t.keys(key)
        t.wait(answer, timeout=5, poll=0.002)
        times.append((time.time() - t0) * 1000)
        t.keys(back)
        t.wait(back_answer, timeout=5)
        time.sleep(0.037)   # land at different points of the refresh cycle
    return times


def rate_from_log(path):
    with open(path) as f:
        rates = [int(x) for x in re.findall(r"churn: (\d+) blocks/s", f.read())]
    return statistics.median(rates[-5:]) if rates else 0


def main():
    t0 = time.time()
    t = tui_test.Term(["run", "--", STACKS, THREADS], cols=100, rows=30)
    try:
        s = t.wait(r"tui_stacks\.c:\d+", timeout=60, poll=0.01)
        first_screen = time.time() - t0
        with open("/proc/%d/stat" % t.pid()) as f:   # leaktop launched it: its parent
            leaktop_pid = int(f.read().rsplit(")", 1)[1].split()[1])
        log, = glob.glob(os.path.join(t.workdir, "leaktop-*", "program.log"))
        time.sleep(3)
        results = {"first rows on screen after start (s)": first_screen}
        results["alloc rate (blocks/s)"] = rate_from_log(log)
        results["refresh lineno (ms)"] = refresh_ms(t)
        results["cpu lineno (%)"] = cpu_percent(leaktop_pid, 5)
        lat = key_latency(t, "?", r"Help \(", "Escape", r"\+Size")
        t.keys("g")
        t.wait(r"group traceback")
        time.sleep(1.5)
        results["refresh traceback 100k rows (ms)"] = refresh_ms(t)
        results["cpu traceback (%)"] = cpu_percent(leaktop_pid, 5)
        lat_tb = key_latency(t, "?", r"Help \(", "Escape", r"\+Size")
        results["key latency lineno median/max (ms)"] = "%.0f / %.0f" % (statistics.median(lat), max(lat))
        results["key latency traceback median/max (ms)"] = "%.0f / %.0f" % (statistics.median(lat_tb), max(lat_tb))
        for k, v in results.items():
            print("%-40s %s" % (k, "%.1f" % v if isinstance(v, float) else v))
        if CHECK:
            assert statistics.median(lat) < 100 and statistics.median(lat_tb) < 100, "keys too slow"
            assert results["cpu lineno (%)"] < 50, "frontend CPU too high"
    finally:
        t.close()


if __name__ == "__main__":
    main()
