#!/usr/bin/env python3
"""Benchmark: time and peak memory to resolve 10,000
distinct return addresses (call sites from objdump) in a large real binary
with DWARF: the interpreter's libpython when it has DWARF, else the given
fallback binary. Loading the module is part of the time, as in the
frontend, where the first address of a module triggers it.

The timings are printed, not asserted (sanitizer builds and a busy machine
change them); what is asserted is that every address was resolved and the
figures were measured: the tool's stats line, with a count equal to the
addresses given, and at least one answer per address on stdout.

usage: bench_resolve.py SYM_TOOL FALLBACK_BINARY [N]
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_addr2line import call_return_addresses, python_lib  # noqa: E402


def main():
    tool, fallback = sys.argv[1], sys.argv[2]
    want = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    binary = python_lib() or fallback
    addrs = call_return_addresses(binary)
    if len(addrs) > want:
        step = len(addrs) / want
        addrs = [addrs[int(i * step)] for i in range(want)]
    size = os.path.getsize(binary)
    print('%s (%.1f MiB): resolving %d distinct return addresses'
          % (binary, size / 2**20, len(addrs)))
    p = subprocess.run([tool, '-s', '-e', binary],
                       input='\n'.join('0x%x' % a for a in addrs) + '\n',
                       capture_output=True, text=True)
    print(p.stderr.strip())
    if p.returncode != 0:
        return p.returncode
    stats = re.search(r"sym_tool: (\d+) addresses in ([0-9.]+) s .*peak RSS (\d+) MiB", p.stderr)
    if not stats or int(stats.group(1)) != len(addrs) or float(stats.group(2)) <= 0 or int(stats.group(3)) <= 0:
        print("FAIL: no time and memory figures for %d addresses in: %r" % (len(addrs), p.stderr))
        return 1
    answers = [line for line in p.stdout.splitlines() if line.strip()]
    if len(addrs) < 100 or len(answers) < len(addrs):
        print("FAIL: %d answers for %d addresses" % (len(answers), len(addrs)))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
