#!/usr/bin/env python3
"""Proves what sym_resolve must give on the fixtures, beyond agreeing with
addr2line:

  - malloc under fix_outer <- fix_top <- fix_middle <- fix_leaf (always
    inline, two of them in a header) gives four frames, innermost first,
    at the marked lines, on -O0/-O2, DWARF 4/5, PIE/non-PIE, compressed
    debug sections and clang;
  - a load bias is subtracted (runtime address = vaddr + bias);
  - C++ names come demangled with namespaces, template arguments,
    parameters, and the lambda's closure;
  - debug info is found through .gnu_debuglink (beside the binary and in
    .debug/), through the build-id under an extra debug directory, and
    frames equal those of the unstripped binary; a debuglink file with a
    wrong CRC is refused with a reason, leaving ELF symbol names;
  - a fully stripped executable gives "??" frames; a stripped library
    still names its exported functions (.dynsym), not its hidden ones.

usage: check_fixtures.py SYM_TOOL FIXTURE_BUILD_DIR FIXTURE_SOURCE_DIR
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from checklib import check, finish  # noqa: E402

TOOL, BUILD, SRC = sys.argv[1:4]


def markers():
    """'@name' -> (file basename, line) from the fixture sources."""
    found = {}
    for name in os.listdir(SRC):
        with open(os.path.join(SRC, name)) as f:
            for n, line in enumerate(f, 1):
                for m in re.finditer(r'@([a-z0-9-]+)', line):
                    found[m.group(1)] = (name, n)
    return found


MARK = markers()


def call_sites(binary, callee_re):
    """Return addresses of calls whose target matches callee_re."""
    out = subprocess.run(['objdump', '-d', '--no-show-raw-insn', binary],
                         check=True, capture_output=True, text=True).stdout
    sites, pending = [], False
    for line in out.splitlines():
        m = re.match(r'^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$', line)
        if not m:
            continue
        if pending:
            sites.append(int(m.group(1), 16))
        pending = (m.group(2).startswith('call') and
                   re.search(callee_re, m.group(3)) is not None)
    return sites


def resolve(binary, addrs, args=()):
    """{addr: [(function, file basename, line, inlined)]}, stderr."""
    p = subprocess.run([TOOL, '-a', '-e'] + list(args) + [binary] +
                       ['0x%x' % a for a in addrs],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return {}, p.stderr
    res, cur = {}, None
    for line in p.stdout.splitlines():
        if line.startswith('0x'):
            cur = res.setdefault(int(line, 16), [])
            continue
        func, file, ln, inl = line.split('\t')
        cur.append((func, os.path.basename(file), int(ln), inl == '1'))
    return res, p.stderr


def frame(func, mark, inlined):
    name, line = MARK[mark]
    return (func, name, line, inlined)


INLINE_CHAIN = [frame('fix_leaf', 'leaf-malloc', True),
                frame('fix_middle', 'middle-calls-leaf', True),
                frame('fix_top', 'top-calls-middle', True),
                frame('fix_outer', 'outer-calls-top', False)]


def check_inline_fixture(name, args=(), bias=0):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        check('%s exists' % name, False)
        return
    sites = call_sites(path, r'<malloc(@plt)?>')
    frames, _ = resolve(path, [a + bias for a in sites], args)
    chains = [f for f in frames.values() if f and f[-1][0] == 'fix_outer']
    check('%s%s: malloc in fix_outer <- top <- middle <- leaf: %s' %
          (name, ' (bias 0x%x)' % bias if bias else '', chains), chains == [INLINE_CHAIN])
    plain = [f for f in frames.values() if f and f[0][0] == 'fix_plain']
    check('%s: malloc in fix_plain: %s' % (name, plain), plain == [[frame('fix_plain', 'plain-malloc', False)]])


def check_cpp(name):
    path = os.path.join(BUILD, name)
    sites = call_sites(path, r'<(_Zn[wa]m|malloc)(@plt)?>')
    frames, _ = resolve(path, sites)
    # gcc may clone at -O2: "f(int) [clone .constprop.0]" is still f.
    tops = {(re.sub(r' \[clone [^]]*\]$', '', f[0][0]),) + f[0][1:]
            for f in frames.values() if f}
    want = {
        frame('outer::inner::Box<int>::grow(unsigned long)', 'box-grow-new', False),
        frame('outer::inner::Box<double>::grow(unsigned long)', 'box-grow-new', False),
        frame('long* outer::inner::make_one<long>(long)', 'make-one-new', False),
        frame('run(int)::{lambda(int)#1}::operator()(int) const', 'lambda-malloc', False),
    }
    for w in sorted(want):
        check('%s: C++ frame %s' % (name, w), w in tops)


def check_debug_files():
    base = os.path.join(BUILD, 'fix_inline_O2')
    var = base + '.d'
    sites = call_sites(base, r'<(malloc|calloc)(@plt)?>')
    want, _ = resolve(base, sites)
    check('fix_inline_O2: all allocation sites have lines', len(want) >= 3 and all(f[0][2] > 0 for f in want.values()))
    for sub, args in (('debuglink', ()), ('dotdebug', ()),
                      ('buildid', ('-d', os.path.join(var, 'debugroot')))):
        got, err = resolve(os.path.join(var, sub, 'fix_inline_O2'), sites, args)
        check('separate debug file via %s: same frames as '
              'the unstripped binary%s' % (sub, '' if got == want else
                                          ': %s / %s' % (got, err)), got == want)
    got, _ = resolve(os.path.join(var, 'buildid', 'fix_inline_O2'), sites)
    check('build-id debug file is not found without its debug directory', all(f[0][1] == '??' for f in got.values()))
    got, err = resolve(os.path.join(var, 'badcrc', 'fix_inline_O2'), sites)
    names = {f[0][0] for f in got.values()}
    check('debuglink with a wrong CRC is refused, ELF names remain: %s' % err.strip(), 'CRC mismatch' in err and 'fix_plain' in names and
          all(f[0][1] == '??' for f in got.values()))
    got, _ = resolve(os.path.join(var, 'stripped', 'fix_inline_O2'), sites)
    check('fully stripped executable: unknown frames', len(got) == len(sites) and
          all(f == [('??', '??', 0, False)] for f in got.values()))


def check_stripped_lib():
    lib = os.path.join(BUILD, 'libfixlib.so')
    stripped = os.path.join(BUILD, 'fixlib.d', 'stripped', 'libfixlib.so')
    sites = call_sites(lib, r'<(malloc|calloc|fixlib_\w+)(@plt)?>')
    full, _ = resolve(lib, sites)
    got, _ = resolve(stripped, sites)
    pairs = [(full[a][-1][0], got[a][0][0]) for a in sites]
    exported = [g for f, g in pairs if f in ('fixlib_alloc', 'fixlib_both')]
    hidden = [g for f, g in pairs if f == 'fixlib_hidden']
    check('stripped library: exported functions named from .dynsym: %s' % pairs, exported and all(g in ('fixlib_alloc', 'fixlib_both')
                           for g in exported))
    check('stripped library: hidden function unknown: %s' % hidden, hidden and all(g == '??' for g in hidden))


def main():
    for name in ('fix_inline_O2', 'fix_inline_O0', 'fix_inline_dwarf4',
                 'fix_inline_nopie', 'fix_inline_gz'):
        check_inline_fixture(name)
    if os.path.exists(os.path.join(BUILD, 'fix_inline_clang')):
        check_inline_fixture('fix_inline_clang')
    check_inline_fixture('fix_inline_O2', ('-b', '0x555555554000'),
                         0x555555554000)
    check_cpp('fix_cpp_O2')
    check_cpp('fix_cpp_O0')
    check_debug_files()
    check_stripped_lib()
    return finish()


if __name__ == '__main__':
    sys.exit(main())
