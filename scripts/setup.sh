#!/usr/bin/env bash
# Installs the Debian 12 packages gvirt needs (only the missing ones) and
# raises vm.max_map_count for the aperture window mappings. Idempotent.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build g++ clang-14 lld-14 libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev libfmt-dev libspdlog-dev
  nlohmann-json3-dev libcli11-dev libpng-dev libexpected-dev libxxhash-dev
  libzstd-dev pkg-config
)
MIN_MAP_COUNT=262144

# Run privileged commands directly as root, otherwise through sudo if available.
as_root() {
  if [[ ${EUID} -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "setup: need root (or sudo) to run: $*" >&2
    return 1
  fi
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("${pkg}")
  fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
  log=$(mktemp /tmp/gvirt-setup.XXXXXX.log)
  export DEBIAN_FRONTEND=noninteractive
  if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
         as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
           --no-install-recommends "${missing[@]}"; } >"${log}" 2>&1; then
    echo "setup: apt-get failed; last lines of ${log}:" >&2
    tail -n 30 "${log}" >&2
    exit 1
  fi
  rm -f "${log}"
  echo "setup: installed ${missing[*]}"
else
  echo "setup: all packages present"
fi

# The aperture window maps many pages; the default limit (65530) is too low.
current=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 0)
if [[ ${current} -lt ${MIN_MAP_COUNT} ]]; then
  if as_root sysctl -q -w "vm.max_map_count=${MIN_MAP_COUNT}" >/dev/null 2>&1; then
    echo "setup: vm.max_map_count raised from ${current} to ${MIN_MAP_COUNT}"
  else
    echo "setup: warning: could not raise vm.max_map_count (${current} < ${MIN_MAP_COUNT})" >&2
  fi
fi
