#!/usr/bin/env bash
# README's first command: set up, build, and open the live view on the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec build/bin/leaktop run -- build/bin/leaktop-demo
