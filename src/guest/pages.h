// Guest-physical memory for the runtime and the driver (VA == GPA).
//
// pages_init() splits BootInfo's free range [free_start, free_end) into three
// fixed regions, in address order:
//   1. the page-table pool: min(16 MiB, 1/8 of the free range). Page-table
//      pages (PPGTT tables) come only from here, so a VMM that write-protects
//      them finds them together, away from data pages;
//   2. the runtime heap: min(1 MiB, 1/16 of the free range), a bump allocator;
//   3. the general pool: the rest (buffer objects, rings, contexts).
// Each pool is first-fit over a sorted free list of runs that coalesces on
// free, so freed runs are reused. Pages are zeroed when handed out, with
// 8-byte stores (a write-protected page then exits 512 times, not 4096).
// A page is never handed out twice: pages_free() refuses ranges outside the
// pool, misaligned ones and ones that overlap free space (double frees). If
// the free list is full, a freed run is leaked (and counted), never reused.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest {

enum class Pool { General, PageTable };

struct PoolStats {
  uint64_t base = 0, end = 0;  // the pool's range
  uint64_t total_pages = 0, free_pages = 0;
  uint32_t free_runs = 0;
  uint64_t leaked_pages = 0;  // freed while the free list was full
  uint64_t refused_frees = 0;
};

inline constexpr uint64_t kPage = 4096;

// False if the range is too small (< 2 MiB after alignment).
bool pages_init(uint64_t free_start, uint64_t free_end);
// `count` zeroed, contiguous, page-aligned pages; returns the GPA or 0.
uint64_t pages_alloc(uint64_t count, Pool pool);
// Returns the run to the pool it came from; false if refused (see above).
bool pages_free(uint64_t phys, uint64_t count);
PoolStats pages_stats(Pool pool);
// Which pool holds `phys`, if any.
bool pages_in_pool(uint64_t phys, Pool pool);

// The runtime heap (bump allocator: heap_free only accepts the most recent
// block back). Not zeroed. Returns nullptr when exhausted.
void* heap_alloc(size_t bytes, size_t align = 16);
void heap_free(void* p);
uint64_t heap_used();
uint64_t heap_size();

}  // namespace guest
