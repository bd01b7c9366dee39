#!/usr/bin/env python3
"""Runs the fuzz_elf libFuzzer target for a while from the fixture seeds,
through sanitizer_logs.py, so that a crash in symbols/ code fails the test
and libdwarf's own bugs (contained in a child process) are only counted.

usage: run_fuzz.py FUZZER WORKDIR SECONDS SEED...
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
    shutil.copy(s, os.path.join(corpus, 'seed%d' % i))
here = os.path.dirname(os.path.abspath(__file__))
sys.exit(subprocess.run(
    [sys.executable, os.path.join(here, 'sanitizer_logs.py'), work, '--',
     fuzzer, '-max_total_time=' + seconds, '-rss_limit_mb=4096',
     '-timeout=30', '-print_final_stats=1',
     '-artifact_prefix=' + work + '/', corpus]).returncode)
