#!/usr/bin/env python3
"""`leaktop attach` of programs started WITHOUT leaktop, end to end through
the ptrace injector and the real tracer (PRODUCT.md §11).

usage: test_attach_cli.py LEAKTOP FX_ATTACH FX_ATTACH_STATIC FX_SOURCE

- allocations after the attach exact to the byte at file:line, frees and
  reallocs of blocks born before it handled as §11 says, every report says
  "attached":true, `leaktop: attached to PID` on stderr, `leaktop mark PID`
  works, Ctrl-C detaches and the program runs on with its data intact;
- --duration detaches and a second attach starts from zero;
- a program stopped with SIGSTOP is attached and stays stopped;
- 20 attach/detach cycles while four threads allocate, reallocate and free
  as fast as they can: the program ends with its data and its own status;
- refusals: one line each, distinct statuses, the program untouched;
- a process started with the tracer preloaded keeps its whole history and
  stays traced after the attach ends;
- `leaktop attach` with no PID lists the process.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

LEAKTOP, FX, FX_STATIC, FX_SRC = sys.argv[1:5]
TIMEOUT = 20


def source_line(marker):
    with open(FX_SRC) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    raise AssertionError(marker)


LEAK_LINE = source_line("/* LEAK_LINE */")
REALLOC_LINE = source_line("/* REALLOC_LINE */")


def start(*args, env=None):
    p = subprocess.Popen([FX] + list(args), stdout=subprocess.PIPE, text=True, env=env)
    check("fixture %s ready" % args[0], p.stdout.readline() == "ready\n")
    return p


def attach(*args, **kw):
    return subprocess.Popen([LEAKTOP, "attach"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def wait_stderr_line(p, want):
    line = p.stderr.readline()
    return line.strip() == want, line


def attach_leak_once(fx, name):
    """Attaches to fx for 1 s, makes it leak once meanwhile, and checks it
    attached; returns (status, reports, the leak's stat or None, out + err)."""
    a = attach("--batch", "--json", "--duration", "1", str(fx.pid))
    ok, line = wait_stderr_line(a, "leaktop: attached to %d" % fx.pid)
    check("%s: attached" % name, ok, line)
    os.kill(fx.pid, signal.SIGUSR1)
    fx.stdout.readline()
    out, err = a.communicate(timeout=TIMEOUT)
    reps = reports(out)
    return a.returncode, reps, stat_at(reps[-1], LEAK_LINE) if reps else None, out + err


def reports(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def stat_at(report, line):
    for s in report["stats"]:
        f = s["frames"][0]
        if f["file"].endswith("fx_attach.c") and f["line"] == line:
            return s
    return None


def state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def segments(pid, uid=None):
    """The pid's segments of one user (ours unless said): other tests on
    the machine plant names of other users for pids that may be reused."""
    prefix = "leaktop-%d-%d-" % (os.geteuid() if uid is None else uid, pid)
    return [n for n in os.listdir("/dev/shm") if n.startswith(prefix)]


def test_exact_after_attach_mark_and_ctrl_c():
    fx = start("leak")
    a = attach("--batch", "--json", str(fx.pid))
    ok, line = wait_stderr_line(a, "leaktop: attached to %d" % fx.pid)
    check("stderr says attached once tracing is on", ok, line)
    os.kill(fx.pid, signal.SIGUSR1)          # leak 10 x 4096, free the 100 old blocks, realloc one
    check("fixture did its work", fx.stdout.readline() == "done\n")
    mark = subprocess.Popen([LEAKTOP, "mark", str(fx.pid), "after"], stdout=subprocess.PIPE, text=True)
    # It waits 2 s for the program's next call once its request is out;
    # give it the time to start and ask (slower under a sanitizer).
    time.sleep(1.0)
    os.kill(fx.pid, signal.SIGUSR1)          # 10 more; its first call takes the mark
    check("leaktop mark on an attached process", mark.wait(timeout=TIMEOUT) == 0)
    fx.stdout.readline()
    a.send_signal(signal.SIGINT)             # Ctrl-C: detach
    out, err = a.communicate(timeout=TIMEOUT)
    check("attach --batch exits 0 at Ctrl-C", a.returncode == 0, err)
    reps = reports(out)
    check("a report at the mark and at the detach", [r["reason"] for r in reps] == ["mark", "detach"], out)
    check('every report says "attached":true', reps and all(r.get("attached") is True for r in reps), out)
    if len(reps) == 2:
        check("the mark's label", reps[0]["label"] == "after", reps[0])
        # Two rounds: 20 x 4096 B leaked since the attach; the 100 blocks
        # born before it were freed (ignored: nothing negative) and one
        # was reallocated to 777 B (a new block).
        d = reps[1]
        leak, rel = stat_at(d, LEAK_LINE), stat_at(d, REALLOC_LINE)
        check("leak since attach exact at its line", leak and (leak["size"], leak["count"]) == (81920, 20), d)
        check("realloc of a block born before the attach counts as new",
              rel and (rel["size"], rel["count"]) == (777, 1), d)
        check("frees of blocks born before the attach ignored (nothing negative)",
              (d["total"]["size"], d["total"]["count"]) == (81920 + 777, 21) and len(d["stats"]) == 2, d["total"])
    check("program runs on after the detach", fx.poll() is None)
    check("segment removed at the detach", not segments(fx.pid), segments(fx.pid))
    os.kill(fx.pid, signal.SIGTERM)
    check("program ends with its own status, its data intact", fx.wait(timeout=TIMEOUT) == 17)


def test_duration_then_attach_again_from_zero(mode="leak"):
    """mode filterleak: the same under a container-like seccomp filter
    (it kills only calls nobody makes): attach is not refused."""
    fx = start(mode)
    for round_ in ("%s %d" % (mode, n) for n in (1, 2)):
        status, reps, leak, said = attach_leak_once(fx, "attach %s" % round_)
        check("attach %s: --duration ends it with a detach report" % round_,
              status == 0 and [r["reason"] for r in reps] == ["detach"], said)
        check("attach %s: counts from zero at each attach" % round_,
              leak and (leak["size"], leak["count"]) == (40960, 10), reps[-1] if reps else said)
    check("program runs on", fx.poll() is None)
    os.kill(fx.pid, signal.SIGTERM)
    check("program's own status", fx.wait(timeout=TIMEOUT) == 17)


def test_libc_upgraded_since_start():
    """A long-running program whose libc was replaced on disk (a libc6
    upgrade): /proc/PID/maps says "libc.so.6 (deleted)". Before, attach
    called it statically linked (125); as root it is read from the
    process's own mapping, and the attach is exact."""
    if os.geteuid() != 0:
        return
    import tempfile
    libc = "/lib/x86_64-linux-gnu/libc.so.6"
    with tempfile.TemporaryDirectory() as d:
        shutil.copy(libc, os.path.join(d, "libc.so.6"))
        fx = start("leak", env=dict(os.environ, LD_LIBRARY_PATH=d))
        shutil.copy(libc, os.path.join(d, "libc.new"))
        os.rename(os.path.join(d, "libc.new"), os.path.join(d, "libc.so.6"))
        maps = open("/proc/%d/maps" % fx.pid).read()
        check("upgraded libc: the old one shows as deleted", "/libc.so.6 (deleted)" in maps)
        status, _, leak, said = attach_leak_once(fx, "upgraded libc")
        check("upgraded libc: the leak exact", status == 0 and leak and (leak["size"], leak["count"]) == (40960, 10),
              (status, said[-300:]))
        os.kill(fx.pid, signal.SIGTERM)
        check("upgraded libc: the program's own status", fx.wait(timeout=TIMEOUT) == 17)


def test_sampled_then_exact_attach_refused():
    """A sampled attach leaves each thread's sampling countdown behind (the
    unsampled fast path trusts it alone): an exact attach after it would
    let calls pass untraced, so it is refused with what to do; the same
    --sample again works, and counts from zero."""
    fx = start("leak")
    a = attach("--batch", "--json", "--sample", "64K", "--duration", "0.5", str(fx.pid))
    out, err = a.communicate(timeout=TIMEOUT)
    check("sampled attach", a.returncode == 0 and "attached to %d" % fx.pid in err, err)
    a = attach("--batch", "--json", "--duration", "0.5", str(fx.pid))
    out, err = a.communicate(timeout=TIMEOUT)
    check("exact attach after a sampled one refused, saying what to do",
          a.returncode == 4 and "same --sample" in err and len(err.strip().splitlines()) == 1, (a.returncode, err))
    a = attach("--batch", "--json", "--sample", "64K", "--duration", "0.5", str(fx.pid))
    out, err = a.communicate(timeout=TIMEOUT)
    check("the same --sample attaches again", a.returncode == 0 and "attached to %d" % fx.pid in err, err)
    check("program runs on", fx.poll() is None)
    os.kill(fx.pid, signal.SIGTERM)
    check("program's own status", fx.wait(timeout=TIMEOUT) == 17)


def test_stopped_program_stays_stopped():
    fx = start("leak")
    os.kill(fx.pid, signal.SIGSTOP)
    deadline = time.time() + 5
    while state(fx.pid) != "T" and time.time() < deadline:
        time.sleep(0.01)
    a = attach("--batch", "--json", "--duration", "0.5", str(fx.pid))
    out, err = a.communicate(timeout=TIMEOUT)
    check("attach of a stopped program", a.returncode == 0 and "attached to %d" % fx.pid in err, err)
    check("still stopped after attach and detach", state(fx.pid) == "T", state(fx.pid))
    os.kill(fx.pid, signal.SIGCONT)
    os.kill(fx.pid, signal.SIGTERM)
    check("program's own status after SIGCONT", fx.wait(timeout=TIMEOUT) == 17)


def test_twenty_cycles_under_allocation_storm():
    fx = start("stress", "300")
    ok = 0
    for _ in range(20):
        a = attach("--batch", "--json", "--duration", "0.1", str(fx.pid))
        out, err = a.communicate(timeout=TIMEOUT)
        reps = reports(out)
        if a.returncode == 0 and reps and reps[-1]["reason"] == "detach" and reps[-1]["attached"]:
            ok += 1
        else:
            print("cycle failed: rc %d %s" % (a.returncode, err.strip()))
    check("20 attach/detach cycles", ok == 20, ok)
    os.kill(fx.pid, signal.SIGUSR2)
    line = fx.stdout.readline()
    check("data intact, blocked read restarted", re.match(r"rt=0 sum=0 reader=0 corrupt=0", line), line)
    check("program's own exit status", fx.wait(timeout=TIMEOUT) == 42)
    check("no segment left", not segments(fx.pid))


def refused(args, status, words):
    a = attach("--batch", *args)
    out, err = a.communicate(timeout=TIMEOUT)
    lines = err.strip().split("\n")
    check("refused %s: status %d" % (words, status), a.returncode == status, "%d %s" % (a.returncode, err))
    check("refused %s: one line" % words, len(lines) == 1 and words in lines[0], err)


def test_refusals():
    refused(["1073741000"], 6, "does not exist")
    st = subprocess.Popen([FX_STATIC, "idle"], stdout=subprocess.PIPE, text=True)
    st.stdout.readline()
    refused([str(st.pid)], 125, "statically linked")
    check("static program untouched", st.poll() is None and state(st.pid) in "SR")
    st.kill()
    st.wait()
    sc = start("seccomp")
    time.sleep(0.05)
    refused([str(sc.pid)], 10, "seccomp")
    check("seccomp program untouched", sc.poll() is None)
    sc.kill()
    sc.wait()
    if os.geteuid() == 0:  # (reading a filter takes CAP_SYS_ADMIN)
        # A filter that kills openat, as a sandboxed child's does: dlopen
        # would have killed it (SIGSYS); refused, it runs on.
        sb = start("sandbox")
        refused([str(sb.pid)], 10, "seccomp filter that forbids openat")
        time.sleep(0.1)
        check("sandboxed program untouched", sb.poll() is None)
        sb.kill()
        sb.wait()
    z = subprocess.Popen(["true"])
    deadline = time.time() + 5
    while state(z.pid) != "Z" and time.time() < deadline:
        time.sleep(0.01)
    refused([str(z.pid)], 7, "zombie")
    z.wait()


def test_preloaded_full_history_kept_traced():
    """A process started with the tracer preloaded attaches as before: its
    whole history (blocks from before the attach count, no "attached"),
    and the end of --duration leaves it traced, its segment in place."""
    tracer = os.path.join(os.path.dirname(LEAKTOP), "..", "lib", "leaktop", "libleaktop.so")
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(tracer))
    fx = subprocess.Popen([FX, "leak"], stdout=subprocess.PIPE, text=True, env=env)
    fx.stdout.readline()
    a = attach("--batch", "--json", "--duration", "0.5", str(fx.pid))
    out, err = a.communicate(timeout=TIMEOUT)
    reps = reports(out)
    check("preloaded: one report at the end of --duration", a.returncode == 0 and len(reps) == 1, out + err)
    if reps:
        check("preloaded: whole history (101 blocks of 333 B from the start), not since attach",
              reps[0]["total"]["size"] >= 101 * 333 and "attached" not in reps[0], reps[0]["total"])
    check("preloaded: still traced after the attach ends", fx.poll() is None and segments(fx.pid))
    os.kill(fx.pid, signal.SIGTERM)
    check("preloaded: its own status", fx.wait(timeout=TIMEOUT) == 17)
    for seg in segments(fx.pid):
        os.unlink("/dev/shm/" + seg)


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_other_users():
    """As root: a service user's process is attached (its segment is that
    user's); as that user, root's process is refused (another user)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("skip other users: needs root and setpriv")
        return
    fx = subprocess.Popen(NOBODY + [FX, "leak"], stdout=subprocess.PIPE, text=True)
    fx.stdout.readline()
    _, _, leak, said = attach_leak_once(fx, "root attaches nobody's process")
    check("root attaches nobody's process: exact", leak and (leak["size"], leak["count"]) == (40960, 10), said)
    check("nobody's process: no segment left, runs on", not segments(fx.pid, 65534) and fx.poll() is None)
    os.kill(fx.pid, signal.SIGTERM)
    check("nobody's process: its own status", fx.wait(timeout=TIMEOUT) == 17)

    mine = start("idle")
    r = subprocess.run(NOBODY + [LEAKTOP, "attach", "--batch", str(mine.pid)], capture_output=True, text=True,
                       timeout=TIMEOUT)
    check("nobody may not attach root's process: status 8, one line",
          r.returncode == 8 and "another user" in r.stderr and r.stderr.count("\n") == 1, r.stderr)
    check("root's process untouched", mine.poll() is None)
    mine.kill()
    mine.wait()


def test_preloaded_service_that_dropped_root():
    """As root: a service started as root with the tracer preloaded, which
    then dropped to nobody, is attached: its segment is root's (made
    before the drop), and only root can make a file root's."""
    if os.geteuid() != 0:
        print("skip dropped root: needs root")
        return
    tracer = os.path.join(os.path.dirname(LEAKTOP), "..", "lib", "leaktop", "libleaktop.so")
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(tracer))
    fx = subprocess.Popen([FX, "dropleak"], stdout=subprocess.PIPE, text=True, env=env)
    check("dropped root: ready", fx.stdout.readline() == "ready\n")
    a = attach("--batch", "--json", "--duration", "1", str(fx.pid))
    os.kill(fx.pid, signal.SIGUSR1)
    fx.stdout.readline()
    out, err = a.communicate(timeout=TIMEOUT)
    reps = reports(out)
    leak = stat_at(reps[-1], LEAK_LINE) if reps else None
    check("dropped root: attached, whole history", a.returncode == 0 and reps and "attached" not in reps[-1] and
          reps[-1]["total"]["size"] >= 100 * 333, (a.returncode, err[-300:]))
    check("dropped root: the leak exact", leak and (leak["size"], leak["count"]) == (40960, 10), out[-500:] + err)
    os.kill(fx.pid, signal.SIGTERM)
    check("dropped root: its own status", fx.wait(timeout=TIMEOUT) == 17)
    for seg in segments(fx.pid, 0):
        os.unlink(os.path.join("/dev/shm", seg))


def test_list_without_pid():
    fx = start("leak")
    r = subprocess.run([LEAKTOP, "attach"], capture_output=True, text=True, timeout=TIMEOUT)
    row = [line for line in r.stdout.splitlines() if re.match(r"\s*%d\s" % fx.pid, line)]
    check("attach without PID lists the process", r.returncode == 0 and row and "fx_attach" in row[0], r.stdout)
    fx.kill()
    fx.wait()


if __name__ == "__main__":
    test_refusals()
    test_exact_after_attach_mark_and_ctrl_c()
    test_duration_then_attach_again_from_zero()
    test_duration_then_attach_again_from_zero("filterleak")
    test_libc_upgraded_since_start()
    test_stopped_program_stays_stopped()
    test_sampled_then_exact_attach_refused()
    test_twenty_cycles_under_allocation_storm()
    test_preloaded_full_history_kept_traced()
    test_other_users()
    test_preloaded_service_that_dropped_root()
    test_list_without_pid()
    sys.exit(finish())
