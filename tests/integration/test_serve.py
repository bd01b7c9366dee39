#!/usr/bin/env python3
"""--serve ADDR:PORT (PRODUCT.md §13) while a fixture runs: `go tool pprof`
reads /debug/pprof/heap with the fixture's exact blocks, /metrics parses as
Prometheus text with exact totals and since-baseline figures, 50 concurrent
requests are all answered, bad requests get HTTP errors and the server
goes on; a bad ADDR:PORT or a port in use is one line before the program
starts. Loopback only.
Usage: test_serve.py LEAKTOP TUI_FIXTURE TUI_FIXTURE_SOURCE"""
import concurrent.futures
import gzip
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

leaktop, fixture, fixture_src = sys.argv[1:4]
GO = shutil.which("go")
TIMEOUT = 30
src = open(fixture_src).read().splitlines()
BIG_LINE = next(i + 1 for i, l in enumerate(src) if "BIG LINE" in l)

PROM_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? '
                       r'(-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[+-]Inf|NaN)( -?[0-9]+)?$')


def prometheus(text):
    """Parses the text exposition format 0.0.4 strictly: {name: value};
    raises on any line that is not a comment, HELP/TYPE or a sample."""
    values, types = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            if kind not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError("bad TYPE " + line)
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = PROM_LINE.match(line)
        if not m:
            raise ValueError("not a sample line: " + line)
        if m.group(1) not in types:
            raise ValueError("sample before its TYPE: " + line)
        values[m.group(1)] = float(m.group(4))
    return values


def get(url, method="GET", headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_line(stream, pattern, deadline):
    while time.time() < deadline:
        line = stream.readline()
        if not line:
            return None
        m = re.search(pattern, line)
        if m:
            return m
    return None


tmp = tempfile.mkdtemp(prefix="leaktop-serve-")
env = dict(os.environ, PPROF_TMPDIR=tmp, HOME=tmp)
proc = subprocess.Popen([leaktop, "run", "--batch", "--serve", "127.0.0.1:0", "--", fixture],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
try:
    deadline = time.time() + TIMEOUT
    m = wait_line(proc.stderr, r"serving (http://127\.0\.0\.1:\d+)/debug/pprof/heap", deadline)
    check("--serve 127.0.0.1:0 says its URL on stderr", m is not None)
    base = m.group(1) if m else "http://127.0.0.1:1"
    pid = wait_line(proc.stdout, r"fixture ready pid (\d+)", deadline)
    check("the fixture runs", pid is not None)

    # 1. go tool pprof against the live endpoint.
    if check("go tool pprof is installed (scripts/setup.sh: golang-go)", GO is not None):
        raw = subprocess.run([GO, "tool", "pprof", "-symbolize=none", "-raw", base + "/debug/pprof/heap"],
                             capture_output=True, text=True, env=env, timeout=120)
        samples = re.findall(r"^\s+(\d+)\s+(\d+): ((?:\d+ )+)", raw.stdout, re.M)
        locs = dict(re.findall(r"^\s+(\d+): 0x[0-9a-f]+ M=\d+ (.*)$", raw.stdout, re.M))
        big = [s for s in samples if any(f"tui_fixture.c:{BIG_LINE} " in locs.get(i, "") for i in s[2].split()[:1])]
        check("go tool pprof http://.../debug/pprof/heap: the 100 x 10000 B of the big line, exactly",
              raw.returncode == 0 and [(int(a), int(b)) for a, b, _ in big] == [(100, 1000000)],
              raw.stderr[-400:] + str(big))
        top = subprocess.run([GO, "tool", "pprof", "-top", base + "/debug/pprof/heap"],
                             capture_output=True, text=True, env=env, timeout=120)
        check("go tool pprof -top reads it as a heap profile", "Type: inuse_space" in top.stdout, top.stderr[-300:])

    # 2. /metrics, a strict Prometheus text parse.
    status, body = get(base + "/metrics")
    try:
        before = prometheus(body.decode())
    except ValueError as e:
        before = {}
        check("/metrics parses as Prometheus text", False, str(e))
    names = set(before)
    check("/metrics: leaktop_ names for traced and since-baseline bytes and blocks",
          status == 200 and {"leaktop_traced_bytes", "leaktop_traced_blocks", "leaktop_since_baseline_bytes",
                             "leaktop_since_baseline_blocks"} <= names and all(n.startswith("leaktop_") for n in names),
          names)
    check("/metrics: the fixture's blocks are traced", before.get("leaktop_traced_bytes", 0) >= 1051000, before)
    check("/metrics: no baseline yet: since baseline = traced",
          before.get("leaktop_since_baseline_bytes") == before.get("leaktop_traced_bytes"), before)
    check("/metrics: no baseline yet: all of it is retained",
          before.get("leaktop_retained_bytes") == before.get("leaktop_traced_bytes"), before)

    if pid:
        os.kill(int(pid.group(1)), signal.SIGUSR1)   # marks "before-leak" (the baseline), leaks, frees
        wait_line(proc.stdout, r"triggered", deadline)
    after = prometheus(get(base + "/metrics")[1].decode())
    check("/metrics after the mark: since baseline +200 x 256 - 50 x 1000 B, +150 blocks",
          after.get("leaktop_since_baseline_bytes") == 1200 and after.get("leaktop_since_baseline_blocks") == 150,
          after)
    check("/metrics after the mark: retained since it is the leak alone, 200 x 256 B",
          after.get("leaktop_retained_bytes") == 51200 and after.get("leaktop_retained_blocks") == 200, after)

    # 3. 50 concurrent requests, bounded.
    def one(i):
        path = "/debug/pprof/heap" if i % 2 else "/metrics"
        status, body = get(base + path)
        if status != 200:
            return f"{path}: {status}"
        if path == "/metrics":
            prometheus(body.decode())
        elif not gzip.decompress(body):
            return "empty profile"
        return None
    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50), timeout=120))
    bad = [r for r in results if r]
    check("50 concurrent requests: all answered 200 with whole bodies", not bad, bad[:5])

    # 4. Bad requests: HTTP errors, and the server goes on.
    check("wrong path: 404", get(base + "/debug/pprof/profile")[0] == 404)
    check("POST: 405", get(base + "/metrics", method="POST")[0] == 405)
    status, _ = get(base + "/metrics", headers={"X-Huge": "a" * 100000})
    check("huge headers: a 4xx, not a crash", 400 <= status < 500, status)
    host, port = base[len("http://"):].split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = s.recv(200)
    check("garbage request line: an HTTP error or a close", reply == b"" or re.match(rb"HTTP/1\.[01] 4\d\d", reply),
          reply)
    check("the server still answers after them", get(base + "/metrics")[0] == 200)

    if pid:
        os.kill(int(pid.group(1)), signal.SIGUSR2)
    rc = proc.wait(timeout=TIMEOUT)
    check("leaktop ends with the program's status", rc == 0, rc)
finally:
    if proc.poll() is None:
        proc.kill()
        proc.wait()

# 5. Bad ADDR:PORT, port in use: one line, and the program never starts.
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen(1)
busy_port = busy.getsockname()[1]
marker = os.path.join(tmp, "started")
for spec, why in ((f"127.0.0.1:{busy_port}", "in use"), ("nonsense", "ADDR:PORT"), ("127.0.0.1:99999", "ADDR:PORT"),
                  ("8.8.8.8:6060", "assign")):
    p = subprocess.run([leaktop, "run", "--batch", "--serve", spec, "--", "sh", "-c", f"touch {marker}"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    check(f"--serve {spec}: one line, status 2, the program not started",
          p.returncode == 2 and p.stderr.count("\n") == 1 and p.stderr.startswith(f"leaktop: --serve {spec}: ")
          and why in p.stderr and not os.path.exists(marker), (p.returncode, p.stderr))
busy.close()
p = subprocess.run([leaktop, "diff", "a", "b", "--serve", "127.0.0.1:0"], capture_output=True, text=True)
check("diff refuses --serve", p.returncode == 2 and "does not apply" in p.stderr, p.stderr)
shutil.rmtree(tmp, ignore_errors=True)
sys.exit(finish())
