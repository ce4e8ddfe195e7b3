#!/usr/bin/env bash
# Main job: installs dependencies, builds gvirt (release), checks the GPU
# model, then runs `gvirt demo`: four VMs on vGPUs (desktop2d, fill, submit,
# and desktop2d on a type-B vGPU with twice the weight) share the GPU with the
# host's own workload for 5 s under the mediator's scheduler. Each screen goes
# to demo/<tenant>.png, the results to demo/demo.json, and a summary table to
# the terminal. Where /dev/kvm is not usable the VMs are soft VMs, and the
# demo says so loudly.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
cmake --preset release
cmake --build --preset release -j2
./build/release/gvirt selftest --png selftest.png
rm -rf demo
./build/release/gvirt demo --out demo
for f in vm0 vm1 vm2 vm3 host; do
  if [[ ! -s demo/$f.png ]]; then
    echo "demo: gvirt demo did not write demo/$f.png" >&2
    exit 1
  fi
done
