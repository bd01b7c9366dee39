#!/usr/bin/env python3
"""A/B of two tracer builds on one workload: runs ARGV with LD_PRELOAD=OLD
and LD_PRELOAD=NEW alternately (the order flips every round), ROUNDS times
each, and prints the median and the minimum user+sys CPU time of each.
On a loaded machine the minimum is the steadier figure.
Usage: ab_preload.py OLD.so NEW.so ROUNDS ARGV..."""
import os
import statistics
import subprocess
import sys

old, new, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
argv = sys.argv[4:]
cpu = {"before": [], "after": []}
for r in range(rounds):
    pair = [("before", old), ("after", new)]
    for name, lib in pair if r % 2 == 0 else pair[::-1]:
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(os.environ, LD_PRELOAD=lib))
        _, status, ru = os.wait4(p.pid, 0)
        # A plain preload leaves its segment for a later `leaktop` to read:
        # each is sparse but reserves hundreds of MB of /dev/shm.
        for seg in os.listdir("/dev/shm"):
            if seg.startswith(f"leaktop-{os.getuid()}-{p.pid}-"):
                os.unlink(os.path.join("/dev/shm", seg))
        if status != 0:
            sys.exit(f"{name}: {argv[0]} failed with status {status}")
        cpu[name].append(ru.ru_utime + ru.ru_stime)
for name, v in cpu.items():
    print(f"{name:7} cpu median {statistics.median(v):.3f} s  min {min(v):.3f} s  n={len(v)}")
