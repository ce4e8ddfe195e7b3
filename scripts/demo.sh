#!/usr/bin/env bash
# Main job: installs dependencies, builds gvirt (release), checks the GPU
# model, then runs the desktop2d workload natively (the driver on the model,
# no VM) and writes the scanned-out frame to desktop2d.png.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
cmake --preset release
cmake --build --preset release -j2
./build/release/gvirt selftest --png selftest.png
rm -f desktop2d.png
./build/release/gvirt native --workload desktop2d --frames 200 --json desktop2d.json \
  --screenshot desktop2d.png
if [[ ! -s desktop2d.png ]]; then
  echo "demo: gvirt native did not write desktop2d.png" >&2
  exit 1
fi
echo "demo: screenshot written to $(pwd)/desktop2d.png, results in $(pwd)/desktop2d.json"
