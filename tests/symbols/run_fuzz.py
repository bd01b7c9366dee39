#!/usr/bin/env python3
"""Runs a libFuzzer target of symbols/ (fuzz_elf, fuzz_rust) for a while from seeds,
through sanitizer_logs.py, so that a crash in symbols/ code fails the test
and libdwarf's own bugs (contained in a child process) are only counted.

usage: run_fuzz.py FUZZER WORKDIR SECONDS SEED...

A SEED ending in .lines gives one seed per line, for fuzz_rust: its input
is a name whose first byte selects the prefix (byte 0: "_R", byte 1: "_ZN");
a line starting with a digit is a legacy name, any other a v0 one.
"""
import os
import shutil
import subprocess
import sys

fuzzer, work, seconds = sys.argv[1], sys.argv[2], sys.argv[3]
seeds = sys.argv[4:]
corpus = os.path.join(work, 'corpus')
os.makedirs(corpus, exist_ok=True)
for i, s in enumerate(seeds):
    if not s.endswith('.lines'):
        shutil.copy(s, os.path.join(corpus, 'seed%d' % i))
        continue
    with open(s) as f:
        for k, line in enumerate(f.read().split('\n')):
            if line:
                mode = b'\x01' if line[0].isdigit() else b'\x00'
                with open(os.path.join(corpus, 'seed%d_%d' % (i, k)), 'wb') as out:
                    out.write(mode + line.encode())
here = os.path.dirname(os.path.abspath(__file__))
sys.exit(subprocess.run(
    [sys.executable, os.path.join(here, 'sanitizer_logs.py'), work, '--',
     fuzzer, '-max_total_time=' + seconds, '-rss_limit_mb=4096',
     '-timeout=30', '-print_final_stats=1',
     '-artifact_prefix=' + work + '/', corpus]).returncode)
