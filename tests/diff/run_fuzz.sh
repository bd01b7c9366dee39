#!/bin/sh
# run_fuzz.sh CLANG SRC_ROOT WORK_DIR SNAP_CORPUS SECONDS
# Builds the libFuzzer target with clang straight from the sources (the
# project itself may be built with gcc), seeds a corpus, fuzzes SECONDS.
set -eu
clang=$1 root=$2 work=$3 corpus_tool=$4 seconds=$5
mkdir -p "$work/corpus"
"$corpus_tool" "$work/corpus"
"$clang" -g -O1 -std=gnu17 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/diff" "$root"/diff/*.c "$root/tests/diff/fuzz_snapfile.c" -lm -lz -o "$work/fuzz_snapfile"
cd "$work"
exec ./fuzz_snapfile -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 corpus
