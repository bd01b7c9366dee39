#!/usr/bin/env python3
"""Item 9 of issue 10: `leaktop mark PID LABEL` on a program making ~100
allocation calls a second. Each mark is taken within a fraction of a
second, in sampling mode too (where those calls pass through untraced);
several requests at once are several snapshots, each with its own
label; a program that makes no call is told apart; a dead and a zombie
pid get their own messages."""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from segtest import check, finish, fx, leaktop, reports, run  # noqa: E402

tmp = tempfile.mkdtemp(prefix="leaktop-marks-")


def start(seconds, *extra, opts=()):
    pidfile = os.path.join(tmp, f"pid-{len(os.listdir(tmp))}")
    lt = subprocess.Popen([leaktop, "run", "--batch", "--json", *opts, "--", fx("fx_slow"), pidfile, str(seconds),
                           *extra],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if os.path.exists(pidfile) and open(pidfile).read().endswith("\n"):
            time.sleep(0.2)  # its tracer is up: the file is written after its first calls
            return lt, int(open(pidfile).read())
        time.sleep(0.01)
    raise SystemExit("fx_slow did not start")


def mark(pid, label):
    t0 = time.monotonic()
    p = run([leaktop, "mark", str(pid), label])
    return p, time.monotonic() - t0


lt, pid = start(4)
p, took = mark(pid, "one")
check("a mark is taken within half a second", p.returncode == 0 and took < 0.5, (p.returncode, took, p.stderr))
t0 = time.monotonic()
many = [subprocess.Popen([leaktop, "mark", str(pid), f"m{i}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True) for i in range(3)]
codes = [m.wait() for m in many]
check("three requests at once are all taken at once", codes == [0, 0, 0] and time.monotonic() - t0 < 1.5,
      (codes, time.monotonic() - t0, [m.stderr.read() for m in many]))
out, err = lt.communicate(timeout=30)
labels = [r["label"] for r in reports(subprocess.CompletedProcess([], 0, out, err)) if r["reason"] == "mark"]
check("every request its own snapshot, with its own label",
      labels[:1] == ["one"] and sorted(labels[1:]) == ["m0", "m1", "m2"], labels)

# Sampling mode: unsampled calls (all of these: 32-byte blocks, ~3 KB a
# second, sampled every 512 KiB) pass straight to the allocator, and still
# take a mark at once: mallocs, and frees alone.
for mode in ("mallocs", "frees"):
    lt, pid = start(3, *(["frees"] if mode == "frees" else []), opts=("--sample", "512K"))
    p, took = mark(pid, f"sampled-{mode}")
    out, err = lt.communicate(timeout=30)
    labels = [r["label"] for r in reports(subprocess.CompletedProcess([], 0, out, err)) if r["reason"] == "mark"]
    check(f"sampling, {mode} only: a mark is taken within half a second",
          p.returncode == 0 and took < 0.5 and labels == [f"sampled-{mode}"], (p.returncode, took, p.stderr, labels))

# A program that makes no allocation call: its heap cannot change, the mark waits for its next call.
lt, pid = start(3, "idle")
p, took = mark(pid, "quiet")
check("an idle program: said, not mistaken for a dead one",
      p.returncode == 1 and "made no allocation call" in p.stderr and "will be taken at its next one" in p.stderr,
      (p.returncode, p.stderr))
lt.communicate(timeout=30)

# A pid that does not exist, and a zombie (traced, ended, not reaped).
gone = 4190000 + os.getpid() % 1000
p = run([leaktop, "mark", str(gone)])
check("a dead pid: its own message", p.returncode == 1 and f"process {gone} does not exist" in p.stderr, p.stderr)
tracer = os.path.join(os.path.dirname(os.path.dirname(leaktop)), "lib", "leaktop", "libleaktop.so")
z = subprocess.Popen([fx("fx_slow"), os.path.join(tmp, "zombie"), "0"], env=dict(os.environ, LD_PRELOAD=tracer))
deadline = time.monotonic() + 10
while time.monotonic() < deadline and open(f"/proc/{z.pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z":
    time.sleep(0.01)
p = run([leaktop, "mark", str(z.pid)])
check("a zombie pid: its own message", p.returncode == 1 and "has exited (a zombie" in p.stderr, p.stderr)
z.wait()
for name in os.listdir("/dev/shm"):  # its segment: standalone use leaves it
    if name.startswith(f"leaktop-{os.geteuid()}-{z.pid}-"):
        os.unlink(os.path.join("/dev/shm", name))
finish()
