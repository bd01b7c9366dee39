#!/usr/bin/env python3
"""Item 18 of issue 10: another user plants /dev/shm/leaktop-* names for
the pids about to be used (the old names were predictable, and the tracer
then silently turned off). Tracing must start anyway and report exactly;
a planted segment, even a well-formed one, is never read: refused when it
is another user's or readable by others. Two users made for the test: the
one who plants, and the one who runs leaktop (root could remove anyone's
file, which would hide the problem)."""
import os
import pwd
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from segtest import check, exit_report, finish, fixdir, leaktop, run, skip, totals  # noqa: E402

if os.geteuid() != 0 or not shutil.which("useradd"):
    skip("needs root and useradd to plant files as another user")


def user(name):
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        if subprocess.run(["useradd", "-M", "-r", "-s", "/usr/sbin/nologin", name]).returncode != 0:
            skip("useradd failed")
        return pwd.getpwnam(name).pw_uid


other, uid = user("ltplanted"), user("ltvictim")


def as_victim(argv):
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--", *argv]


fixture = os.path.join(fixdir, "fx_basic_O0")
argv = as_victim([leaktop, "run", "--batch", "--json", "--", fixture])
ref = totals(exit_report(run(argv)))
check("the victim user can run leaktop", ref is not None, ref)

planted = []


def plant(name, data=b"\0" * 8192, owner=other, mode=0o666):
    path = os.path.join("/dev/shm", name)
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, owner, owner)
    os.chmod(path, mode)
    planted.append(path)


try:
    nxt = int(open("/proc/sys/kernel/ns_last_pid").read()) + 1
    for pid in range(nxt, nxt + 400):
        plant(f"leaktop-{pid}")                        # the old, predictable name
        plant(f"leaktop-{uid}-{pid}-0000000000000000")  # the new prefix, a guessed suffix
    p = run(argv)
    check("tracing starts despite planted names", p.returncode == 0 and exit_report(p), (p.returncode, p.stderr))
    check("and reports exactly", totals(exit_report(p)) == ref, (totals(exit_report(p)), ref))
    check("nothing planted was read", "refused" not in p.stderr, p.stderr)

    # A well-formed segment (a real one, its writer pid made a live process's).
    tracer = os.path.join(os.path.dirname(os.path.dirname(leaktop)), "lib", "leaktop", "libleaktop.so")
    src = subprocess.Popen([fixture], env=dict(os.environ, LD_PRELOAD=tracer), stdout=subprocess.DEVNULL)
    src.wait()
    segs = [n for n in os.listdir("/dev/shm") if n.startswith(f"leaktop-0-{src.pid}-")]
    real = open(os.path.join("/dev/shm", segs[0]), "rb").read() if segs else b""
    for n in segs:
        os.unlink(os.path.join("/dev/shm", n))
    check("a real segment to plant", src.returncode == 0 and len(real) > 4096, (src.returncode, segs))
    victim = subprocess.Popen(as_victim(["sleep", "30"]))
    forged = real[:24] + struct.pack("<i", victim.pid) + real[28:]
    plant(f"leaktop-{uid}-{victim.pid}-1111111111111111", forged, other, 0o600)
    p = run(as_victim([leaktop, "mark", str(victim.pid)]))
    check("another user's segment is refused", p.returncode == 1 and "another user's" in p.stderr, p.stderr)
    os.unlink(planted.pop())
    plant(f"leaktop-{uid}-{victim.pid}-2222222222222222", forged, uid, 0o644)
    p = run(as_victim([leaktop, "mark", str(victim.pid)]))
    check("a segment readable by others is refused", p.returncode == 1 and "not private" in p.stderr, p.stderr)
    victim.kill()
    victim.wait()
finally:
    for path in planted:
        if os.path.exists(path):
            os.unlink(path)
finish()
