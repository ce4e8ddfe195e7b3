#include "hw/host_mem.h"

#include "common/polled_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "common/gen8/layout.h"

namespace hw {

namespace {
constexpr uint64_t kPage = gen8::kPageSize;
}

tl::expected<std::unique_ptr<HostMemory>, std::string> HostMemory::create(uint64_t bytes) {
  if (bytes == 0) return tl::unexpected(std::string("host memory: size must be non-zero"));
  // off_t is signed: the size must fit in it.
  if (bytes > static_cast<uint64_t>(INT64_MAX) - (kPage - 1))
    return tl::unexpected(fmt::format("host memory: size {:#x} too large", bytes));
  const uint64_t size = (bytes + kPage - 1) & ~(kPage - 1);

  const int fd = memfd_create("gvirt-host-mem", MFD_CLOEXEC);
  if (fd < 0)
    return tl::unexpected(fmt::format("host memory: memfd_create: {}", std::strerror(errno)));
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    const int err = errno;
    close(fd);
    return tl::unexpected(
        fmt::format("host memory: ftruncate({:#x} bytes): {}", size, std::strerror(err)));
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
  if (p == MAP_FAILED) {
    const int err = errno;
    close(fd);
    return tl::unexpected(
        fmt::format("host memory: mmap({:#x} bytes): {}", size, std::strerror(err)));
  }
  return std::unique_ptr<HostMemory>(new HostMemory(fd, size, static_cast<uint8_t*>(p)));
}

HostMemory::HostMemory(int fd, uint64_t size, uint8_t* base) : fd_(fd), size_(size), base_(base) {
  const uint64_t pages = size / kPage;
  if (pages > 1) {  // page 0 is reserved
    free_.emplace(1, pages - 1);
    free_count_ = pages - 1;
  }
}

HostMemory::~HostMemory() {
  munmap(base_, size_);
  close(fd_);
}

// Punching a hole both zeroes the pages and gives their memory back to the
// host, without touching (and so faulting in) a page the way memset would.
void HostMemory::zero_pages(uint64_t page, uint64_t count) {
  if (fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(page * kPage),
                static_cast<off_t>(count * kPage)) != 0) {
    spdlog::warn("host memory: hole punch failed ({}), zeroing by hand", std::strerror(errno));
    std::memset(base_ + page * kPage, 0, count * kPage);
  }
}

tl::expected<uint64_t, std::string> HostMemory::alloc_pages(uint64_t count) {
  if (count == 0) return tl::unexpected(std::string("alloc_pages: zero pages requested"));
  uint64_t page = 0;
  {
    std::lock_guard lock(mu_);
    auto it = free_.begin();
    while (it != free_.end() && it->second < count) ++it;
    if (it == free_.end())
      return tl::unexpected(fmt::format("alloc_pages({}): no contiguous free range ({} pages free)",
                                        count, free_count_));
    page = it->first;
    const uint64_t left = it->second - count;
    free_.erase(it);
    if (left) free_.emplace(page + count, left);
    free_count_ -= count;
  }
  // Zeroed again here, not just on free: a stale mapping (aperture, DMA
  // pointer) may have written the page after it was freed. The pages are
  // ours now, so this needs no lock.
  zero_pages(page, count);
  return page * kPage;
}

void HostMemory::free_pages(uint64_t hpa, uint64_t count) {
  const uint64_t pages = size_ / kPage;
  const uint64_t page = hpa / kPage;
  if (hpa % kPage || count == 0 || page == 0 || page >= pages || count > pages - page) {
    spdlog::warn("host memory: refused free of {} pages at HPA {:#x}: out of range", count, hpa);
    return;
  }
  std::lock_guard lock(mu_);
  auto next = free_.upper_bound(page);
  const bool overlaps_next = next != free_.end() && next->first < page + count;
  auto prev = next == free_.begin() ? free_.end() : std::prev(next);
  const bool overlaps_prev = prev != free_.end() && prev->first + prev->second > page;
  if (overlaps_next || overlaps_prev) {
    spdlog::warn(
        "host memory: refused free of {} pages at HPA {:#x}: overlaps free pages (double free)",
        count, hpa);
    return;
  }
  // Under the lock: once the range is in the list another thread may
  // allocate and fill it, and a late hole punch would wipe its data.
  zero_pages(page, count);

  uint64_t start = page, len = count;
  if (prev != free_.end() && prev->first + prev->second == start) {
    start = prev->first;
    len += prev->second;
    free_.erase(prev);
  }
  if (next != free_.end() && next->first == page + count) {
    len += next->second;
    free_.erase(next);
  }
  free_.emplace(start, len);
  free_count_ += count;
}

uint64_t HostMemory::free_pages_count() const {
  std::lock_guard lock(mu_);
  return free_count_;
}

uint8_t* HostMemory::dma(uint64_t hpa, uint64_t len) {
  // Written as a subtraction so hpa + len cannot wrap.
  if (len <= size_ && hpa <= size_ - len) return base_ + hpa;
  refused_.fetch_add(1, std::memory_order_relaxed);
  last_refused_.store(hpa, std::memory_order_relaxed);
  // Debug level only: the caller raises a DMA fault, which is the report; a
  // guest spraying bad addresses must not flood the log.
  spdlog::debug("host memory: refused DMA of {:#x} bytes at HPA {:#x}", len, hpa);
  return nullptr;
}

bool HostMemory::dma_read(uint64_t hpa, void* dst, uint64_t len) {
  const uint8_t* p = dma(hpa, len);
  if (!p) return false;
  if (len) std::memcpy(dst, p, len);
  return true;
}

bool HostMemory::dma_write(uint64_t hpa, const void* src, uint64_t len) {
  uint8_t* p = dma(hpa, len);
  if (!p) return false;
  common::store_for_pollers(p, src, len);
  return true;
}

}  // namespace hw
