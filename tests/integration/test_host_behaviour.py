#!/usr/bin/env python3
"""leaktop must not change how the launched program behaves, and must end
cleanly however its own output ends:
- the program gets the signal dispositions leaktop was started with (SIG_IGN
  survives exec: what leaktop ignores for itself must not reach it);
- `leaktop run --batch ... | head -1` ends leaktop cleanly (no SIGPIPE death),
  with the program's status, and removes the segment;
- a frontend SIGKILLed mid-run leaves no segment once the program ends;
- --save on something that is not a writable directory is refused up front.
Usage: test_host_behaviour.py LEAKTOP FIXTURE_BIN_DIR"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

leaktop, bindir = sys.argv[1:3]


def sigign_of(cmd, preexec=None):
    """The SigIgn mask a command sees, as printed by grep in /proc/self/status."""
    p = subprocess.run(cmd + ["grep", "SigIgn", "/proc/self/status"], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60, preexec_fn=preexec)
    m = re.search(r"SigIgn:\s*([0-9a-f]+)", p.stdout)
    return int(m.group(1), 16) if m else None


def ignore_int_and_hup():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)   # as nohup does


def bit(sig):
    return 1 << (sig - 1)


run_batch = [leaktop, "run", "--batch", "--output", os.devnull, "--"]
plain = sigign_of([])
traced = sigign_of(run_batch)
check("signal dispositions: a launched program ignores what the shell's child ignores",
      traced == plain, f"plain {plain:#x}, under leaktop {traced}")
check("signal dispositions: SIGINT, SIGQUIT and SIGPIPE are not ignored by the program",
      traced is not None and traced & (bit(signal.SIGINT) | bit(signal.SIGQUIT) | bit(signal.SIGPIPE)) == 0,
      f"{traced}")
nohup = sigign_of(run_batch, ignore_int_and_hup)
check("signal dispositions: what leaktop's parent ignored stays ignored (nohup)",
      nohup is not None and nohup & bit(signal.SIGINT) and nohup & bit(signal.SIGHUP), f"{nohup}")

tmp = tempfile.mkdtemp(prefix="leaktop-host-")
try:
    # Reports every 50 ms for a second: head has gone after the first line,
    # so later reports meet a closed pipe. The program itself prints nothing.
    pidfile = os.path.join(tmp, "pid")
    script = (f"set -o pipefail; {leaktop} run --batch --interval 50 -- "
              f"sh -c 'echo $$ > {pidfile}; sleep 1' | head -1 >/dev/null")
    p = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    check("reader gone: leaktop ends with the program's status, not SIGPIPE's 141",
          p.returncode == 0, f"status {p.returncode}, stderr {p.stderr!r}")
    pid = open(pidfile).read().strip()
    left = [f for f in os.listdir("/dev/shm") if f.startswith(f"leaktop-{os.getuid()}-{pid}-")]
    check("reader gone: the segment is removed", not left, f"{left}")

    # The frontend SIGKILLed mid-run: the program ends later on its own and,
    # finding its launcher gone, removes its segment itself.
    # (sleep, not sh: dash leaves with _exit, which runs no destructor.)
    fe = subprocess.Popen([leaktop, "run", "--batch", "--", "sleep", "1"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    deadline = time.time() + 30
    pid2 = None
    while time.time() < deadline and pid2 is None:
        with open(f"/proc/{fe.pid}/task/{fe.pid}/children") as f:
            kids = f.read().split()
        if kids and any(n.startswith(f"leaktop-{os.getuid()}-{kids[0]}-") for n in os.listdir("/dev/shm")):
            pid2 = int(kids[0])
        time.sleep(0.02)
    fe.kill()
    fe.wait()
    while time.time() < deadline:
        try:
            os.kill(pid2, 0)
            time.sleep(0.05)
        except ProcessLookupError:
            break
    left = [f for f in os.listdir("/dev/shm") if f.startswith(f"leaktop-{os.getuid()}-{pid2}-")]
    check("frontend killed: the program removes its segment when it ends", not left, f"{left}")

    target = os.path.join(tmp, "plain-file")
    open(target, "w").write("x")
    p = subprocess.run([leaktop, "run", "--batch", "--save", target, "--", os.path.join(bindir, "fx_exit")],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    lines = p.stderr.strip().splitlines()
    check("--save on a plain file: refused with status 2", p.returncode == 2, f"{p.returncode} {p.stderr!r}")
    check("--save on a plain file: one line naming the problem",
          len(lines) == 1 and "not a directory" in lines[0] and target in lines[0], f"{p.stderr!r}")
    check("--save on a plain file: the file is untouched", open(target).read() == "x")
    newdir = os.path.join(tmp, "snaps")
    p = subprocess.run([leaktop, "run", "--batch", "--save", newdir, "--", os.path.join(bindir, "fx_exit")],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    check("--save on a missing directory: created and written",
          p.returncode == 0 and any(f.endswith(".ltsnap") for f in os.listdir(newdir)), f"{p.stderr!r}")
finally:
    subprocess.run(["rm", "-rf", tmp])

sys.exit(finish())
