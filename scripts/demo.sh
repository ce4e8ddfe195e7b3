#!/usr/bin/env bash
# Main job: installs dependencies, builds gvirt (release) and runs the GPU model
# self-check, which renders a test pattern and writes selftest.png.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
cmake --preset release
cmake --build --preset release -j2
rm -f selftest.png
./build/release/gvirt selftest --png selftest.png
if [[ ! -s selftest.png ]]; then
  echo "demo: gvirt selftest did not write selftest.png" >&2
  exit 1
fi
echo "demo: self-test image written to $(pwd)/selftest.png"
