#!/usr/bin/env python3
"""Proves that debug files are fetched from debuginfod as gdb and perf do:

  - fixtures are stripped and their debug files (objcopy --only-keep-debug)
    served by a local `debuginfod -F DIR -p PORT` (asked on 127.0.0.1 only,
    started and stopped here by pid, with a fresh DEBUGINFOD_CACHE_PATH);
    sym_tool -D on the stripped copies gives the same frames (function,
    file, line, inlined) as on the originals, and says "debuginfod";
  - each module is asked once, whether the fetch starts at registration
    (-B, as leaktop does) or at the first frame; a second run is served
    from the cache without asking the server;
  - without DEBUGINFOD_URLS nothing is asked;
  - a server that accepts and never answers, with DEBUGINFOD_TIMEOUT=2:
    sym_tool finishes within the bound, frames unresolved, the reason
    given; with a long DEBUGINFOD_TIMEOUT the fetch is killed at leaktop's
    own bound;
  - without waiting (-W, what the live view does): a first round of
    frames comes at once, marked pending, while a slow server (1.5 s)
    answers; frames asked after the answer equal the unstripped ones.

usage: check_debuginfod.py SYM_TOOL WORKDIR FIXTURE...
exit 77 (skip) when debuginfod is not installed.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from checklib import check, finish  # noqa: E402
from debuginfod_server import Server, env_with, silent_server, slow_server  # noqa: E402
from compare_addr2line import call_return_addresses  # noqa: E402
import symtool_run  # noqa: E402
from symtool_run import build_id  # noqa: E402

TOOL, WORK = sys.argv[1:3]
FIXTURES = sys.argv[3:]






def resolve(binary, addrs, extra=(), env=None, timeout=120):
    return symtool_run.resolve(TOOL, binary, addrs, ['-m'] + list(extra), env, timeout)



def main():
    if shutil.which('debuginfod') is None:
        print('debuginfod not installed: skipped')
        return 77
    shutil.rmtree(WORK, ignore_errors=True)
    srvdir = os.path.join(WORK, 'served')
    strdir = os.path.join(WORK, 'stripped')
    os.makedirs(srvdir)
    os.makedirs(strdir)
    cases = []
    for f in FIXTURES:
        name = os.path.basename(f)
        stripped = os.path.join(strdir, name)
        subprocess.run(['objcopy', '--only-keep-debug', f,
                        os.path.join(srvdir, name + '.debug')], check=True)
        subprocess.run(['strip', '--strip-all', '-o', stripped, f], check=True)
        addrs = call_return_addresses(f)
        want, _, _ = resolve(f, addrs, ['-i'])
        cases.append((name, f, stripped, build_id(f), addrs, want))

    # Nothing asked without DEBUGINFOD_URLS: the stripped copy stays bare.
    name, _, stripped, bid, addrs, want = cases[0]
    got, err, _ = resolve(stripped, addrs, ['-D', '5000'], env=env_with())
    check('without DEBUGINFOD_URLS nothing is fetched (%s)' % err.strip().splitlines()[-1],
          'module: debuginfod' not in err and got != want)

    server = Server(srvdir, WORK)
    try:
        if not check('debuginfod indexed the debug files',
                     all(server.wait_indexed(c[3]) for c in cases)):
            return finish()
        before = {c[3]: server.asked(c[3]) for c in cases}
        for i, (name, _, stripped, bid, addrs, want) in enumerate(cases):
            cache = os.path.join(WORK, 'cache')
            env = env_with(DEBUGINFOD_URLS=server.url, DEBUGINFOD_CACHE_PATH=cache,
                           DEBUGINFOD_TIMEOUT='10')
            extra = ['-D', '20000'] + (['-B'] if i % 2 == 0 else [])
            got, err, took = resolve(stripped, addrs, extra, env=env)
            named = sum(1 for fr in want for x in fr if x[0] != '??')
            bad = [(hex(a), w, g) for a, w, g in zip(addrs, want, got) if w != g]
            check('%s stripped, debug file from debuginfod%s: %d addresses, %d named '
                  'frames as unstripped (%.2f s)' % (name, ' (fetch at registration)'
                                                     if '-B' in extra else '',
                                                     len(addrs), named, took),
                  len(got) == len(want) and not bad and named >= 5,
                  '%d differ, first %s; stderr %s' % (len(bad), bad[:2], err.strip()))
            check('%s: origin said: %s' % (name, err.strip().splitlines()[-1]),
                  'module: debuginfod ' + cache in err)
            check('%s: the server was asked once' % name,
                  server.asked(bid) - before[bid] == 1,
                  'asked %d times' % (server.asked(bid) - before[bid]))
            got, err, _ = resolve(stripped, addrs, extra, env=env)
            check('%s: a second run comes from the cache, not the server' % name,
                  got == want and server.asked(bid) - before[bid] == 1)
    finally:
        server.stop()

    # A server that never answers: bounded by DEBUGINFOD_TIMEOUT ...
    sock, held = silent_server()
    url = 'http://127.0.0.1:%d' % sock.getsockname()[1]
    name, _, stripped, bid, addrs, want = cases[0]
    env = env_with(DEBUGINFOD_URLS=url, DEBUGINFOD_TIMEOUT='2',
                   DEBUGINFOD_CACHE_PATH=os.path.join(WORK, 'cache-silent'))
    got, err, took = resolve(stripped, addrs, ['-D', '30000'], env=env, timeout=60)
    unresolved = all(x[0] == '??' for fr in got for x in fr)
    check('silent server, DEBUGINFOD_TIMEOUT=2: done in %.1f s (< 10), frames '
          'unresolved, reason: %s' % (took, err.strip().splitlines()[0]),
          took < 10 and unresolved and len(got) == len(addrs) and 'debuginfod' in err)
    # ... and, whatever the library's timeout, by leaktop's own bound.
    env['DEBUGINFOD_TIMEOUT'] = '300'
    env['DEBUGINFOD_CACHE_PATH'] = os.path.join(WORK, 'cache-silent2')
    got, err, took = resolve(stripped, addrs, ['-D', '1500'], env=env, timeout=60)
    check('silent server, bound 1.5 s: done in %.1f s (< 6), reason: %s' %
          (took, err.strip().splitlines()[0]),
          took < 6 and 'no answer within 2 s' in err and len(got) == len(addrs))
    # Not waiting: the first round at once; the silent server's answer
    # never comes, the frames stay ELF-only ...
    env['DEBUGINFOD_TIMEOUT'] = '2'
    env['DEBUGINFOD_CACHE_PATH'] = os.path.join(WORK, 'cache-silent3')
    got, err, took = resolve(stripped, addrs, ['-W', '-D', '4000'], env=env, timeout=60)
    first = float(err.split('first round ')[1].split()[0]) if 'first round ' in err else 99
    check('silent server, not waiting: first round in %.3f s (< 0.5), all done in %.1f s'
          % (first, took), first < 0.5 and took < 10 and len(got) == len(addrs))
    sock.close()
    for c in held:
        c.close()

    # ... and a slow server's answer resolves the frames asked after it.
    files = {c[3]: os.path.join(srvdir, c[0] + '.debug') for c in cases}
    slow, url = slow_server(files, 1.5)
    try:
        for name, _, stripped, bid, addrs, want in cases[:2]:
            env = env_with(DEBUGINFOD_URLS=url, DEBUGINFOD_TIMEOUT='10',
                           DEBUGINFOD_CACHE_PATH=os.path.join(WORK, 'cache-slow-' + name))
            got, err, took = resolve(stripped, addrs, ['-W', '-B', '-D', '20000'], env=env)
            first = float(err.split('first round ')[1].split()[0]) if 'first round ' in err else 99
            rounds = int(err.split(' s, ')[1].split()[0]) if ' rounds' in err else 0
            check('%s, slow server, not waiting: first round in %.3f s (< 1), %d rounds, '
                  'then frames as unstripped' % (name, first, rounds),
                  first < 1 and rounds > 1 and got == want, err.strip())
    finally:
        slow.shutdown()
    return finish()


if __name__ == '__main__':
    sys.exit(main())
