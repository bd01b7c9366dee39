#!/usr/bin/env python3
"""`leaktop attach` of a process in its own mount namespace (a container,
a systemd service with PrivateDevices= or PrivateTmp=: its /dev/shm is not
ours) and in its own pid namespace (it knows itself by another pid); and
a preloaded process that chroot()s after start (its segment stays in ours). The
injected tracer makes its segment in the process's /dev/shm under its own
pid; leaktop must find it there (/proc/PID/root), report exactly, detach
and remove it. Before, leaktop said "not traced" (status 4) while the
tracer ran on in the process with nobody to detach it. And a process whose
root is not ours (a container's, a chroot), where neither the tracer nor
libunwind is: the tracer goes in through memory files, twice.

usage: test_attach_namespaces.py LEAKTOP FX_ATTACH FX_SOURCE"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

LEAKTOP, FX, FX_SRC = sys.argv[1:4]
LEAK_LINE = next(n for n, line in enumerate(open(FX_SRC), 1) if "/* LEAK_LINE */" in line)

if os.geteuid() != 0 or subprocess.run(["unshare", "-m", "-p", "-f", "true"], capture_output=True).returncode:
    print("SKIP: needs root and mount and pid namespaces (unshare -m -p -f)")
    sys.exit(77)


def host_pid_of(ancestor, argv):
    """The pid, as we see it, of the process running argv below ancestor."""
    want = "\0".join(argv) + "\0"
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            if open(f"/proc/{d}/cmdline").read() != want:
                continue
            pid = int(d)
            while pid > 1:
                if pid == ancestor:
                    return int(d)
                pid = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
    return None


def attach_and_leak(name, pid, box):
    """Attaches for 2 s, makes the program leak once meanwhile, and checks
    the report: ended well, the leak exact at its line."""
    a = subprocess.Popen([LEAKTOP, "attach", str(pid), "--batch", "--json", "--duration", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    said = a.stderr.readline().strip()
    check(f"{name}: attached", said == f"leaktop: attached to {pid}", said)
    os.kill(pid, signal.SIGUSR1)
    check(f"{name}: the program leaked once", box.stdout.readline() == "done\n")
    out, err = a.communicate(timeout=60)
    reps = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    last = reps[-1] if reps else {}
    leak = [s for s in last.get("stats", []) if s["frames"] and s["frames"][0].get("line") == LEAK_LINE]
    check(f"{name}: leaktop reports and ends well", a.returncode == 0 and last.get("reason") == "detach" and
          last.get("attached") is True, (a.returncode, err[-300:]))
    check(f"{name}: the leak exact, at its line", [(s["size"], s["count"]) for s in leak] == [(40960, 10)],
          [(s["size"], s["count"], s["frames"][0]) for s in leak])


for name, flags in (("mount namespace", ["-m"]), ("mount and pid namespaces", ["-m", "-p", "-f"])):
    shell = 'mount -t tmpfs -o size=64m,mode=1777 tmpfs /dev/shm && exec "$0" leak'
    box = subprocess.Popen(["unshare", *flags, "sh", "-c", shell, FX], stdout=subprocess.PIPE, text=True)
    check(f"{name}: the program is ready", box.stdout.readline() == "ready\n")
    pid = host_pid_of(box.pid, [FX, "leak"])
    check(f"{name}: found its pid", pid is not None)
    if pid is None:
        box.kill()
        continue
    attach_and_leak(name, pid, box)
    left = [f for f in os.listdir(f"/proc/{pid}/root/dev/shm") if f.startswith("leaktop-")]
    check(f"{name}: the segment is gone from the program's /dev/shm", left == [], left)
    os.kill(pid, signal.SIGTERM)
    check(f"{name}: the program ends with its data intact", box.wait(timeout=30) == 17, box.returncode)
# A preloaded process that chroot()s after start into a tree with its own
# dev/shm: its segment stays in ours, where it was made, and is found there.
with tempfile.TemporaryDirectory() as jail:
    os.makedirs(os.path.join(jail, "dev", "shm"))
    tracer = os.path.join(os.path.dirname(LEAKTOP), "..", "lib", "leaktop", "libleaktop.so")
    fx = subprocess.Popen([FX, "chrootleak", jail], stdout=subprocess.PIPE, text=True,
                          env=dict(os.environ, LD_PRELOAD=os.path.abspath(tracer)))
    check("chroot: the program is ready", fx.stdout.readline() == "ready\n")
    a = subprocess.Popen([LEAKTOP, "attach", str(fx.pid), "--batch", "--json", "--duration", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    os.kill(fx.pid, signal.SIGUSR1)
    fx.stdout.readline()
    out, err = a.communicate(timeout=60)
    reps = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    leak = [s for s in reps[-1]["stats"] if s["frames"] and s["frames"][0].get("line") == LEAK_LINE] if reps else []
    check("chroot: its segment found, whole history, the leak exact",
          a.returncode == 0 and "attached" not in reps[-1] and [(s["size"], s["count"]) for s in leak] == [(40960, 10)],
          (a.returncode, err[-300:], [(s["size"], s["count"]) for s in leak]))
    os.kill(fx.pid, signal.SIGTERM)
    check("chroot: the program ends with its data intact", fx.wait(timeout=30) == 17, fx.returncode)
    for seg in os.listdir("/dev/shm"):
        if seg.startswith(f"leaktop-0-{fx.pid}-"):
            os.unlink(os.path.join("/dev/shm", seg))
# A process whose root is not ours (a container's image, a chroot): the
# tracer's path names nothing there, nor do libunwind and liblzma, which
# the tracer needs. It is given them in memory files (glibc it has, as a
# container does: here libm, the one the tracer needs that fx_attach does
# not load). Before, attach said "could not load" and ended with status 4.
TRACER = os.path.realpath(os.path.join(os.path.dirname(LEAKTOP), "..", "lib", "leaktop", "libleaktop.so"))
LIBM = "/lib/x86_64-linux-gnu/libm.so.6"


def tracer_copies(pid):
    """How many copies of each memory-loaded library the process maps."""
    seen = {}
    for line in open(f"/proc/{pid}/maps"):
        f = line.split()
        if len(f) >= 6 and f[1] == "r-xp" and f[5].startswith("/memfd:"):
            seen[f[5]] = seen.get(f[5], 0) + 1
    return seen


def attach_in_another_root(name, root, shell, argv):
    """Starts `shell` (with $0 = FX) in a mount namespace where `root` has
    /proc and a /dev/shm of its own, and attaches twice to argv's process:
    the tracer, libunwind and liblzma each loaded once, from memory, the
    leak exact at its line, no descriptor left."""
    for d in ("proc", "dev/shm", "lib/x86_64-linux-gnu", "lib64"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy(LIBM, os.path.join(root, LIBM.lstrip("/")))
    mounts = f"mount -t proc proc {root}/proc && mount -t tmpfs -o size=64m,mode=1777 tmpfs {root}/dev/shm && "
    box = subprocess.Popen(["unshare", "-m", "sh", "-c", mounts + shell, FX], stdout=subprocess.PIPE, text=True)
    check(f"{name}: the program is ready", box.stdout.readline() == "ready\n")
    pid = host_pid_of(box.pid, argv)
    check(f"{name}: found its pid", pid is not None)
    if pid is None:
        box.kill()
        return
    check(f"{name}: the tracer is not there", not os.path.exists(f"/proc/{pid}/root{TRACER}"))
    fds = sorted(os.listdir(f"/proc/{pid}/fd"))
    for round in (1, 2):
        attach_and_leak(f"{name}, attach {round}", pid, box)
        copies = tracer_copies(pid)
        check(f"{name}, attach {round}: one copy of each library, from memory",
              copies == {"/memfd:libleaktop.so": 1, "/memfd:libunwind.so.8": 1, "/memfd:liblzma.so.5": 1}, copies)
        check(f"{name}, attach {round}: no descriptor left open in the program",
              sorted(os.listdir(f"/proc/{pid}/fd")) == fds)
    os.kill(pid, signal.SIGTERM)
    check(f"{name}: the program ends with its data intact", box.wait(timeout=30) == 17, box.returncode)


if os.path.exists(LIBM):
    # A program that chroot()s after start (its files loaded from ours).
    with tempfile.TemporaryDirectory() as root:
        attach_in_another_root("chroot after start", root, f'exec "$0" chrootleak {root}', [FX, "chrootleak", root])
    # A container's image: the program, its loader and libc are the root's
    # own copies (symbols are read through /proc/PID/root).
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "lib64"))
        shutil.copy("/lib64/ld-linux-x86-64.so.2", os.path.join(root, "lib64"))
        os.makedirs(os.path.join(root, "lib/x86_64-linux-gnu"))
        shutil.copy("/lib/x86_64-linux-gnu/libc.so.6", os.path.join(root, "lib/x86_64-linux-gnu"))
        shutil.copy(FX, os.path.join(root, "app"))
        attach_in_another_root("container image", root, f"exec chroot {root} /app leak", ["/app", "leak"])
sys.exit(finish())
