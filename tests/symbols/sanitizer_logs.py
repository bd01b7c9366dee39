#!/usr/bin/env python3
"""Runs a robustness test with sanitizer reports sent to files, then
blames each report: one whose first frame outside the sanitizer runtime
is in libdwarf (or libelf/zlib) is a known bug of that library, contained
by symbols/ reading DWARF in a child process, and is only counted; any
other report (symbols/ code, the test itself) fails the test.

Reports are needed from the child processes too, whose stderr goes to
/dev/null: log_path writes them to files whatever stderr is.

usage: sanitizer_logs.py WORKDIR -- COMMAND [ARGS...]
"""
import glob
import os
import re
import shutil
import subprocess
import sys

FRAME = re.compile(r'^\s+#\d+ 0x[0-9a-f]+ in (\S+) (.*)$')
CONTAINED = ('libdwarf.so', 'libelf', 'libz.so')
RUNTIME = ('libsanitizer', 'compiler-rt', 'libasan', 'libubsan', 'libclang_rt')
# clang links the runtime statically: recognise its frames by name, and
# its allocator interceptors (`free` in the test binary, with no source
# line) by name and place: a double free in libdwarf starts there.
RUNTIME_FUNCS = re.compile(r'^_*(interceptor_|asan_|sanitizer|ubsan_|lsan_)')
ALLOC_FUNCS = re.compile(r'^(free|malloc|calloc|realloc|reallocarray|posix_memalign|aligned_alloc)$')


def blame(report):
    """(contained?, first relevant frame) of one report."""
    for line in report.splitlines():
        m = FRAME.match(line)
        if not m:
            continue
        where = m.group(2)
        if any(r in where for r in RUNTIME) or RUNTIME_FUNCS.match(m.group(1)):
            continue
        if ALLOC_FUNCS.match(m.group(1)) and where.startswith('('):
            continue
        return any(c in where for c in CONTAINED), m.group(1) + ' ' + where
    # No stack (e.g. a UBSan one-liner): blame the source location named.
    return False, report.strip().splitlines()[0] if report.strip() else '?'


def main():
    k = sys.argv.index('--')
    work, cmd = sys.argv[1], sys.argv[k + 1:]
    logs = os.path.join(work, 'sanlogs')
    shutil.rmtree(logs, ignore_errors=True)
    os.makedirs(logs)
    env = dict(os.environ)
    for var in ('ASAN_OPTIONS', 'UBSAN_OPTIONS'):
        opts = env.get(var, '')
        env[var] = (opts + ':' if opts else '') + \
            'log_path=%s/%s' % (logs, var.split('_')[0].lower())
    rc = subprocess.run(cmd, env=env).returncode
    contained, ours = {}, []
    for path in sorted(glob.glob(os.path.join(logs, '*'))):
        with open(path, errors='replace') as f:
            text = f.read()
        is_contained, frame = blame(text)
        if is_contained:
            contained[frame] = contained.get(frame, 0) + 1
        else:
            ours.append((path, text))
    for frame, n in sorted(contained.items()):
        print('contained in a child process (library bug): %dx %s' % (n, frame))
    for path, text in ours[:3]:
        print('SANITIZER REPORT OUTSIDE libdwarf: %s\n%s' % (path, text))
    print('command exit %d; %d library reports contained; %d reports '
          'against our code' % (rc, sum(contained.values()), len(ours)))
    return 1 if rc != 0 or ours else 0


if __name__ == '__main__':
    sys.exit(main())
