// CPU access to graphics memory with no trap: a host virtual window whose
// 4 KiB pages are remapped onto host-memory (memfd) pages as GGTT entries
// change. Pages with no host page behind them read as zeros, so the window
// never has holes (a hole inside a KVM memslot makes KVM_RUN fail).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "common/gen8/layout.h"

namespace hw {

class ApertureWindow {
 public:
  // `memfd` is not owned; it must stay open while map_page is in use.
  // `bytes` must be a non-zero multiple of the page size.
  static tl::expected<std::unique_ptr<ApertureWindow>, std::string> create(
      int memfd, uint64_t memfd_size, uint64_t bytes = gen8::kApertureSize);
  ~ApertureWindow();
  ApertureWindow(const ApertureWindow&) = delete;
  ApertureWindow& operator=(const ApertureWindow&) = delete;

  // Window page `index` shows the memfd page at `hpa`, or zeros for nullopt.
  // False (logged) for an index beyond the window, an hpa that is misaligned
  // or beyond the memfd, or a failed mmap (the page is then left as zeros).
  bool map_page(uint64_t index, std::optional<uint64_t> hpa);

  uint8_t* base() const { return base_; }
  uint64_t size() const { return size_; }
  // map_page calls that changed a mapping.
  uint64_t remaps() const { return remaps_.load(std::memory_order_relaxed); }
  // /proc/self/maps lines intersecting the window (for tests).
  size_t vma_count() const;

 private:
  ApertureWindow(int memfd, uint64_t memfd_size, uint8_t* base, uint64_t size);

  const int memfd_;
  const uint64_t memfd_size_;
  uint8_t* const base_;
  const uint64_t size_;

  std::mutex mu_;                // GGTT writes may come from several threads
  std::vector<uint64_t> pages_;  // per page: 0 = zeros, hpa | 1, or unknown after a failure
  std::atomic<uint64_t> remaps_{0};
};

}  // namespace hw
