"""A process that will never trace — a child that inherited the tracer
but is not the launched program — passes every call through on the skip
paths (hooks.c, lt_skip_dormant). fx_dormant's fork child and exec'd child
run the whole allocation API on two threads and check every result; the
parent's report holds its own leak alone, exact and sampled. A process
that is not the target from its start (LEAKTOP_PID another pid) runs the
same and leaves no segment.

Usage: test_dormant.py LEAKTOP TRACER_BIN_DIR FIXTURE_DIR"""
import glob
import os
import subprocess

from segtest import check, exit_report, finish, fx, rows_by_function, run, leaktop

BIG = 64 << 10
tracer = os.path.join(os.path.dirname(os.path.abspath(leaktop)), "..", "lib", "leaktop", "libleaktop.so")


for sample in (None, "1K", "512K"):
    env = dict(os.environ, LEAKTOP_SEED="5")
    env.pop("LEAKTOP_SAMPLE", None)
    argv = [leaktop, "run", "--batch", "--json"] + (["--sample", sample] if sample else [])
    p = run(argv + ["--", fx("fx_dormant")], env=env)
    rep = exit_report(p)
    check(f"sample={sample}: parent and dormant children ran right", p.returncode == 0 and rep is not None,
          f"status {p.returncode}: {p.stderr[-400:]}")
    if rep is None:
        continue
    rows = rows_by_function(rep)
    if sample != "512K":  # at 1 KiB a 64 KiB block is sampled for sure, weight 1
        check(f"sample={sample}: the parent's leak is exact", rows.get("parent_leak") == (10 * BIG, 10),
              rows.get("parent_leak"))
    check(f"sample={sample}: nothing of the children reaches the parent's counters",
          "child_work" not in rows and "child_main" not in rows, {k: v for k, v in rows.items() if "child" in str(k)})

# Not the target from the start: everything passes, no segment is made;
# also with jemalloc preloaded after the tracer (its frees keep the full
# entry: blocks from before forwarding was resolved go back to glibc).
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
preloads = [("glibc", tracer)] + ([("jemalloc", f"{tracer}:{JEMALLOC}")] if os.path.exists(JEMALLOC) else [])
for name, preload in preloads:
    for sample in ("64K", "0"):
        env = dict(os.environ, LD_PRELOAD=preload, LEAKTOP_PID="1", LEAKTOP_SAMPLE=sample)
        proc = subprocess.Popen([fx("fx_dormant")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        out, err = proc.communicate(timeout=120)
        left = glob.glob(f"/dev/shm/leaktop-{os.getuid()}-{proc.pid}-*")
        what = f"{name}, LEAKTOP_SAMPLE={sample}, not the target"
        check(f"{what}: runs right, quietly", proc.returncode == 0 and not err, (proc.returncode, err[-400:]))
        check(f"{what}: no segment", not left, left)
        for seg in left:
            os.unlink(seg)

finish()
