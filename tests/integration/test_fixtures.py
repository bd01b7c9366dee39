#!/usr/bin/env python3
"""End-to-end: run each fixture under `leaktop run --json` and require the
exact size_diff and count_diff its source's markers state, at the exact
file:line. Usage: test_fixtures.py LEAKTOP FIXTURE_BIN_DIR FIXTURE_SRC_DIR CASE OPT"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expect import check_report, markers, merge, run_json  # noqa: E402

leaktop, bindir, srcdir, case, opt = sys.argv[1:6]


def fixture(name):
    return os.path.join(bindir, f"{name}_{opt}")


def src(name):
    return os.path.join(srcdir, name)


def report(reports, label):
    found = [r for r in reports if r["label"] == label]
    if not found:
        sys.exit(f"FAIL: no report labelled {label!r}; got {[r['label'] for r in reports]}")
    return found[-1]


def verify(reports, spec, what):
    problems = []
    for label, s in spec.items():
        problems += check_report(report(reports, label), s, f"{what} [{label}]")
    if problems:
        sys.exit("FAIL:\n  " + "\n  ".join(problems))


def expect_status(status, want, stderr):
    if status != want:
        sys.exit(f"FAIL: exit status {status}, want {want}; stderr: {stderr.strip()}")


def case_simple(name, source):
    status, reports, err = run_json(leaktop, [fixture(name)])
    expect_status(status, 0, err)
    labels = [r["label"] for r in reports]
    if labels != ["base", "after", "exit"]:
        sys.exit(f"FAIL: reports {labels}, want base, after, exit")
    if any(r["baseline"] != "base" for r in reports):
        sys.exit("FAIL: every report must compare against the first mark")
    verify(reports, markers(src(source)), f"{name}_{opt}")


def case_dlopen():
    plugins = [os.path.join(bindir, f"libfx_plugin_{c}.so") for c in "ab"]
    status, reports, err = run_json(leaktop, [fixture("fx_dlopen"), *plugins])
    expect_status(status, 0, err)
    verify(reports, merge(markers(src("fx_dlopen.c")), markers(src("fx_plugin.c"))), f"fx_dlopen_{opt}")
    row = [s for s in report(reports, "after")["stats"] if s["frames"][0]["function"] == "plugin_leak"]
    modules = {s["frames"][0]["module"] for s in report(reports, "after")["stats"]
               if s["frames"][0]["function"] == "plugin_leak"}
    if not row or not any(m and m.endswith("libfx_plugin_a.so") for m in modules):
        sys.exit(f"FAIL: plugin frames should name the plugin module, got {modules}")


def case_killed(sig):
    status, reports, err = run_json(leaktop, [fixture("fx_killed"), str(sig)])
    expect_status(status, 128 + sig, err)
    last = reports[-1] if reports else sys.exit("FAIL: no report after death")
    if (last["reason"], last.get("signal"), last["label"]) != ("signal", sig, "exit"):
        sys.exit(f"FAIL: last report reason={last['reason']} signal={last.get('signal')} label={last['label']}")
    verify(reports, markers(src("fx_killed.c")), f"fx_killed_{opt} (signal {sig})")


CASES = {
    "basic": lambda: case_simple("fx_basic", "fx_basic.c"),
    "cxx": lambda: case_simple("fx_cxx", "fx_cxx.cpp"),
    "threads": lambda: case_simple("fx_threads", "fx_threads.c"),
    "fork": lambda: case_simple("fx_fork", "fx_fork.c"),
    "dlopen": case_dlopen,
    "sigkill": lambda: case_killed(signal.SIGKILL),
    "sigsegv": lambda: case_killed(signal.SIGSEGV),
}

CASES[case]()
print(f"ok: {case} {opt}")
