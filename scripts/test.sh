#!/usr/bin/env bash
# README's second command (and CI's): set up, build with warnings as errors,
# run every test; then the frontend and its tests again under ASan+UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
LEAKTOP_CMAKE_ARGS="-DLEAKTOP_WERROR=ON" scripts/setup.sh
ctest --test-dir build --output-on-failure -j2 --timeout 600 --no-tests=error

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DLEAKTOP_SANITIZE=ON -DLEAKTOP_WERROR=ON >/dev/null
cmake --build build-asan -j"$(nproc)"
# Fuzzers build their own sanitized binaries; timings mean nothing under ASan.
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j2 --timeout 600 \
  --no-tests=error -E "fuzz|bench|perf"
