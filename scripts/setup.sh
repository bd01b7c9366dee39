#!/usr/bin/env bash
# Installs what leaktop needs on Debian 12 (only what is missing), then
# configures and builds it in ./build. Used by both README commands and CI.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake pkg-config libncurses-dev libunwind-dev libdwarf-dev libelf-dev
          zlib1g-dev liblzma-dev elfutils binutils tmux python3 valgrind heaptrack clang sqlite3 ncurses-term
          libc6-dbg llvm-14 rustc libjemalloc2 libjemalloc-dev libtcmalloc-minimal4
          golang-go libmicrohttpd-dev dwz libdebuginfod-dev debuginfod)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
fi

build_type="${LEAKTOP_BUILD_TYPE:-RelWithDebInfo}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" ${LEAKTOP_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$(nproc)"
