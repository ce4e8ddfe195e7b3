#!/usr/bin/env bash
# Main job: installs dependencies, builds gvirt (release), checks the GPU
# model, then boots four KVM VMs at once, each on its own vGPU (two types),
# running the selftest workload: each VM's screen goes to demo/vmN.png and
# the results, refusals included, to demo/demo.json. Without /dev/kvm it says
# so loudly and runs desktop2d natively instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
cmake --preset release
cmake --build --preset release -j2
./build/release/gvirt selftest --png selftest.png
rm -rf demo && mkdir -p demo
if [[ ! -r /dev/kvm || ! -w /dev/kvm ]]; then
  echo "demo: NO USABLE /dev/kvm: running desktop2d natively instead of VMs on vGPUs" >&2
  ./build/release/gvirt native --workload desktop2d --frames 200 --json demo/demo.json \
    --screenshot demo/desktop2d.png
  exit 0
fi
./build/release/gvirt run --vm selftest,type=A --vm selftest,type=B --vm selftest --vm selftest \
  --json demo/demo.json --screenshots demo/
for i in 0 1 2 3; do
  if [[ ! -s demo/vm$i.png ]]; then
    echo "demo: gvirt run did not write demo/vm$i.png" >&2
    exit 1
  fi
done
echo "demo: four VMs on vGPUs passed; screens in $(pwd)/demo/vm0..3.png, results in $(pwd)/demo/demo.json"
