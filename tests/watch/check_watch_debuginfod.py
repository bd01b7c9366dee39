#!/usr/bin/env python3
"""Runs test_watch_debuginfod against a slow debuginfod stand-in on
127.0.0.1 that sends fx_inline's debug file after DELAY ms (fresh
DEBUGINFOD_CACHE_PATH): the watch must not wait for it, and must name the
frames once it is in.
Usage: check_watch_debuginfod.py TEST_BIN FX_INLINE_STRIPPED DEBUG_FILE WORK_DIR"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from debuginfod_server import env_with, slow_server  # noqa: E402

DELAY_MS = 3000
test, stripped, debug, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
out = subprocess.run(['readelf', '-n', stripped], capture_output=True, text=True).stdout
bid = next(line.split()[-1] for line in out.splitlines() if 'Build ID' in line)
server, url = slow_server({bid: debug}, DELAY_MS / 1000)
try:
    env = env_with(DEBUGINFOD_URLS=url, DEBUGINFOD_CACHE_PATH=os.path.join(work, 'cache'),
                   DEBUGINFOD_TIMEOUT='10')
    sys.exit(subprocess.run([test, stripped, str(DELAY_MS)], env=env, timeout=120).returncode)
finally:
    server.shutdown()
