#!/usr/bin/env python3
"""Hostile host programs (tests/tracer/fx_h_*.c and friends): each runs
natively and under `leaktop run --json`, both under a timeout. Under the
tracer it must not hang or die where it does not natively, must end with
the same status and output, and the exit report must hold exactly the
leaks its `@expect exit` markers state (and, where marked, the totals
valgrind memcheck counts in use at exit).
Usage: test_hostile.py LEAKTOP BIN_DIR SRC_DIR CASE"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "integration"))
from expect import check_report, markers, merge  # noqa: E402

leaktop, bindir, srcdir, case = sys.argv[1:5]
SKIP = 77
TIMEOUT = 120  # generous: a loaded 2-core VM; a hang still fails

JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"


def B(name):
    return os.path.join(bindir, name)


def build_rust():
    """fx_rust.rs with rustc, or skip (with a message) when there is none."""
    rustc = shutil.which("rustc")
    if not rustc:
        print("skipped: rustc not found (install Debian's rustc to run this test)")
        sys.exit(SKIP)
    out = B("fx_rust")
    subprocess.run([rustc, "-g", "-O", "-o", out, os.path.join(srcdir, "fx_rust.rs")], check=True,
                   stdout=subprocess.DEVNULL, timeout=300)
    return [out]


def preload(path):
    if os.environ.get("LEAKTOP_TEST_SANITIZED"):
        print("skipped: the sanitized frontend can not run with another allocator preloaded "
              "(the plain build runs this test)")
        sys.exit(SKIP)
    return {"LD_PRELOAD": need(path)}


def need(path):
    if not os.path.exists(path):
        print(f"skipped: {path} not installed (scripts/setup.sh installs it)")
        sys.exit(SKIP)
    return path


# name: argv (a function making it), source with markers, extra
# environment, leaktop options, compare totals with memcheck (only for
# programs without threads: each thread's TLS vector holds one more entry
# per preloaded library with TLS, the tracer's and valgrind's differ).
CASES = {
    "getattr": dict(argv=lambda: [B("fx_getattr")], src="fx_getattr.c"),
    # Rust's allocation wrappers are many: count every frame instead.
    "rust": dict(argv=build_rust, src="fx_rust.rs", opts=["--cumulative"]),
    "clone": dict(argv=lambda: [B("fx_h_clone")], src="fx_h_clone.c", memcheck=True),
    "sighook": dict(argv=lambda: [B("fx_h_sighook")], src="fx_h_sighook.c"),
    "longjmp": dict(argv=lambda: [B("fx_h_longjmp")], src="fx_h_longjmp.c"),
    "cancel": dict(argv=lambda: [B("fx_h_cancel")], src="fx_h_cancel.c"),
    "jemalloc": dict(argv=lambda: [B("fx_h_alloc")], src="fx_h_alloc.c", env=lambda: preload(JEMALLOC)),
    "tcmalloc": dict(argv=lambda: [B("fx_h_alloc")], src="fx_h_alloc.c", env=lambda: preload(TCMALLOC)),
    "linked": dict(argv=lambda: [need(B("fx_h_alloc_linked"))], src="fx_h_alloc.c"),
    "sigapi": dict(argv=lambda: [B("fx_h_sigapi")], src="fx_h_sigapi.c"),
    "coro": dict(argv=lambda: [B("fx_h_coro")], src="fx_h_coro.c", memcheck=True),
    "setcontext": dict(argv=lambda: [B("fx_h_setcontext")], src="fx_h_setcontext.c", memcheck=True),
    "sigfork": dict(argv=lambda: [B("fx_h_sigfork")], src="fx_h_sigfork.c"),
    "vfork": dict(argv=lambda: [B("fx_h_vfork")], src="fx_h_vfork.c"),
    "altstack": dict(argv=lambda: [B("fx_h_altstack")], src="fx_h_altstack.c"),
    # As small as programs make them: room for the handler, none for an
    # unwinder's frames.
    "nofile": dict(argv=lambda: [B("fx_h_nofile")], src="fx_h_nofile.c"),
    "smallstack": dict(argv=lambda: [B("fx_h_smallstack")], src="fx_h_smallstack.c"),
    "altstack-small": dict(argv=lambda: [B("fx_h_altstack"), "8192"], src="fx_h_altstack.c"),
    "jail": dict(argv=lambda: [B("fx_h_jail")], src="fx_h_jail.c"),
    # The descriptor fallocate commits through is closed by the program.
    "jail-fallocate": dict(argv=lambda: [B("fx_h_jail")], src="fx_h_jail.c",
                           env=lambda: {"LEAKTOP_COMMIT": "fallocate"}),
    # (memcheck's malloc_usable_size is not glibc's: markers only)
    "mallinfo": dict(argv=lambda: [B("fx_h_mallinfo")], src="fx_h_mallinfo.c"),
    # Freed through glibc's internal alias: memcheck would see those frees.
    "unseen": dict(argv=lambda: [B("fx_h_unseen")], src="fx_h_unseen.c"),
    "threadexit": dict(argv=lambda: [B("fx_h_threadexit")], src="fx_h_threadexit.c"),
    # Locked in by seccomp after start-up: the tracer's own calls must not
    # be what the filter kills. Markers by label: the exit report's rows.
    "seccomp-filter": dict(argv=lambda: [B("fx_h_seccomp"), "filter"], src="fx_h_seccomp.c", label="threads"),
    "seccomp-deny": dict(argv=lambda: [B("fx_h_seccomp"), "deny"], src="fx_h_seccomp.c", label="threads"),
    # In strict mode the trace store cannot grow: the stacks past its pages
    # go to <unknown>, said why, and every block is still counted.
    "seccomp-strict": dict(argv=lambda: [B("fx_h_seccomp"), "strict"], src="fx_h_seccomp.c", label="strict",
                           total=(240 + 500 + 64 * 30 * 8, 10 + 5 + 64 * 30), stderr="seccomp filter refuses"),
    # abort() inside malloc (a corrupt heap): the crash handler runs, the
    # status is SIGABRT's (natively so, or the fixture is wrong).
    "abort": dict(argv=lambda: [B("fx_h_abort")], src="fx_h_abort.c", native=128 + 6),
    # ... and a crash handler that leaves that hook by siglongjmp: what the
    # program allocates after is traced, the handler's own call is not.
    "recover": dict(argv=lambda: [B("fx_h_recover")], src="fx_h_recover.c", native=0, total=(2244, 16)),
    "recover-altstack": dict(argv=lambda: [B("fx_h_recover"), "altstack"], src="fx_h_recover.c", native=0,
                             total=(2244, 16)),
    "recover-signal": dict(argv=lambda: [B("fx_h_recover"), "signal"], src="fx_h_recover.c", native=0,
                           total=(2244, 16)),
    "dlclose": dict(argv=lambda: [B("fx_h_dlclose"), B("libfx_h_atexit_lib.so")],
                    src=["fx_h_dlclose.c", "fx_h_atexit_lib.c"]),  # (the tracer's dependencies differ)
}


def run(argv, env, timeout=TIMEOUT):
    """(status, stdout, stderr) or None on timeout (the whole group killed)."""
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        return None
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def memcheck_totals(argv, env):
    exe = shutil.which("valgrind.bin") or "/usr/lib/x86_64-linux-gnu/valgrind/valgrind.bin"
    r = run([exe, "--tool=memcheck", "--run-libc-freeres=no", "--run-cxx-freeres=no", "--leak-check=no",
             *argv], env, timeout=300)
    # The last summary is the program's (children print theirs first).
    m = r and ([None] + list(re.finditer(r"in use at exit: ([\d,]+) bytes in ([\d,]+) blocks", r[2])))[-1]
    if not m:
        sys.exit(f"FAIL: {case}: memcheck printed no summary")
    return int(m.group(1).replace(",", "")), int(m.group(2).replace(",", ""))


def main():
    spec = CASES[case]
    argv = spec["argv"]()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEAKTOP_", "LD_PRELOAD"))}
    env.update(spec["env"]() if "env" in spec else {})
    native = run(argv, env)
    if native is None:
        sys.exit(f"FAIL: {case}: hangs natively: the fixture is wrong")
    if "native" in spec and (native[0] if native[0] >= 0 else 128 - native[0]) != spec["native"]:
        sys.exit(f"FAIL: {case}: status {native[0]} natively, want {spec['native']}: the fixture is wrong")
    traced = run([leaktop, "run", "--json", *spec.get("opts", []), "--", *argv], env)
    if traced is None:
        sys.exit(f"FAIL: {case}: hangs under leaktop (killed after {TIMEOUT} s)")
    status, out, err = traced
    reports = [json.loads(line) for line in out.splitlines() if line.startswith('{"event":"report"')]
    program_out = "".join(line + "\n" for line in out.splitlines() if not line.startswith('{"event"'))
    want = native[0] if native[0] >= 0 else 128 - native[0]
    if status != want:
        sys.exit(f"FAIL: {case}: status {status} under leaktop, {want} natively; {err.strip()[-500:]}")
    if program_out != native[1]:
        sys.exit(f"FAIL: {case}: output differs under leaktop:\n{program_out[-500:]}\nnatively:\n{native[1][-500:]}")
    exits = [r for r in reports if r["label"] == "exit"]
    if not exits:
        sys.exit(f"FAIL: {case}: no exit report; {err.strip()[-500:]}")
    problems = []
    if spec.get("src"):
        srcs = spec["src"] if isinstance(spec["src"], list) else [spec["src"]]
        spec_markers = merge(*[markers(os.path.join(srcdir, s)) for s in srcs])
        label = spec.get("label", "exit")
        problems += check_report(exits[-1], spec_markers.get(label, {"expect": {}, "absent": set(), "exact": False}),
                                 case)
    total = exits[-1]["total"]
    if "total" in spec and (total["size"], total["count"]) != spec["total"]:
        problems.append(f"{case}: {total['size']} B in {total['count']} blocks at exit, want "
                        f"{spec['total'][0]} B in {spec['total'][1]} blocks")
    if "stderr" in spec and spec["stderr"] not in err:
        problems.append(f"{case}: stderr does not say {spec['stderr']!r}: {err.strip()[-300:]}")
    if spec.get("memcheck"):
        mc = memcheck_totals(argv, env)
        if (total["size"], total["count"]) != mc:
            problems.append(f"{case}: {total['size']} B in {total['count']} blocks at exit, memcheck "
                            f"says {mc[0]} B in {mc[1]} blocks")
    if problems:
        sys.exit("FAIL:\n  " + "\n  ".join(problems))
    print(f"ok: {case}: {total['size']} B in {total['count']} blocks at exit, as expected")


main()
