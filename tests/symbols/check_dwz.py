#!/usr/bin/env python3
"""Proves that dwz-compressed debug info (what Debian's -dbgsym packages
ship) resolves as the uncompressed build does:

  - copies of the fixtures are run through `dwz -m COMMON`, which moves
    their shared DIEs and strings into one multifile reached through
    .gnu_debugaltlink (DW_FORM_GNU_strp_alt, DW_FORM_GNU_ref_alt, partial
    and imported units); at every call's return address sym_tool gives the
    same frames (function, file, line, inlined flag) as on the originals,
    in the reader child and in process;
  - the multifile is found as the link is written (relative to the file),
    under a debug directory's .dwz/, and by build-id under a debug
    directory's .build-id/;
  - without it, or with a file of another build-id in its place, one
    reason is given, no libdwarf placeholder ("<DW_FORM_...>") is shown as
    a name, and outermost functions are named from the ELF symbol table.

usage: check_dwz.py SYM_TOOL WORKDIR FIXTURE...
exit 77 (skip) when dwz is not installed.
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
from symtool_run import build_id  # noqa: E402

TOOL, WORK = sys.argv[1:3]
FIXTURES = sys.argv[3:]
ALT_LINK = '/nonexistent/usr/lib/debug/.dwz/leaktop-test.debug'






def resolve(binary, addrs, extra=()):
    res, err, _ = symtool_run.resolve(TOOL, binary, addrs, extra)
    return res, err


def dwz(directory, names, link):
    """Runs dwz -m in `directory`; the names it compressed."""
    p = subprocess.run(['dwz', '-m', 'common.debug', '-M', link] + names,
                       cwd=directory, capture_output=True, text=True)
    linked = []
    for n in names:
        sections = subprocess.run(['readelf', '-S', os.path.join(directory, n)],
                                  capture_output=True, text=True).stdout
        if '.gnu_debugaltlink' in sections:
            linked.append(n)
    check('dwz made a multifile (%s)' % p.stderr.strip().replace('\n', '; '),
          os.path.exists(os.path.join(directory, 'common.debug')) and len(linked) >= 2,
          'linked: %s' % linked)
    return linked


def prepare(sub, link):
    d = os.path.join(WORK, sub)
    os.makedirs(d)
    names = []
    for f in FIXTURES:
        shutil.copy(f, d)
        names.append(os.path.basename(f))
    return d, dwz(d, names, link)


def same_as_original(d, name, extra=(), label=''):
    orig = [f for f in FIXTURES if os.path.basename(f) == name][0]
    addrs = call_return_addresses(orig)
    want, _ = resolve(orig, addrs, ['-i'])
    got, err = resolve(os.path.join(d, name), addrs, extra)
    named = sum(1 for fr in want for x in fr if x[0] != '??')
    inl = sum(1 for fr in want for x in fr if x[3] == '1')
    bad = [(hex(a), w, g) for a, w, g in zip(addrs, want, got) if w != g]
    check('%s%s: %d addresses, %d named frames, %d inlined, as un-dwz\'d' %
          (name, label, len(addrs), named, inl),
          len(got) == len(want) and not bad and named >= 5,
          '%d differ, first %s; stderr %s' % (len(bad), bad[:3], err.strip()))
    return want


def main():
    if shutil.which('dwz') is None:
        print('dwz not installed: skipped')
        return 77
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)

    # 1. The link as dwz writes it by default: relative to the file.
    d, linked = prepare('relative', 'common.debug')
    for name in linked:
        same_as_original(d, name)
    if linked:
        same_as_original(d, linked[0], ['-i'], ' (in process)')

    # 2. An absolute link that does not exist here: found under a debug
    #    directory's .dwz/, then by build-id.
    d, linked = prepare('absolute', ALT_LINK)
    common = os.path.join(d, 'common.debug')
    dwzdir = os.path.join(WORK, 'debugdir', '.dwz')
    os.makedirs(dwzdir)
    shutil.copy(common, os.path.join(dwzdir, os.path.basename(ALT_LINK)))
    bid = build_id(common)
    byid = os.path.join(WORK, 'byid', '.build-id', bid[:2])
    os.makedirs(byid)
    shutil.copy(common, os.path.join(byid, bid[2:] + '.debug'))
    os.remove(common)
    for name in linked[:2]:
        same_as_original(d, name, ['-d', os.path.join(WORK, 'debugdir')],
                         ' (DIR/.dwz/)')
        same_as_original(d, name, ['-d', os.path.join(WORK, 'byid')],
                         ' (by build-id)')

    # 3. Missing, then of another build-id: one reason, no placeholder,
    #    outer names from the ELF symbol table.
    if not linked:
        return finish()
    name = linked[0]
    orig = [f for f in FIXTURES if os.path.basename(f) == name][0]
    addrs = call_return_addresses(orig)
    want, _ = resolve(orig, addrs, ['-i'])
    got, err = resolve(os.path.join(d, name), addrs)
    names = {x[0] for fr in got for x in fr}
    check('%s without its multifile: the reason (%s)' % (name, err.strip()),
          'dwz multifile' in err and 'not found' in err and err.count('\n') == 1)
    check('%s without its multifile: no placeholder names' % name,
          not any(n.startswith('<') for n in names), sorted(names)[:5])
    outer_want = [fr[-1][0] for fr in want]
    outer_got = [fr[-1][0] for fr in got]
    same_outer = sum(1 for w, g in zip(outer_want, outer_got) if w == g and w != '??')
    check('%s without its multifile: outermost functions named by ELF symbols '
          '(%d of %d)' % (name, same_outer, len(want)),
          same_outer >= len(want) // 2 and same_outer >= 3)
    lines_same = all([x[1:3] for x in w] == [x[1:3] for x in g]
                     for w, g in zip(want, got))
    check('%s without its multifile: files and lines unchanged' % name, lines_same)

    wrong = os.path.join(WORK, 'wrong', '.dwz')
    os.makedirs(wrong)
    shutil.copy(orig, os.path.join(wrong, os.path.basename(ALT_LINK)))
    got, err = resolve(os.path.join(d, name), addrs,
                       ['-d', os.path.join(WORK, 'wrong')])
    names = {x[0] for fr in got for x in fr}
    check('%s with a multifile of another build-id: the reason (%s)' %
          (name, err.strip()), 'another build-id' in err)
    check('%s with a multifile of another build-id: no placeholder names' % name,
          not any(n.startswith('<') for n in names), sorted(names)[:5])
    return finish()


if __name__ == '__main__':
    sys.exit(main())
