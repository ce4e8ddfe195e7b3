#include "hw/aperture.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace hw {

namespace {
constexpr uint64_t kPage = gen8::kPageSize;
constexpr uint64_t kMapped = 1;   // pages_ entry: hpa | kMapped
constexpr uint64_t kUnknown = 2;  // pages_ entry matching no request, so the next one remaps

// The kernel merges a new mapping into its neighbours only when protection
// and flags match (and, for file pages, the file offsets are contiguous).
// Every page of each kind is mapped with exactly these, so a run of GGTT
// entries pointing at contiguous HPAs collapses into one VMA and zero pages
// fold back into the anonymous VMAs around them: a fragmented 512 MiB window
// would otherwise need 131072 mappings, past vm.max_map_count (65530).
constexpr int kProt = PROT_READ | PROT_WRITE;
constexpr int kZeroFlags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
constexpr int kFileFlags = MAP_SHARED;
}  // namespace

tl::expected<std::unique_ptr<ApertureWindow>, std::string> ApertureWindow::create(
    int memfd, uint64_t memfd_size, uint64_t bytes) {
  if (bytes == 0 || bytes % kPage)
    return tl::unexpected(
        fmt::format("aperture: size {:#x} is not a non-zero page multiple", bytes));
  void* p = mmap(nullptr, bytes, kProt, kZeroFlags, -1, 0);
  if (p == MAP_FAILED)
    return tl::unexpected(
        fmt::format("aperture: mmap({:#x} bytes): {}", bytes, std::strerror(errno)));
  return std::unique_ptr<ApertureWindow>(
      new ApertureWindow(memfd, memfd_size, static_cast<uint8_t*>(p), bytes));
}

ApertureWindow::ApertureWindow(int memfd, uint64_t memfd_size, uint8_t* base, uint64_t size)
    : memfd_(memfd), memfd_size_(memfd_size), base_(base), size_(size), pages_(size / kPage) {}

ApertureWindow::~ApertureWindow() { munmap(base_, size_); }

bool ApertureWindow::map_page(uint64_t index, std::optional<uint64_t> hpa) {
  if (index >= pages_.size()) {
    spdlog::warn("aperture: refused page {} beyond the window ({} pages)", index, pages_.size());
    return false;
  }
  if (hpa && (*hpa % kPage || memfd_size_ < kPage || *hpa > memfd_size_ - kPage)) {
    spdlog::warn(
        "aperture: refused page {} -> HPA {:#x}: misaligned or outside host memory ({:#x} bytes)",
        index, *hpa, memfd_size_);
    return false;
  }
  const uint64_t want = hpa ? *hpa | kMapped : 0;
  std::lock_guard lock(mu_);
  if (pages_[index] == want) return true;
  void* at = base_ + index * kPage;
  void* r = hpa ? mmap(at, kPage, kProt, kFileFlags | MAP_FIXED, memfd_, static_cast<off_t>(*hpa))
                : mmap(at, kPage, kProt, kZeroFlags | MAP_FIXED, -1, 0);
  if (r == MAP_FAILED) {
    const int err = errno;
    spdlog::error("aperture: page {} -> {}: mmap: {}", index,
                  hpa ? fmt::format("HPA {:#x}", *hpa) : std::string("zeros"), std::strerror(err));
    // A failed MAP_FIXED may already have dropped the old page. Zeros, not
    // the stale page nor a hole, is the only safe thing to leave behind.
    const bool zeroed = mmap(at, kPage, kProt, kZeroFlags | MAP_FIXED, -1, 0) != MAP_FAILED;
    pages_[index] = zeroed ? 0 : kUnknown;
    return false;
  }
  pages_[index] = want;
  remaps_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

size_t ApertureWindow::vma_count() const {
  std::ifstream maps("/proc/self/maps");
  const uintptr_t lo = reinterpret_cast<uintptr_t>(base_), hi = lo + size_;
  size_t n = 0;
  for (std::string line; std::getline(maps, line);) {
    uintptr_t start = 0, end = 0;
    if (std::sscanf(line.c_str(), "%" SCNxPTR "-%" SCNxPTR, &start, &end) == 2 && start < hi &&
        end > lo)
      ++n;
  }
  return n;
}

}  // namespace hw
