#!/usr/bin/env python3
"""Proves that MiniDebugInfo (.gnu_debugdata: an xz-compressed ELF with the
.symtab entries .dynsym lacks, as Fedora ships) names functions: a copy of
each fixture made the way gdb's manual describes gets, at every call's
return address, the outermost function names a copy stripped of DWARF
only (its .symtab whole) gets, and says "MiniDebugInfo"; a fully
stripped copy names none of the hidden ones.

usage: check_minidebuginfo.py SYM_TOOL WORKDIR FIXTURE...
exit 77 (skip) when xz is not installed.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from checklib import check, finish  # noqa: E402
from compare_addr2line import call_return_addresses  # noqa: E402
import symtool_run  # noqa: E402

TOOL, WORK = sys.argv[1:3]
FIXTURES = sys.argv[3:]


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def defined(binary, dynamic):
    out = run('nm', *(['-D'] if dynamic else []), '--format=posix', '--defined-only', binary)
    return {line.split()[0]: line.split()[1] for line in out.splitlines() if line.split()}


def make_minidebuginfo(src, dst):
    """gdb manual, "MiniDebugInfo": the function symbols .dynsym lacks (weak
    ones too: C++ templates), in
    an xz-compressed debug-only ELF added as .gnu_debugdata."""
    d = os.path.join(WORK, os.path.basename(src) + '.parts')
    os.makedirs(d)
    dyn = defined(src, True)
    keep = sorted(n for n, t in defined(src, False).items() if t in 'TtWw' and n not in dyn)
    with open(os.path.join(d, 'keep'), 'w') as f:
        f.write('\n'.join(keep) + '\n')
    run('objcopy', '--only-keep-debug', src, os.path.join(d, 'debug'))
    run('objcopy', '-S', '--remove-section', '.gdb_index', '--remove-section', '.comment',
        '--keep-symbols=' + os.path.join(d, 'keep'), os.path.join(d, 'debug'), os.path.join(d, 'mini'))
    run('xz', '-f', os.path.join(d, 'mini'))
    run('strip', '--strip-all', '-R', '.comment', '-o', dst, src)
    run('objcopy', '--add-section', '.gnu_debugdata=' + os.path.join(d, 'mini.xz'), dst)
    return len(keep)


def outer_names(binary, addrs):
    frames, err, _ = symtool_run.resolve(TOOL, binary, addrs, ['-m'])
    return [fr[-1][0] if fr else None for fr in frames], err


def main():
    if shutil.which('xz') is None:
        print('xz not installed: skipped')
        return 77
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    for f in FIXTURES:
        name = os.path.basename(f)
        mini = os.path.join(WORK, name + '.minidebuginfo')
        symtab = os.path.join(WORK, name + '.symtab')
        bare = os.path.join(WORK, name + '.stripped')
        kept = make_minidebuginfo(f, mini)
        run('strip', '--strip-debug', '-o', symtab, f)
        run('strip', '--strip-all', '-o', bare, f)
        addrs = call_return_addresses(f)
        want, _ = outer_names(symtab, addrs)
        got, err = outer_names(mini, addrs)
        none, _ = outer_names(bare, addrs)
        named = sum(1 for n in want if n != '??')
        check('%s: %d hidden functions kept; %d of %d outer frames named as with the '
              'whole .symtab' % (name, kept, named, len(addrs)),
              got == want and named >= 3, list(zip(want, got))[:5])
        check('%s: said to come from MiniDebugInfo' % name, 'module: MiniDebugInfo' in err, err)
        check('%s: fully stripped names fewer (%d)' % (name, sum(1 for n in none if n != '??')),
              sum(1 for n in none if n != '??') < named)
    return finish()


if __name__ == '__main__':
    sys.exit(main())
