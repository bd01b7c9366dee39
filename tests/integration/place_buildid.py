#!/usr/bin/env python3
"""Copies DEBUGFILE to DIR/.build-id/xx/rest.debug for BINARY's build-id
(what /usr/lib/debug holds for Debian's -dbgsym packages)."""
import os
import re
import shutil
import subprocess
import sys

binary, debugfile, outdir = sys.argv[1:4]
notes = subprocess.run(["readelf", "-n", binary], capture_output=True, text=True, check=True).stdout
build_id = re.search(r"Build ID: ([0-9a-f]+)", notes).group(1)
dest = os.path.join(outdir, ".build-id", build_id[:2], build_id[2:] + ".debug")
os.makedirs(os.path.dirname(dest), exist_ok=True)
shutil.copy(debugfile, dest)
