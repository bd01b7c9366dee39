#!/usr/bin/env python3
"""Proves that sym_resolve agrees with binutils addr2line.

For every call instruction of BIN (from objdump -d), takes its return
address R, runs `addr2line -i -f -C -e BIN R-1` and `sym_tool BIN R`, and
requires the same frames: function, file and line of each, inlined chain
included, in the same order.

Normalisation, applied to both sides:
  - paths go through os.path.normpath (addr2line joins comp_dir/dir/name
    without folding "..");
  - addr2line's " (discriminator N)" suffix is dropped;
  - "??" / "?" / 0 all mean "unknown".

One documented, systematic difference: line 0 means "no line info". For
code without line info (crt files such as crtstuff.c's
__do_global_dtors_aux) addr2line prints the name of the preceding STT_FILE
symbol with line 0, and for line-table rows with line 0 (compiler-generated
code) the row's file; leaktop reports no file in both cases (PRODUCT.md
section 5: no line info means module + offset). So a file is ignored
whenever its line is 0, on both sides.

--oracle llvm-symbolizer compares against llvm-symbolizer instead: the
reference for clang's DWARF 5, where binutils 2.40 loses inlined frames
whose ranges use DW_FORM_rnglistx (llvm-symbolizer and leaktop agree).

usage: compare_addr2line.py SYM_TOOL BIN|--python-lib [--min N] [--max N]
                            [--oracle addr2line|llvm-symbolizer]
                            [-- SYM_TOOL_ARGS]
--python-lib: the running interpreter's libpython (a large real binary);
exit 77 (skip) when it is static or has no DWARF.
Exit 0 when all agree; prints counts and the first mismatches.
"""
import os
import re
import subprocess
import sys

INSN = re.compile(r'^\s*([0-9a-f]+):\s+(\S+)')


def call_return_addresses(binary):
    out = subprocess.run(['objdump', '-d', '--no-show-raw-insn', binary],
                         check=True, capture_output=True, text=True).stdout
    addrs = []
    prev_call = False
    for line in out.splitlines():
        m = INSN.match(line)
        if not m:
            if not line.strip() or line.startswith('Disassembly'):
                prev_call = False  # section or function boundary
            continue
        addr = int(m.group(1), 16)
        if prev_call:
            addrs.append(addr)
        prev_call = m.group(2).startswith('call')
    return sorted(set(addrs))


def norm_file(f):
    if f in (None, '', '??'):
        return None
    return os.path.normpath(f)


def norm_func(f):
    return None if f in (None, '', '??') else f


def norm_line(n):
    try:
        return int(n)
    except ValueError:
        return 0


def frame(func, file, ln):
    ln = norm_line(ln)
    return (norm_func(func), norm_file(file) if ln else None, ln)


def run_llvm_symbolizer(binary, addrs):
    text = '\n'.join('0x%x' % (a - 1) for a in addrs) + '\n'
    import shutil
    exe = shutil.which('llvm-symbolizer') or shutil.which('llvm-symbolizer-14')
    out = subprocess.run([exe, '--obj=' + binary, '--inlining',
                          '--demangle', '--functions=linkage'],
                         input=text, check=True, capture_output=True,
                         text=True).stdout
    res = []
    for block in out.strip('\n').split('\n\n'):
        lines = block.split('\n')
        cur = []
        for func, loc in zip(lines[0::2], lines[1::2]):
            parts = loc.rsplit(':', 2)  # file:line:column
            cur.append(frame(func, parts[0], parts[1] if len(parts) > 1 else 0))
        res.append(cur)
    return res


def run_addr2line(binary, addrs):
    text = '\n'.join('0x%x' % (a - 1) for a in addrs) + '\n'
    out = subprocess.run(['addr2line', '-a', '-i', '-f', '-C', '-e', binary],
                         input=text, check=True, capture_output=True,
                         text=True).stdout.splitlines()
    res, cur, i = [], None, 0
    while i < len(out):
        line = out[i]
        if re.fullmatch(r'0x[0-9a-f]+', line):
            cur = []
            res.append(cur)
            i += 1
            continue
        func, loc = line, out[i + 1]
        i += 2
        loc = re.sub(r' \(discriminator \d+\)$', '', loc)
        file, _, ln = loc.rpartition(':')
        cur.append(frame(func, file, ln))
    return res


def run_sym_tool(tool, binary, addrs, extra):
    text = '\n'.join('0x%x' % a for a in addrs) + '\n'
    out = subprocess.run([tool, '-a', '-e'] + extra + [binary], input=text,
                         check=True, capture_output=True,
                         text=True).stdout.splitlines()
    res, cur = [], None
    for line in out:
        if re.fullmatch(r'0x[0-9a-f]+', line):
            cur = []
            res.append(cur)
            continue
        func, file, ln, _inl = line.split('\t')
        cur.append(frame(func, file, ln))
    return res


def python_lib():
    import sysconfig
    libdir = sysconfig.get_config_var('LIBDIR') or ''
    name = sysconfig.get_config_var('INSTSONAME') or ''
    path = os.path.realpath(os.path.join(libdir, name))
    if not name.endswith(('.so', '.so.1.0')) and '.so' not in name:
        return None
    if not os.path.isfile(path):
        return None
    sections = subprocess.run(['readelf', '-S', path], capture_output=True,
                              text=True).stdout
    return path if '.debug_info' in sections else None


def main():
    args = sys.argv[1:]
    extra = []
    if '--' in args:
        k = args.index('--')
        args, extra = args[:k], args[k + 1:]
    tool, binary = args[0], args[1]
    if binary == '--python-lib':
        binary = python_lib()
        if binary is None:
            print('no shared libpython with DWARF here: skipped')
            return 77
    min_addrs = 1
    max_addrs = 0
    if '--min' in args:
        min_addrs = int(args[args.index('--min') + 1])
    if '--max' in args:
        max_addrs = int(args[args.index('--max') + 1])
    oracle = 'addr2line'
    if '--oracle' in args:
        oracle = args[args.index('--oracle') + 1]
    addrs = call_return_addresses(binary)
    if max_addrs and len(addrs) > max_addrs:
        step = len(addrs) / max_addrs
        addrs = [addrs[int(i * step)] for i in range(max_addrs)]
    if len(addrs) < min_addrs:
        print('only %d call sites in %s, want %d' % (len(addrs), binary,
                                                     min_addrs))
        return 1
    if oracle == 'llvm-symbolizer':
        want = run_llvm_symbolizer(binary, addrs)
    else:
        want = run_addr2line(binary, addrs)
    got = run_sym_tool(tool, binary, addrs, extra)
    if len(want) != len(addrs) or len(got) != len(addrs):
        print('output count mismatch: %d addresses, addr2line %d, sym_tool %d'
              % (len(addrs), len(want), len(got)))
        return 1
    bad = [(a, w, g) for a, w, g in zip(addrs, want, got) if w != g]
    inl = sum(1 for w in want if len(w) > 1)
    known = sum(1 for w in want if w[0][1] is not None)
    print('%s vs %s: %d return addresses compared (%d with line info, %d '
          'inside inlined code), %d mismatches' % (
              os.path.basename(binary), oracle, len(addrs), known, inl,
              len(bad)))
    for a, w, g in bad[:15]:
        print('  0x%x\n    %s: %s\n    sym_tool:  %s' % (a, oracle, w, g))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
