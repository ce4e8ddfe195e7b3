// Host physical memory: one memfd mapped once. An HPA is an offset into it.
// The memfd is what the aperture window and the hypervisor map, so every view
// of a page is the same physical page.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tl/expected.hpp>

namespace hw {

class HostMemory {
 public:
  // `bytes` is rounded up to whole pages. The memfd is sparse: untouched
  // pages cost nothing, so a 4 GiB host is cheap.
  static tl::expected<std::unique_ptr<HostMemory>, std::string> create(uint64_t bytes);
  ~HostMemory();
  HostMemory(const HostMemory&) = delete;
  HostMemory& operator=(const HostMemory&) = delete;

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  uint8_t* base() const { return base_; }

  // HPA of `count` physically contiguous zeroed pages, first fit. Page 0 is
  // never handed out, so HPA 0 can mean "none".
  tl::expected<uint64_t, std::string> alloc_pages(uint64_t count);
  // Refuses (logs, changes nothing) a misaligned, out-of-range or double free.
  void free_pages(uint64_t hpa, uint64_t count);
  uint64_t free_pages_count() const;

  // Host pointer for [hpa, hpa + len) when it lies entirely inside host
  // memory, else nullptr with the refusal counted and `hpa` remembered.
  // Lock-free: engine threads call it concurrently.
  uint8_t* dma(uint64_t hpa, uint64_t len);
  bool dma_read(uint64_t hpa, void* dst, uint64_t len);
  bool dma_write(uint64_t hpa, const void* src, uint64_t len);
  uint64_t refused_dma() const { return refused_.load(std::memory_order_relaxed); }
  uint64_t last_refused_hpa() const { return last_refused_.load(std::memory_order_relaxed); }

 private:
  HostMemory(int fd, uint64_t size, uint8_t* base);
  void zero_pages(uint64_t page, uint64_t count);

  const int fd_;
  const uint64_t size_;
  uint8_t* const base_;

  mutable std::mutex mu_;
  std::map<uint64_t, uint64_t> free_;  // first page -> page count; disjoint, never adjacent
  uint64_t free_count_ = 0;

  std::atomic<uint64_t> refused_{0};
  std::atomic<uint64_t> last_refused_{0};
};

}  // namespace hw
