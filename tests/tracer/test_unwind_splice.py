#!/usr/bin/env python3
"""The unwinder's splice (a walk that reaches a frame state a cached walk
passed through takes that walk's deeper frames once the stack words it read
still hold) against libunwind: fx_splice calls malloc from new heads at every
depth of a recursion, from two call sites of main in turn. Under
LEAKTOP_UNWIND=verify every stack must match libunwind's, most must have been
spliced, and some splices must have been refused (the deep return address
into main changed under identical frames above it). Depths: shallower than
the frames kept (whole stacks) and deeper (stacks cut at the limit).
Usage: test_unwind_splice.py TRACER FX_SPLICE"""
import os
import re
import subprocess
import sys

tracer, fixture = sys.argv[1:3]
LINE = re.compile(r"unwind verify: (\d+) stacks, (\d+) mismatches, (\d+) by libunwind; "
                  r"(\d+) cached, (\d+) spliced, (\d+) walked \((\d+) splices refused\)")
failed = 0
for depth, frames in ((12, "32"), (24, "32"), (60, "32"), (24, "8")):
    env = dict(os.environ, LD_PRELOAD=tracer, LEAKTOP_UNWIND="verify", LEAKTOP_FRAMES=frames)
    env.pop("LEAKTOP_PID", None)
    p = subprocess.run([fixture, str(depth), "60"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=120)
    err = p.stderr.decode(errors="replace")
    m = LINE.search(err)
    if p.returncode != 0 or not m:
        print(f"FAIL depth {depth}: status {p.returncode}, no verify line: {err[-300:]}")
        failed += 1
        continue
    stacks, mismatches, slow, cached, spliced, walked, refused = map(int, m.groups())
    # Every call of a round is a new head over frames the calls before it walked.
    whole = depth + 4 < int(frames)
    ok = (mismatches == 0 and slow == 0 and stacks == cached + spliced + walked and
          spliced * 2 >= stacks - cached and (refused > 0 or not whole))
    failed += not ok
    print(f"{'ok  ' if ok else 'FAIL'} depth {depth}, {frames} frames: {stacks} stacks, {mismatches} mismatches, "
          f"{slow} by libunwind, {cached} cached, {spliced} spliced, {walked} walked, {refused} refused")
sys.exit(1 if failed else 0)
