#!/usr/bin/env bash
# Runs every test: installs dependencies, builds the release preset and runs ctest.
# The ctest output is also written to build/release/ctest.log.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
cmake --preset release
cmake --build --preset release -j2
ctest --preset release -j2 --output-on-failure 2>&1 | tee build/release/ctest.log
