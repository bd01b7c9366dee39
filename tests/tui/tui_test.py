#!/usr/bin/env python3
"""TUI tests of leaktop's live view in a real terminal (tmux).

usage: tui_test.py LEAKTOP FIXTURE FIXTURE_SOURCE TEST_NAME [RATES RATES_SOURCE DEMO]

Each test starts its own tmux server (socket ltt-<pid>-<n>), drives the view
with send-keys, reads it with capture-pane, and kills the server at the end.
The fixture (tui_fixture.c) leaks 200 x 256 B on SIGUSR1 and exits on SIGUSR2,
so each test decides when things happen. tui_rates.c runs a steady leak beside
a bigger cache at its plateau, for the rate sort; DEMO is leaktop-demo, the
README's walk-through. Waits poll the screen; no test
relies on a fixed sleep alone.
"""
import contextlib
import glob
import gzip
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

LEAKTOP = FIXTURE = FIXTURE_SRC = RATES = RATES_SRC = DEMO = None   # set by main() from argv
LEAK_LINE = CALL_LINE = BIG_LINE = FREE_LINE = 0
TIMEOUT = 8.0
UTF8_ENV = {"LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


def source_line(marker, path=None):
    """Line number of the fixture source line holding the marker comment."""
    with open(path or FIXTURE_SRC) as f:
        for n, line in enumerate(f, 1):
            if marker in line:
                return n
    raise AssertionError("marker %r not in %s" % (marker, FIXTURE_SRC))




class Term:
    """One tmux server with one window running leaktop."""
    count = 0

    def __init__(self, args, cols=80, rows=24, env=None):
        Term.count += 1
        self.sock = "ltt-%d-%d" % (os.getpid(), Term.count)
        # leaktop's current directory (w writes there) and TMPDIR (the log,
        # y copies): removed with everything in it at close.
        self.workdir = tempfile.mkdtemp(prefix=self.sock + "-")
        self.status_file = os.path.join(self.workdir, "status")
        full_env = dict(UTF8_ENV, TMPDIR=self.workdir)
        full_env.update(env or {})
        envs = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in full_env.items())
        cmd = "cd %s && env %s %s %s; echo $? > %s; sleep 60" % (
            shlex.quote(self.workdir), envs, shlex.quote(LEAKTOP),
            " ".join(shlex.quote(a) for a in args), shlex.quote(self.status_file))
        self.tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), "-s", "t", cmd)

    def tmux(self, *args, check=True):
        env = dict(os.environ)
        env.update(UTF8_ENV)
        env.pop("TMUX", None)
        return subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(args),
                              check=check, capture_output=True, text=True, env=env).stdout

    def keys(self, *keys):
        for k in keys:
            self.tmux("send-keys", "-t", "t", "--", k)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "t")

    def lines(self):
        return self.screen().split("\n")

    def wait(self, what, timeout=TIMEOUT, poll=0.05):
        """Polls until what (a regex, or a predicate of the screen) holds."""
        deadline = time.time() + timeout
        while True:
            s = self.screen()
            ok = re.search(what, s, re.M) if isinstance(what, str) else what(s)
            if ok:
                return s
            if time.time() > deadline:
                raise AssertionError("timed out waiting for %r; screen:\n%s" % (what, s))
            time.sleep(poll)

    def pid(self):
        """The traced program's pid, from the header."""
        m = re.search(r"\[(\d+)\]", self.wait(r"\[\d+\]"))
        return int(m.group(1))

    def exit_status(self, timeout=TIMEOUT):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.status_file):
                with open(self.status_file) as f:
                    text = f.read().strip()
                if text:
                    return int(text)
            time.sleep(0.05)
        raise AssertionError("leaktop did not end; screen:\n" + self.screen())

    def close(self):
        self.tmux("kill-server", check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)


def table_rows(screen):
    """Table rows: lines that start with a signed size."""
    return [l for l in screen.split("\n") if re.match(r"^\s*[+-]\d", l)]


def loc(line):
    return r"tui_fixture\.c:%d\b" % line


def start(**kw):
    """Starts the view on the fixture and waits until the fixture finished
    its set-up allocations (100 x 10000 B, then 50 x 1000 B): a screen or a
    baseline taken earlier would catch it half-way."""
    t = Term(["run", "--", FIXTURE], **kw)
    t.wait(r"977 KiB\s+100\s.*" + loc(BIG_LINE))
    t.wait(r"48\.8 KiB\s+50\s")
    return t


def expect(cond, msg, t):
    if not cond:
        raise AssertionError(msg + "; screen:\n" + t.screen())


def process_gone(pid, timeout=TIMEOUT):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def copy_screen(t):
    """y, then the copied text from the file the footer names (removed)."""
    t.keys("y")
    s = t.wait(r"screen copied: \S+\.txt")
    path = re.search(r"screen copied: (\S+\.txt)", s).group(1)
    with open(path) as f:
        text = f.read()
    os.unlink(path)
    return text


def sort_to(t, name):
    """s until the header says `sort NAME` (the cycle is the help's)."""
    for _ in range(8):
        if re.search(r"sort %s\b" % name, t.screen()):
            return
        before = re.search(r"sort (\w+)", t.screen()).group(1)
        t.keys("s")
        t.wait(lambda s: re.search(r"sort (\w+)", s) and re.search(r"sort (\w+)", s).group(1) != before)
    raise AssertionError("no sort %s in the cycle; screen:\n%s" % (name, t.screen()))


def leak_after_baseline(t):
    """b, then the fixture leaks; returns the screen once the leak shows."""
    t.keys("b")
    t.wait(r"baseline b1")
    os.kill(t.pid(), signal.SIGUSR1)
    return t.wait(r"\+50\.0 KiB\s+\+200 ")


# ---- tests ---------------------------------------------------------------------

def test_largest_live_line_first_before_baseline(t):
    s = t.wait(r"977 KiB\s+100\s.*" + loc(BIG_LINE))
    rows = table_rows(s)
    expect(rows and re.search(loc(BIG_LINE), rows[0]), "largest line not on top", t)
    expect(re.search(r"\+977 KiB\s+\+100\s+977 KiB\s+100", rows[0]), "wrong numbers for the big line", t)
    expect("baseline none" in s, "baseline should be none", t)


def test_leak_rises_to_top_with_exact_diff(t):
    s = leak_after_baseline(t)
    rows = table_rows(s)
    expect(re.search(r"^\s*\+50\.0 KiB\s+\+200\s+50\.0 KiB\s+200\b", rows[0]), "leak not on top", t)
    expect(re.search(loc(LEAK_LINE), rows[0]) and "leak_blocks" in rows[0], "leak row location", t)
    freed = [r for r in rows if re.search(loc(FREE_LINE), r)]
    expect(freed and re.search(r"^\s*-48\.8 KiB\s+-50\s+0 B\s+0\b", freed[0]), "freed line diff", t)
    expect(re.search(r"since baseline \+1200 B, \+150 blocks", s), "header diff since baseline", t)


def test_enter_shows_call_site_of_leak(t):
    leak_after_baseline(t)
    t.keys("Home", "Enter")
    s = t.wait(r"on_trigger")
    expect(re.search(r"> #0\s+leak_blocks\s+\S*" + loc(LEAK_LINE), s), "leak frame #0", t)
    expect(re.search(r"#1\s+on_trigger\s+\S*" + loc(CALL_LINE), s), "call site frame #1", t)
    expect(re.search(r"1 traceback reaches", s), "title", t)
    t.keys("Escape")
    t.wait(r"\+Size\s+\+Count")


def test_g_cycles_grouping_in_header(t):
    for name in ["traceback", r"lineno\+cumulative", "filename", "lineno "]:
        t.keys("g")
        t.wait(r"group " + name)
    t.keys("c")
    t.wait(r"group lineno\+cumulative")


def test_s_cycles_sort(t):
    for name in ["absolute", "freed", "size", "retained", "rate", "growth"]:
        t.keys("s")
        t.wait(r"sort " + name)


def test_q_ends_leaktop_and_program(t):
    pid = t.pid()
    t.keys("q")
    expect(t.exit_status() == 0, "leaktop exit status", t)
    expect(process_gone(pid), "program still running after q", t)


def check_coherent(t, cols):
    s = t.screen()
    lines = s.rstrip("\n").split("\n")
    for l in lines:
        expect(len(l) <= cols, "line longer than %d: %r" % (cols, l), t)
    expect(lines[0].startswith("leaktop "), "header missing", t)
    return s


def test_resize_keeps_screen_coherent(t):
    for cols, rows in [(120, 40), (100, 30), (80, 24), (60, 15), (132, 50)]:
        t.tmux("resize-window", "-t", "t", "-x", str(cols), "-y", str(rows))
        t.wait(lambda s, c=cols: len(s.split("\n")[0]) <= c and "+Size" in s and
               re.search(loc(BIG_LINE), s))
        check_coherent(t, cols)
    t.tmux("resize-window", "-t", "t", "-x", "40", "-y", "10")
    t.wait(r"too small")
    t.tmux("resize-window", "-t", "t", "-x", "80", "-y", "24")
    t.wait(r"\+Size")
    check_coherent(t, 80)


def test_vt100_no_color_80x24(t):
    s = t.wait(loc(BIG_LINE))
    check_coherent(t, 80)
    expect(len(s.rstrip("\n").split("\n")) <= 24, "more than 24 rows", t)
    leak_after_baseline(t)
    check_coherent(t, 80)


def test_ascii_when_locale_not_utf8(t):
    os.kill(t.pid(), signal.SIGUSR1)   # something changes: the sparkline has levels
    s = t.wait(lambda s: re.search(r"memory [_.\-=#]*#", s))
    for ch in s:
        expect(ord(ch) < 128, "non-ASCII character %r on screen" % ch, t)


def test_exit_shows_status_and_stays_explorable(t):
    os.kill(t.pid(), signal.SIGUSR1)
    t.wait(loc(LEAK_LINE))
    os.kill(t.pid(), signal.SIGUSR2)
    s = t.wait(r"exited 0")
    expect(re.search(loc(LEAK_LINE), s), "final state lost", t)
    t.keys("g")
    t.wait(r"group traceback")
    t.keys("Home", "Enter")
    t.wait(r"traceback(s)? reach")
    t.keys("Escape", "q")
    expect(t.exit_status() == 0, "exit status of leaktop should be the program's (0)", t)


def test_help_lists_every_key(t):
    t.keys("?")
    s = t.wait(r"Help")
    pages = 0
    pos = re.compile(r"\[\d+-\d+ of \d+\]")
    while "refresh every" not in s and pages < 10:   # page through all of it
        before = pos.search(t.screen()).group(0)
        t.keys("PgDn")
        pages += 1
        s += t.wait(lambda scr: pos.search(scr) and pos.search(scr).group(0) != before)
    for name in ["b ", "B ", "g ", "c ", "s ", "Enter", "Esc", "Up", "PgUp", "Home", "/ ", "p ",
                 "w ", "y ", "l ", "m ", "? ", "q "]:
        expect(re.search(r"^\s+" + re.escape(name), s, re.M), "help lacks key %r" % name, t)
    t.keys("Escape")
    t.wait(r"\+Size")


def test_program_mark_becomes_baseline_and_m_lists_it(t):
    os.kill(t.pid(), signal.SIGUSR1)
    s = t.wait(r"baseline before-leak")
    s = t.wait(r"^\s*\+50\.0 KiB\s+\+200 ")
    expect(re.search(loc(LEAK_LINE), table_rows(s)[0]), "leak not on top after the program's mark", t)
    t.keys("b")
    t.wait(r"baseline b1")
    t.keys("m")
    s = t.wait(r"Marks \(")
    expect(re.search(r"before-leak\s+program", s) and re.search(r"\* #2 .* b1\s+key b", s), "marks list", t)
    t.keys("Up", "Enter")   # back to the program's mark
    t.wait(r"baseline before-leak")
    t.wait(r"^\s*\+50\.0 KiB\s+\+200 ")


def test_filter_prompt_excludes_and_clears(t):
    t.keys("/")
    t.wait(r"filter \(")
    t.keys("-tui_fixture.c", "Enter")
    s = t.wait(r"filter -tui_fixture\.c")
    s = t.wait(lambda s: not re.search(r"tui_fixture\.c:\d", s))
    t.keys("/", "C-u", "Enter")
    t.wait(r"filter none")
    t.wait(loc(BIG_LINE))
    t.keys("/", "C-u", "tui_fixture.c:%d" % BIG_LINE, "Enter")
    s = t.wait(r"filter tui_fixture")
    s = t.wait(lambda s: len(table_rows(s)) == 1)
    expect(re.search(loc(BIG_LINE), table_rows(s)[0]), "line filter", t)


def test_l_shows_program_log(t):
    t.keys("l")
    t.wait(r"Program output: ")
    t.wait(r"fixture ready pid \d+")
    os.kill(t.pid(), signal.SIGUSR1)
    t.wait(r"triggered: leaked 200")
    t.keys("Escape")
    t.wait(r"\+Size")


def test_w_writes_snapshot_files(t):
    leak_after_baseline(t)
    t.keys("w")
    s = t.wait(r"wrote \S+, baseline \S+")
    m = re.search(r"wrote (\S+), baseline (\S+)", s)
    cur, base = (os.path.join(t.workdir, p) for p in m.groups())
    out = subprocess.run([LEAKTOP, "diff", base, cur], capture_output=True, text=True, check=True).stdout
    expect(re.search(r"\+50\.0 KiB\s+blocks \+200 .*tui_fixture\.c:%d" % LEAK_LINE, out), "diff of written files: " + out, t)
    # Beside each file, its pprof form (PRODUCT.md §13), which pprof reads.
    pbs = [p[:-len(".ltsnap")] + ".pb.gz" for p in (cur, base)]
    for pb in pbs:
        expect(os.path.exists(pb) and open(pb, "rb").read(2) == b"\x1f\x8b", "gzipped pprof beside the file: " + pb, t)
    if shutil.which("go"):
        raw = subprocess.run(["go", "tool", "pprof", "-raw", pbs[0]], capture_output=True, text=True)
        expect(raw.returncode == 0 and "tui_fixture.c:%d" % LEAK_LINE in raw.stdout, "go tool pprof -raw: " + raw.stderr, t)
    for p in [cur, base] + pbs:
        os.unlink(p)


def test_y_copies_screen_as_text(t):
    t.tmux("set-option", "-g", "set-clipboard", "on")   # tmux keeps OSC 52 copies as buffers
    leak_after_baseline(t)
    t.keys("y")
    s = t.wait(r"screen copied: \S+\.txt")
    path = re.search(r"screen copied: (\S+\.txt)", s)
    expect(path, "copy path in the footer", t)
    with open(path.group(1)) as f:
        text = f.read()
    os.unlink(path.group(1))
    expect(text.startswith("leaktop ") and re.search(r"\+50\.0 KiB\s+\+200 .*" + loc(LEAK_LINE), text),
           "copied text: " + text, t)
    deadline = time.time() + TIMEOUT
    while time.time() < deadline and t.tmux("show-buffer", check=False) != text:
        time.sleep(0.05)
    expect(t.tmux("show-buffer", check=False) == text, "OSC 52 clipboard (tmux buffer) differs from the file", t)


def test_p_pauses_view_not_program(t):
    t.keys("p")
    t.wait(r"PAUSED")
    os.kill(t.pid(), signal.SIGUSR1)
    time.sleep(1.2)   # two refresh periods: a paused view must not change
    expect(not re.search(loc(LEAK_LINE), t.screen()), "paused view changed", t)
    t.keys("p")
    t.wait(loc(LEAK_LINE))


def test_killed_by_signal_keeps_final_state(t):
    os.kill(t.pid(), signal.SIGUSR1)
    t.wait(loc(LEAK_LINE))
    os.kill(t.pid(), signal.SIGKILL)
    s = t.wait(r"killed by signal 9")
    expect(re.search(r"\+50\.0 KiB\s+\+200 .*" + loc(LEAK_LINE), s), "final state after SIGKILL", t)
    t.keys("q")
    expect(t.exit_status() == 128 + 9, "exit status after the program's death by SIGKILL", t)


def test_sigstop_shows_stopped_then_running(t):
    pid = t.pid()
    os.kill(pid, signal.SIGSTOP)
    try:
        t.wait(r"\bstopped\b")
    finally:
        os.kill(pid, signal.SIGCONT)
    t.wait(r"\brunning\b")


def private_dir(t):
    """The directory leaktop made for its own files (the log, y copies)."""
    dirs = [d for d in os.listdir(t.workdir) if d.startswith("leaktop-") and
            os.path.isdir(os.path.join(t.workdir, d))]
    expect(len(dirs) == 1, "one private directory in TMPDIR, got %r" % dirs, t)
    return os.path.join(t.workdir, dirs[0])


def test_own_files_private_and_log_removed_at_quit(t):
    d = private_dir(t)
    st = os.lstat(d)
    expect(stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == os.geteuid(),
           "private directory mode %o uid %d" % (st.st_mode, st.st_uid), t)
    logs = [f for f in os.listdir(d) if f.endswith(".log")]
    expect(len(logs) == 1 and stat.S_IMODE(os.lstat(os.path.join(d, logs[0])).st_mode) == 0o600,
           "one 0600 log in it: %r" % logs, t)
    t.keys("y")
    s = t.wait(r"screen copied: \S+\.txt")
    copy = re.search(r"screen copied: (\S+\.txt)", s).group(1)
    expect(os.path.dirname(copy) == d and stat.S_IMODE(os.lstat(copy).st_mode) == 0o600,
           "y copy %s is a 0600 file in %s" % (copy, d), t)
    os.unlink(copy)
    t.keys("q")
    expect(t.exit_status() == 0, "exit status", t)
    expect(not os.path.exists(d), "log and private directory left after q: %r" %
           (os.listdir(d) if os.path.exists(d) else None), t)


def test_keep_log_keeps_program_output(_):
    t = Term(["run", "--keep-log", "--", FIXTURE])
    try:
        t.wait(loc(BIG_LINE))
        d = private_dir(t)
        t.keys("q")
        expect(t.exit_status() == 0, "exit status", t)
        logs = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(".log")]
        expect(len(logs) == 1, "--keep-log: log kept", t)
        with open(logs[0]) as f:
            expect("fixture ready pid" in f.read(), "the program's output in the kept log", t)
    finally:
        t.close()


def test_save_writes_marks_and_final_state(_):
    """--save in the live view, as in batch: a file at every mark and at the end."""
    t = Term(["run", "--save", "snaps", "--", FIXTURE])
    try:
        t.wait(r"977 KiB\s+100\s.*" + loc(BIG_LINE))
        os.kill(t.pid(), signal.SIGUSR1)          # the fixture marks "before-leak"
        t.wait(r"baseline before-leak")
        os.kill(t.pid(), signal.SIGUSR2)          # and exits
        t.wait(r"exited 0")
        t.keys("q")
        expect(t.exit_status() == 0, "exit status", t)
        d = os.path.join(t.workdir, "snaps")
        files = sorted(os.listdir(d))
        expect(any(f.endswith("before-leak.ltsnap") for f in files) and any(f.endswith("exit.ltsnap") for f in files),
               "snapshot files for the mark and the end: %r" % files, t)
        mark, = [os.path.join(d, f) for f in files if f.endswith("before-leak.ltsnap")]
        end, = [os.path.join(d, f) for f in files if f.endswith("exit.ltsnap")]
        out = subprocess.run([LEAKTOP, "diff", mark, end], capture_output=True, text=True, check=True).stdout
        expect(re.search(r"\+50\.0 KiB\s+blocks \+200 .*tui_fixture\.c:%d" % LEAK_LINE, out),
               "diff of the saved mark and end: " + out, t)
    finally:
        t.close()


@contextlib.contextmanager
def preloaded_fixture():
    """The fixture started with the tracer preloaded (no launcher), for
    attach; ended afterwards, and its segment removed (nobody watched it
    end, so the segment it keeps for a frontend is ours to remove)."""
    tracer = os.path.join(os.path.dirname(LEAKTOP), "..", "lib", "leaktop", "libleaktop.so")
    env = dict(os.environ, LD_PRELOAD=os.path.abspath(tracer))
    prog = subprocess.Popen([FIXTURE], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield prog
    finally:
        prog.send_signal(signal.SIGUSR2)
        prog.wait(timeout=5)
        for seg in glob.glob("/dev/shm/leaktop-%d-%d-*" % (os.geteuid(), prog.pid)):
            os.unlink(seg)


def test_attach_q_leaves_program_running(_):
    with preloaded_fixture() as prog:
        a = Term(["attach", str(prog.pid)])
        try:
            s = a.wait(loc(BIG_LINE))
            expect("[%d]" % prog.pid in s, "attached pid in the header", a)
            a.keys("q")
            expect(a.exit_status() == 0, "exit status of attach", a)
            expect(prog.poll() is None, "attached program ended by q", a)
        finally:
            a.close()


def test_attach_injected_leak_appears_q_detaches(_):
    """attach to a program started WITHOUT the tracer: it is injected, the
    header says the figures are since the attach, a leak made afterwards
    shows at its line to the byte, and q detaches: the program runs on
    untraced (no segment left), a second attach starts from zero, and the
    program exits normally later."""
    prog = subprocess.Popen([FIXTURE], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)   # its start-up allocations are made before the attach
        a = Term(["attach", str(prog.pid)])
        try:
            s = a.wait(r"since attach")
            expect("[%d]" % prog.pid in s and "attached " in s.split("\n")[0], "attach header", a)
            os.kill(prog.pid, signal.SIGUSR1)
            a.wait(r"\+50\.0 KiB\s+\+200\s.*" + loc(LEAK_LINE))
            a.keys("q")
            expect(a.exit_status() == 0, "exit status of attach", a)
            time.sleep(0.2)
            os.kill(prog.pid, signal.SIGUSR1)   # a call after the detach: dormant, and takes it if not yet
            time.sleep(0.2)
            expect(prog.poll() is None, "program ended by q", a)
            expect(not glob.glob("/dev/shm/leaktop-%d-%d-*" % (os.geteuid(), prog.pid)), "segment left", a)
        finally:
            a.close()
        again = Term(["attach", str(prog.pid)])   # as a new user would: attach again
        try:
            s = again.wait(r"since attach")
            expect(not re.search(loc(LEAK_LINE), s), "a new attach starts from zero", again)
            again.keys("q")
            expect(again.exit_status() == 0, "exit status of the second attach", again)
        finally:
            again.close()
    finally:
        prog.send_signal(signal.SIGUSR2)
        rc = prog.wait(timeout=5)
    if rc != 0:
        raise AssertionError("program exit status after the detach: %d" % rc)


def test_sampled_header_says_estimates_and_big_line_tops(_):
    """--sample: the header's first line says the figures are estimates,
    whole at 80 columns, and the largest line still tops the table: 100
    blocks of 10000 B at 4 KiB are each sampled with probability 0.91, so
    its estimate is within ~3% (one standard deviation), and the next
    line, 50 x 1000 B, is ~20 times smaller."""
    t = Term(["run", "--sample", "4K", "--", FIXTURE])
    try:
        s = t.wait(r"sampled every 4 KiB: estimates")
        expect("sampled every 4 KiB: estimates" in s.split("\n")[0], "note not on the first line", t)
        t.wait(loc(BIG_LINE))
        rows = table_rows(t.screen())
        expect(rows and re.search(loc(BIG_LINE), rows[0]), "largest line not on top", t)
    finally:
        t.close()


def test_serve_answers_while_the_view_runs(_):
    """--serve in the live view: the loop publishes snapshots between refreshes."""
    with socket.socket() as probe:   # a free loopback port for the view to bind
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    t = Term(["run", "--serve", "127.0.0.1:%d" % port, "--", FIXTURE])
    try:
        t.wait(r"977 KiB\s+100\s.*" + loc(BIG_LINE))
        base = "http://127.0.0.1:%d" % port
        with urllib.request.urlopen(base + "/metrics", timeout=TIMEOUT) as r:
            metrics = r.read().decode()
        m = re.search(r"^leaktop_traced_bytes\{[^}]*\} (\d+)$", metrics, re.M)
        expect(m and int(m.group(1)) >= 1051000, "metrics from the view: " + metrics, t)
        with urllib.request.urlopen(base + "/debug/pprof/heap", timeout=TIMEOUT) as r:
            profile = gzip.decompress(r.read())
        expect(b"inuse_space" in profile and b"tui_fixture.c" in profile, "pprof from the view", t)
        t.keys("q")
        expect(t.exit_status() == 0, "exit status", t)
    finally:
        t.close()


def test_attach_serve_answers_and_detaches(_):
    """attach --serve: the endpoint answers for an attached program, and q
    leaves the program running and the port free again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with preloaded_fixture() as prog:
        a = Term(["attach", "--serve", "127.0.0.1:%d" % port, str(prog.pid)])
        try:
            a.wait(loc(BIG_LINE))
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=TIMEOUT) as r:
                metrics = r.read().decode()
            expect(re.search(r'^leaktop_traced_bytes\{pid="%d"\} \d+$' % prog.pid, metrics, re.M)
                   and "(since attach)" in metrics, "metrics of the attached program: " + metrics, a)
            with urllib.request.urlopen("http://127.0.0.1:%d/debug/pprof/heap" % port, timeout=TIMEOUT) as r:
                expect(b"tui_fixture.c" in gzip.decompress(r.read()), "pprof of the attached program", a)
            a.keys("q")
            expect(a.exit_status() == 0, "exit status of attach", a)
            expect(prog.poll() is None, "attached program ended by q", a)
            with socket.socket() as again:   # the listener is gone with the view
                again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # past TIME_WAIT, not a listener
                again.bind(("127.0.0.1", port))
        finally:
            a.close()


def test_suspect_marked_counted_copied_then_clears(_):
    """A line that keeps leaking (SIGUSR1 every 150 ms) gets the suspect
    mark and the header counts it; y copies both; once it stops, its floor
    no longer rises and the suspect clears within the 2 s window."""
    t = Term(["run", "--window", "2", "--interval", "100", "--", FIXTURE])
    try:
        t.wait(r"977 KiB\s+100\s.*" + loc(BIG_LINE))
        pid = t.pid()
        deadline = time.time() + 3 * TIMEOUT
        s = t.screen()
        while not re.search(r"suspects 1 \(window 2s\)", s):
            expect(time.time() < deadline, "no suspect while leaking", t)
            os.kill(pid, signal.SIGUSR1)
            time.sleep(0.15)
            s = t.screen()
        marked = [l for l in table_rows(s) if "!" in l]
        expect(len(marked) == 1 and re.search(loc(LEAK_LINE), marked[0]), "the leak's row alone is marked", t)
        text = copy_screen(t)
        expect("suspects 1 (window 2s)" in text and
               any("!" in l and re.search(loc(LEAK_LINE), l) for l in text.split("\n")),
               "y copies the mark and the count: " + text, t)
        s = t.wait(r"suspects 0 \(window 2s\)")
        expect(not [l for l in table_rows(s) if "!" in l], "no mark once the leak stopped", t)
        t.keys("q")
        expect(t.exit_status() == 0, "exit status", t)
    finally:
        t.close()


# ---- marks, any baseline, mark vs mark (frozen), the rate sort ------------------------

def ltmark(t, label):
    """`leaktop mark PID LABEL` from another shell, as a user would."""
    subprocess.run([LEAKTOP, "mark", str(t.pid()), label], check=True, capture_output=True, timeout=TIMEOUT)


def make_marks(t):
    """Four marks with known contents, then b: #1 b1 (key b, before any
    leak), #2 before-leak (program, then 200 x 256 B leak and the 50 x
    1000 B go), #3 ext (leaktop mark), #4 before-leak (program, then 200
    more leak), #5 b2 (key b). The leak line holds 0, 200, 200, 400 blocks
    at #1 .. #5 (#4 before its leak), the freeable line 50, 50, 0, 0, 0."""
    t.keys("b")
    t.wait(r"baseline b1")
    os.kill(t.pid(), signal.SIGUSR1)
    t.wait(r"^\s*\+50\.0 KiB\s+\+200 ")
    ltmark(t, "ext")
    t.wait(r'leaktop mark took "ext"')
    os.kill(t.pid(), signal.SIGUSR1)
    t.wait(r"^\s*\+100 KiB\s+\+400 ")
    t.keys("b")
    t.wait(r"baseline b2")


def open_marks(t):
    t.keys("m")
    return t.wait(r"Marks \(")


def pick_mark(t, number, key):
    """On the marks screen: select mark #number, then press key."""
    open_marks(t)
    # The selection starts on the baseline: a page up (Home's sequence
    # differs between terminfo entries) reaches the first, then down.
    t.keys("PPage")
    for _ in range(number - 1):
        t.keys("Down")
    t.keys(key)


def test_marks_screen_lists_every_mark_80x24_no_color(t):
    make_marks(t)
    s = open_marks(t)
    check_coherent(t, 80)
    want = [(1, "b1", "key b"), (2, "before-leak", "program"), (3, "ext", "leaktop mark"),
            (4, "before-leak", "program"), (5, "b2", "key b")]
    for n, label, source in want:
        expect(re.search(r"#%d\s+at\s+\d+\.\d s\s+%s\s+%s\s" % (n, re.escape(label), re.escape(source)), s),
               "mark #%d %s %s listed" % (n, label, source), t)
    expect(re.search(r"^\s*\*\s*#5 ", s, re.M), "the baseline (#5) carries *", t)
    # 100 x 10000 + 50 x 1000 + 10 x 100 B and stdio's 4096 B buffer; the
    # first leak adds 200 x 256 B and frees the 50 x 1000 B; the second
    # adds 200 x 256 B.
    for n, totals in [(1, "1030 KiB in 161 blocks"), (3, "1032 KiB in 311 blocks"), (5, "1082 KiB in 511 blocks")]:
        expect(re.search(r"#%d\s.*\s%s$" % (n, totals), s, re.M), "mark #%d's totals: %s" % (n, totals), t)
    t.keys("Escape")
    t.wait(r"\+Size")


def test_earlier_baseline_picked_from_marks_exact_figures(t):
    make_marks(t)
    s = t.wait(r"baseline b2")
    # Against b2 (now) the leak line is flat.
    pick_mark(t, 1, "Enter")                # b1: before both leaks
    s = t.wait(r"baseline b1, ")
    s = t.wait(r"^\s*\+100 KiB\s+\+400\s+100 KiB\s+400\b.*" + loc(LEAK_LINE))
    expect(re.search(r"^\s*-48\.8 KiB\s+-50\s+0 B\s+0\b.*" + loc(FREE_LINE), s, re.M), "freeable line against b1", t)
    expect(re.search(r"since baseline \+51\.2 KiB, \+350 blocks", s), "header against b1", t)
    pick_mark(t, 3, "Enter")                # ext: after the first leak
    s = t.wait(r"baseline ext, ")
    s = t.wait(r"^\s*\+50\.0 KiB\s+\+200\s+100 KiB\s+400\b.*" + loc(LEAK_LINE))
    expect(not re.search(loc(FREE_LINE), s), "freeable line gone in both", t)
    expect(re.search(r"since baseline \+50\.0 KiB, \+200 blocks", s), "header against ext", t)


def test_frozen_compare_of_two_marks_then_live(_):
    t = start(cols=120, rows=40, env={"TERM": "xterm-256color"})
    try:
        make_marks(t)
        pick_mark(t, 1, "Enter")            # baseline b1
        t.wait(r"baseline b1, ")
        pick_mark(t, 3, "c")                # b1 vs ext, frozen
        s = t.wait(r"mark 1 \(b1\) vs mark 3 \(ext\)")
        expect("FROZEN" in s, "frozen said in the header", t)
        s = t.wait(r"^\s*\+50\.0 KiB\s+\+200\s+50\.0 KiB\s+200\b.*" + loc(LEAK_LINE))
        expect(re.search(r"^\s*-48\.8 KiB\s+-50\s+0 B\s+0\b.*" + loc(FREE_LINE), s, re.M), "freeable in the frozen compare", t)
        expect(re.search(r"traced then .*since baseline \+1200 B, \+150 blocks", s), "totals of mark 3 against mark 1", t)
        # The program leaks again: a frozen table does not move.
        os.kill(t.pid(), signal.SIGUSR1)
        t.wait(r'the program marked "before-leak"')
        time.sleep(1.2)                     # two refresh periods
        s = t.screen()
        expect(re.search(r"^\s*\+50\.0 KiB\s+\+200\s+50\.0 KiB\s+200\b", s, re.M), "frozen table changed", t)
        # y copies the frozen compare as shown.
        text = copy_screen(t)
        expect("mark 1 (b1) vs mark 3 (ext)" in text and
               re.search(r"\+50\.0 KiB\s+\+200\s+50\.0 KiB\s+200\b.*" + loc(LEAK_LINE), text), "y copy: " + text, t)
        # r: what mark 3 retains since mark 1 (the leak born between them,
        # nothing of the freed line or of what was born before mark 1).
        t.keys("r")
        s = t.wait(r"traced then .*retained since baseline 50\.0 KiB in 200 blocks")
        expect(re.search(r"^\s*50\.0 KiB\s+200\s+50\.0 KiB\s+200\s.*" + loc(LEAK_LINE), s, re.M) and
               re.search(r"^\s*0 B\s+0\s+977 KiB\s+100\s.*" + loc(BIG_LINE), s, re.M), "retained in the frozen compare", t)
        text = copy_screen(t)
        expect("mark 1 (b1) vs mark 3 (ext)" in text and "retained since baseline 50.0 KiB in 200 blocks" in text,
               "y copies the frozen retained columns: " + text, t)
        t.keys("r")
        t.wait(r"traced then .*since baseline \+1200 B")
        # Grouping, sorting and the stack screen work on the frozen pair.
        t.keys("g")
        s = t.wait(r"group traceback")
        t.wait(r"^\s*\+50\.0 KiB\s+\+200\s+50\.0 KiB\s+200\b.*leak_blocks")
        sort_to(t, "freed")
        t.wait(lambda s: table_rows(s) and re.search(r"^\s*-48\.8 KiB\s.*" + loc(FREE_LINE), table_rows(s)[0])
               and re.search(r"^\s*\+50\.0 KiB\s+\+200\s", table_rows(s)[-1]))
        sort_to(t, "growth")
        t.keys("PPage", "Enter")   # not Home: its sequence is not xterm-256color's (an Esc would go live)
        s = t.wait(r"traceback(s)? reach")
        expect(re.search(r"leak_blocks", s) and re.search(r"\+50\.0 KiB\s+blocks \+200\s+then 50\.0 KiB in 200\s", s),
               "stack of the frozen row, at mark 3", t)
        text = copy_screen(t)
        expect("mark 1 (b1) vs mark 3 (ext)" in text and "leak_blocks" in text, "y on the frozen stack: " + text, t)
        t.keys("Escape")
        t.wait(r"\+Size\s+\+Count")
        t.keys("g", "g", "g")
        t.wait(r"group lineno ")
        # Esc: live again, against mark 1: three leaks by now.
        t.keys("Escape")
        s = t.wait(r"baseline b1, ")
        expect("FROZEN" not in s, "still frozen", t)
        t.wait(r"^\s*\+150 KiB\s+\+600\s+150 KiB\s+600\b.*" + loc(LEAK_LINE))
        # Picking an older mark with c: the older one becomes the base.
        pick_mark(t, 3, "Enter")
        t.wait(r"baseline ext, ")
        pick_mark(t, 1, "c")
        t.wait(r"mark 1 \(b1\) vs mark 3 \(ext\)")
        t.keys("q")
        expect(t.exit_status() == 0, "exit status", t)
    finally:
        t.close()


def rate_of(row):
    """A row's Rate column in bytes per second (None when it has none)."""
    m = re.search(r"([+-]?\d+(?:\.\d)?) (B|KiB|MiB)/s", row)
    return m and float(m.group(1)) * {"B": 1, "KiB": 1024, "MiB": 1 << 20}[m.group(2)]


def test_rate_sort_tops_steady_leak_over_bigger_cache(_):
    """tui_rates: a cache of 1000 KiB at its plateau (entries replaced) and
    a leak of ~98 KiB/s. Sorted by size the cache tops; sorted by rate the
    leak does, with its rate shown, and the cache's rate is ~0."""
    cache, drip = source_line("CACHE */", RATES_SRC), source_line("DRIP */", RATES_SRC)
    t = Term(["run", "--window", "3", "--interval", "200", "--", RATES])
    try:
        rl = r"rates\.c:%d\b"   # the path is cut from the left at 80 columns
        t.wait(r"1000 KiB\s+64\s.*" + rl % cache)
        sort_to(t, "size")
        s = t.wait(lambda s: table_rows(s) and re.search(rl % cache, table_rows(s)[0]))
        sort_to(t, "rate")

        def cache_flat(s):
            """The cache's rate is ~0 once the window (3 s) no longer holds
            the first refresh, which may precede the cache's filling."""
            c = [r for r in table_rows(s) if re.search(rl % cache, r)]
            return c and rate_of(c[0]) is not None and abs(rate_of(c[0])) < 10 * 1024
        s = t.wait(lambda s: "Rate" in s and table_rows(s) and re.search(rl % drip, table_rows(s)[0])
                   and cache_flat(s), timeout=3 * TIMEOUT)
        rows = table_rows(s)
        r = rate_of(rows[0])
        expect(r and 20 * 1024 <= r <= 110 * 1024, "the leak's rate (~98 KiB/s at most): " + rows[0], t)
        c = [r for r in rows if re.search(rl % cache, r)]
        leak = re.search(r"^\s*\+(\d+(?:\.\d)?) KiB\s", rows[0])
        expect(re.search(r"(1000|984) KiB\s+6[34]\b", c[0]) and leak and float(leak.group(1)) < 984,
               "the cache is the bigger line", t)
        sort_to(t, "growth")
        t.wait(lambda s: "Rate" not in s)
    finally:
        t.close()


def test_demo_tells_its_leak_from_its_cache(_):
    """The README's walk-through on leaktop-demo: its leak (subscribe) is
    marked suspect and tops the rate sort; its bigger session cache, whose
    entries are all replaced, is neither, shows +0 since the baseline and
    retains all of it (r)."""
    t = Term(["run", "--window", "3", "--interval", "200", "--", DEMO], cols=100, rows=30)
    try:
        t.wait(r"baseline warm")

        def row(s, fn):
            r = [l for l in table_rows(s) if re.search(r"\b%s\b" % fn, l)]
            return r[0] if r else None

        def told_apart(s):
            leak, cache = row(s, "subscribe"), row(s, "session_put")
            return (leak and cache and " ! " in leak and " ! " not in cache
                    and re.search(r"^\s*\+0 B\s+\+0\s+1024 KiB\s+512\b", cache) and "suspects 1 " in s)
        t.wait(told_apart, timeout=3 * TIMEOUT)
        # r: every cache entry was allocated after "warm": it retains it all.
        t.keys("r")
        t.wait(r"^\s*1024 KiB\s+512\s+1024 KiB\s+512\s.*\bsession_put\b")
        t.keys("r")
        t.wait(r"\+Size\s+\+Count")
        sort_to(t, "rate")

        def rate_tops(s):
            rows = table_rows(s)
            cache = row(s, "session_put")
            return (rows and "subscribe" in rows[0] and rate_of(rows[0]) and rate_of(rows[0]) > 1024
                    and cache and rate_of(cache) is not None and abs(rate_of(cache)) < 1024)
        t.wait(rate_tops, timeout=3 * TIMEOUT)
        t.keys("q")
        expect(t.exit_status() == 0, "exit status", t)
    finally:
        t.close()


def test_r_switches_to_retained_since_baseline(t):
    """b, then the program marks, leaks 200 x 256 B and frees its 50 x 1000 B:
    r shows what is retained since b (the leak whole, the freed line and
    the lines born before b nothing), the header says so, the stack says
    the traceback's retained figures, y copies them, r switches back."""
    free_line = source_line("FREEABLE")
    leak_after_baseline(t)
    t.keys("r")
    s = t.wait(r"retained since baseline 50\.0 KiB in 200 blocks")
    expect(re.search(r"Retained\s+RCount\s+Size\s+Count", s), "column names say Retained", t)
    expect(re.search(r"^\s*50\.0 KiB\s+200\s+50\.0 KiB\s+200\s.*" + loc(LEAK_LINE), s, re.M),
           "the leak retains all it grew", t)
    expect(re.search(r"^\s*0 B\s+0\s+977 KiB\s+100\s.*" + loc(BIG_LINE), s, re.M),
           "blocks born before the baseline are not retained", t)
    expect(re.search(r"^\s*0 B\s+0\s+0 B\s+0\s.*" + loc(free_line), s, re.M),
           "a line that only freed retains nothing", t)
    text = copy_screen(t)
    expect("retained since baseline 50.0 KiB in 200 blocks" in text and "Retained" in text,
           "y copies the retained columns: " + text, t)
    t.keys("Home", "Enter")
    s = t.wait(r"now 50\.0 KiB in 200  retained 50\.0 KiB in 200  \(1 of 1\)")
    t.keys("Escape")
    t.wait(r"retained since baseline")
    t.keys("r")
    s = t.wait(r"since baseline \+")
    expect(re.search(r"\+Size\s+\+Count", s) and not re.search(r"retained since baseline", s),
           "r switches back to growth", t)


TESTS = {name[5:]: fn for name, fn in globals().items() if name.startswith("test_")}

OWN_START = {"attach_q_leaves_program_running", "keep_log_keeps_program_output",
             "save_writes_marks_and_final_state", "serve_answers_while_the_view_runs",
             "attach_serve_answers_and_detaches", "suspect_marked_counted_copied_then_clears",
             "sampled_header_says_estimates_and_big_line_tops", "frozen_compare_of_two_marks_then_live",
             "rate_sort_tops_steady_leak_over_bigger_cache", "demo_tells_its_leak_from_its_cache"}

SETUPS = {
    "largest_live_line_first_before_baseline": dict(env={"TERM": "xterm-256color"}),
    "vt100_no_color_80x24": dict(env={"TERM": "vt100", "NO_COLOR": "1"}),
    "ascii_when_locale_not_utf8": dict(env={"LC_ALL": "C", "LANG": "C"}),
    "resize_keeps_screen_coherent": dict(env={"TERM": "tmux-256color"}),
    "marks_screen_lists_every_mark_80x24_no_color": dict(env={"TERM": "vt100", "NO_COLOR": "1"}),
}


def main():
    global LEAKTOP, FIXTURE, FIXTURE_SRC, RATES, RATES_SRC, DEMO, LEAK_LINE, CALL_LINE, BIG_LINE, FREE_LINE
    LEAKTOP, FIXTURE, FIXTURE_SRC = (os.path.abspath(a) for a in sys.argv[1:4])
    if len(sys.argv) > 7:
        RATES, RATES_SRC, DEMO = (os.path.abspath(a) for a in sys.argv[5:8])
    LEAK_LINE = source_line("THE LEAK")
    CALL_LINE = source_line("CALL SITE")
    BIG_LINE = source_line("BIG LINE")
    FREE_LINE = source_line("FREEABLE")
    name = sys.argv[4]
    fn = TESTS[name]
    if name in OWN_START:
        fn(None)
    else:
        t = start(**SETUPS.get(name, {}))
        try:
            fn(t)
        finally:
            t.close()
    print("ok", name)


if __name__ == "__main__":
    main()
