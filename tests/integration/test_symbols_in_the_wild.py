#!/usr/bin/env python3
"""Symbols as distributions ship them, through the whole pipeline (issue
17): the JSON frames of `leaktop run --group traceback` on fx_inline
  - dwz-compressed (its names in a multifile, reached by
    .gnu_debugaltlink), equal the source's marks;
  - fully stripped, its debug file served by a local debuginfod (127.0.0.1,
    fresh DEBUGINFOD_CACHE_PATH): equal the marks; with --no-debuginfod,
    or without DEBUGINFOD_URLS: module+offset; --debuginfod without
    DEBUGINFOD_URLS is refused with one line;
  - against a server that never answers (DEBUGINFOD_TIMEOUT=2): leaktop
    finishes in bounded time with module+offset frames;
  - `leaktop show --modules SNAPSHOT` says where each module's debug info
    came from: in the object + dwz multifile, debuginfod, no symbols.
Usage: test_symbols_in_the_wild.py LEAKTOP BIN_DIR SRC_DIR WORK_DIR
Exit 77 when dwz or debuginfod is missing."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import inline_marks  # noqa: E402
from inline_marks import expected_frames  # noqa: E402
from debuginfod_server import Server, env_with, silent_server  # noqa: E402

leaktop, bindir, srcdir, work = sys.argv[1:5]


def report(exe, *extra, env=None):
    t0 = time.monotonic()
    p = subprocess.run([leaktop, "run", "--json", "--group", "traceback", "--top", "0", *extra, "--", exe],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120, env=env)
    took = time.monotonic() - t0
    if p.returncode != 0:
        return None, p.stderr, took
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stderr, took


def row(rep, size):
    rows = [s for s in rep["stats"] if s["size"] == size] if rep else []
    return rows[0] if rows else None


src = os.path.join(srcdir, "fx_inline.c")
want = expected_frames(src)


def frames_of(r):
    return inline_marks.frames_of(r, len(want))


def modules(snapdir, env=None):
    """{module basename: (debug info, debug file)} from show --modules."""
    snap = os.path.join(snapdir, sorted(os.listdir(snapdir))[-1])
    p = subprocess.run([leaktop, "show", "--modules", snap], capture_output=True, text=True, timeout=120, env=env)
    out = {}
    for line in p.stdout.splitlines()[1:]:
        f = line.split("\t")
        if len(f) == 5:
            out[os.path.basename(f[0])] = (f[2], f[3])
    return out


def bare(r):
    """module+offset frames only: no name, no file."""
    return r is not None and all(f["file"] is None and f["line"] == 0 for f in r["frames"][:1])


if not shutil.which("dwz") or not shutil.which("debuginfod"):
    print("dwz or debuginfod not installed: skipped")
    sys.exit(77)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)

# dwz: fx_inline and fx_names share a multifile.
dwzdir = os.path.join(work, "dwz")
os.makedirs(dwzdir)
for n in ("fx_inline", "fx_names"):
    shutil.copy(os.path.join(bindir, n), dwzdir)
subprocess.run(["dwz", "-m", "common.debug", "fx_inline", "fx_names"], cwd=dwzdir, capture_output=True)
sections = subprocess.run(["readelf", "-S", os.path.join(dwzdir, "fx_inline")], capture_output=True,
                          text=True).stdout
check("dwz linked fx_inline to a multifile", ".gnu_debugaltlink" in sections)
snaps = os.path.join(work, "snaps-dwz")
rep, err, _ = report(os.path.join(dwzdir, "fx_inline"), "--save", snaps)
got = frames_of(row(rep, 7777))
check("dwz: inlined chain, names and lines as the source says", got == want,
      f"\n   got  {got}\n   want {want}\n   {err}")
mods = modules(snaps)
check("show --modules: fx_inline's debug info is in the object + dwz multifile",
      mods.get("fx_inline", ("",))[0] == "in the object + dwz multifile", mods)

# debuginfod: the stripped copy, its debug file on a local server.
srvdir = os.path.join(work, "served")
os.makedirs(srvdir)
shutil.copy(os.path.join(bindir, "fx_inline_debuglink.debug"), srvdir)
stripped = os.path.join(bindir, "fx_inline_stripped")
bid = next(line.split()[-1] for line in subprocess.run(["readelf", "-n", stripped], capture_output=True,
                                                       text=True).stdout.splitlines() if "Build ID" in line)
rep, err, _ = report(stripped, "--debuginfod", env=env_with())
check("--debuginfod without DEBUGINFOD_URLS: refused in one line",
      rep is None and err.count("\n") == 1 and "DEBUGINFOD_URLS" in err, err)
server = Server(srvdir, work)
try:
    if check("debuginfod serves fx_inline's debug file", server.wait_indexed(bid)):
        env = env_with(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=os.path.join(work, "cache"),
                       DEBUGINFOD_TIMEOUT="10")
        asked = server.asked(bid)
        rep, err, _ = report(stripped, "--no-debuginfod", env=env)
        check("--no-debuginfod: not asked, module+offset",
              bare(row(rep, 7777)) and server.asked(bid) == asked, row(rep, 7777))
        snaps = os.path.join(work, "snaps-debuginfod")
        rep, err, took = report(stripped, "--save", snaps, env=env)
        got = frames_of(row(rep, 7777))
        check(f"stripped, DEBUGINFOD_URLS set: frames from debuginfod as the source says ({took:.1f} s)",
              got == want, f"\n   got  {got}\n   want {want}\n   {err}")
        check("the server was asked once", server.asked(bid) == asked + 1, server.asked(bid) - asked)
        mods = modules(snaps, env)
        info = mods.get("fx_inline_stripped", ("", ""))
        check("show --modules: fx_inline_stripped's debug info from debuginfod, in the cache",
              info[0] == "debuginfod" and info[1].startswith(os.path.join(work, "cache")), mods)
        mods = modules(snaps, env_with())
        check("show --modules without DEBUGINFOD_URLS: no symbols",
              mods.get("fx_inline_stripped", ("",))[0] == "no symbols", mods)
finally:
    server.stop()

sock, held = silent_server()
env = env_with(DEBUGINFOD_URLS="http://127.0.0.1:%d" % sock.getsockname()[1], DEBUGINFOD_TIMEOUT="2",
               DEBUGINFOD_CACHE_PATH=os.path.join(work, "cache-silent"))
rep, err, took = report(stripped, env=env)
check(f"silent server, DEBUGINFOD_TIMEOUT=2: leaktop done in {took:.1f} s (< 15), module+offset frames",
      took < 15 and bare(row(rep, 7777)), err)
sock.close()
for c in held:
    c.close()
sys.exit(finish())
