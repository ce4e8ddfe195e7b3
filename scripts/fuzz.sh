#!/usr/bin/env bash
# Builds each libFuzzer target tests/fuzz/fuzz_<name>.cpp with clang++-14
# (ASan + UBSan) into build/fuzz/ and runs it for FUZZ_SECONDS (default 30)
# over its committed corpus tests/fuzz/corpus/fuzz_<name>/. Exits non-zero
# when a target fails to build or finds a crash, leak, timeout or UB.
#
# Usage: scripts/fuzz.sh [fuzz_<name>...]   (default: every target)
#
# New inputs go to build/fuzz/corpus/<target>/, never to the committed
# corpus; crashing inputs go to build/fuzz/artifacts/<target>/.
#
# The elf_loader seeds: valid_text_bss.elf is built from
#   static volatile unsigned char bss[8192];
#   void _start(void) { bss[0] = 1; for (;;) __asm__ volatile("hlt"); }
# with gcc-12 -O2 -ffreestanding -fno-pic -fno-asynchronous-unwind-tables
# -nostdlib -static -no-pie -Wl,-Ttext-segment=0x100000 -Wl,-z,noseparate-code
# -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -s (-Ttext alone puts the
# ELF header segment below 0x100000); trunc_<n>_* are its first n bytes.
#
# The cmd_scanner seeds (input format in tests/fuzz/fuzz_cmd_scanner.cpp) were
# written with common/gen8/encode.h's CmdWriter: the driver's RCS and BCS ring
# slices, GGTT batches on two levels with a chain and a flip, a PPGTT batch
# under scan_nonpriv, and near misses (near_*) that the scanner refuses.
#
# The ppgtt_shadow seeds (input format in tests/fuzz/fuzz_ppgtt_shadow.cpp)
# build a 4-level tree, shadow it, then: rewrite an entry at each level,
# write halves, share a PDP between two roots (PV create and destroy), unlink
# a table and reuse it as data, name frames past RAM and large pages. The
# rest of its corpus was merged in (-merge=1 -max_len=512) from the long
# acceptance runs of issue 9 (docs/gvt.md).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# What each target links besides its own file: adding a target is one line.
declare -A SOURCES=(
  [fuzz_elf_loader]="src/hv/elf_loader.cpp"
  [fuzz_cmd_scanner]="src/gvt/cmd_scanner.cpp"
  [fuzz_ppgtt_shadow]="src/gvt/ppgtt_shadow.cpp src/hv/fake_mpt.cpp src/hv/bus.cpp"
  [fuzz_vgpu_mmio]="$(echo src/gvt/*.cpp src/hv/fake_mpt.cpp src/hv/bus.cpp src/common/gen8/*.cpp src/driver/*.cpp)"
)
LIBS=(-lfmt -lspdlog)

CXX=clang++-14
CXXFLAGS=(-std=c++20 -O1 -g "-fsanitize=fuzzer,address,undefined" -fno-sanitize-recover=undefined
          -fno-omit-frame-pointer -Wall -Wextra -Werror -Isrc -Itests)
SECONDS_PER_TARGET=${FUZZ_SECONDS:-30}
if ! [[ $SECONDS_PER_TARGET =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: FUZZ_SECONDS must be a positive integer, not '$SECONDS_PER_TARGET'" >&2
  exit 2
fi

if (($#)); then
  targets=("$@")
else
  targets=()
  for f in tests/fuzz/fuzz_*.cpp; do targets+=("$(basename "$f" .cpp)"); done
fi

out=build/fuzz
mkdir -p "$out"
failed=()
for t in "${targets[@]}"; do
  if [[ ! -f tests/fuzz/$t.cpp ]]; then
    echo "fuzz.sh: no tests/fuzz/$t.cpp" >&2
    failed+=("$t")
    continue
  fi
  if [[ -z ${SOURCES[$t]+set} ]]; then
    echo "fuzz.sh: $t has no SOURCES entry in scripts/fuzz.sh" >&2
    failed+=("$t")
    continue
  fi
  echo "== $t: building"
  # shellcheck disable=SC2086  # SOURCES entries are space-separated lists
  if ! "$CXX" "${CXXFLAGS[@]}" "tests/fuzz/$t.cpp" ${SOURCES[$t]} "${LIBS[@]}" -o "$out/$t"; then
    failed+=("$t")
    continue
  fi

  corpus=("$out/corpus/$t")  # the first directory receives new inputs
  [[ -d tests/fuzz/corpus/$t ]] && corpus+=("tests/fuzz/corpus/$t")
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
  log=$out/$t.log
  echo "== $t: fuzzing for ${SECONDS_PER_TARGET}s (log: $log)"
  if "$out/$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/$t/" "${corpus[@]}" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
    echo "== $t: ok, ${runs:-?} executions, ${rate:-?} exec/s, ${cov:-cov: ?}"
  else
    tail -n 60 "$log" >&2
    echo "== $t: FAILED; reproduce with $out/$t $out/artifacts/$t/<crash-file>" >&2
    failed+=("$t")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: all ${#targets[@]} target(s) passed"
