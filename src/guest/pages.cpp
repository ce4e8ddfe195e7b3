#include "guest/pages.h"

namespace guest {

namespace {

struct Run {
  uint64_t base, count;  // base is a GPA, count in pages
};

class PagePool {
 public:
  static constexpr int kMaxRuns = 1024;

  void init(uint64_t base, uint64_t end) {
    base_ = base;
    end_ = end;
    total_ = (end - base) / kPage;
    n_ = 0;
    if (total_) runs_[n_++] = Run{base, total_};
    free_ = total_;
  }

  uint64_t alloc(uint64_t count) {
    if (!count) return 0;
    for (int i = 0; i < n_; ++i) {
      if (runs_[i].count < count) continue;
      uint64_t p = runs_[i].base;
      runs_[i].base += count * kPage;
      runs_[i].count -= count;
      if (!runs_[i].count) erase(i);
      free_ -= count;
      return p;
    }
    return 0;
  }

  bool contains(uint64_t phys) const { return phys >= base_ && phys < end_; }

  bool free(uint64_t phys, uint64_t count) {
    uint64_t bytes = count * kPage;
    if (!count || phys % kPage || phys < base_ || phys >= end_ || bytes / kPage != count ||
        bytes > end_ - phys) {
      ++refused_;
      return false;
    }
    // The first free run above phys.
    int i = 0;
    while (i < n_ && runs_[i].base < phys) ++i;
    bool merge_prev = false, merge_next = false;
    if (i > 0) {
      const Run& prev = runs_[i - 1];
      uint64_t prev_end = prev.base + prev.count * kPage;
      if (prev_end > phys) {  // overlaps free space: a double free
        ++refused_;
        return false;
      }
      merge_prev = prev_end == phys;
    }
    if (i < n_) {
      if (phys + bytes > runs_[i].base) {
        ++refused_;
        return false;
      }
      merge_next = phys + bytes == runs_[i].base;
    }
    if (merge_prev && merge_next) {
      runs_[i - 1].count += count + runs_[i].count;
      erase(i);
    } else if (merge_prev) {
      runs_[i - 1].count += count;
    } else if (merge_next) {
      runs_[i].base = phys;
      runs_[i].count += count;
    } else {
      if (n_ == kMaxRuns) {  // never reuse what cannot be tracked
        leaked_ += count;
        return true;
      }
      for (int j = n_; j > i; --j) runs_[j] = runs_[j - 1];
      runs_[i] = Run{phys, count};
      ++n_;
    }
    free_ += count;
    return true;
  }

  PoolStats stats() const {
    PoolStats s;
    s.base = base_;
    s.end = end_;
    s.total_pages = total_;
    s.free_pages = free_;
    s.free_runs = static_cast<uint32_t>(n_);
    s.leaked_pages = leaked_;
    s.refused_frees = refused_;
    return s;
  }

 private:
  void erase(int i) {
    for (int j = i; j + 1 < n_; ++j) runs_[j] = runs_[j + 1];
    --n_;
  }

  uint64_t base_ = 0, end_ = 0, total_ = 0, free_ = 0, leaked_ = 0, refused_ = 0;
  Run runs_[kMaxRuns];
  int n_ = 0;
};

PagePool g_general, g_pt;
uint64_t g_heap_base = 0, g_heap_end = 0, g_heap_top = 0, g_heap_last = 0;

constexpr uint64_t kMiB = 1ull << 20;

uint64_t page_down(uint64_t v) { return v & ~(kPage - 1); }
uint64_t page_up(uint64_t v) { return page_down(v + kPage - 1); }
uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

void zero_pages(uint64_t phys, uint64_t count) {
  uint64_t n = count * (kPage / 8);
  void* p = reinterpret_cast<void*>(phys);
  asm volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ull) : "memory");
}

}  // namespace

bool pages_init(uint64_t free_start, uint64_t free_end) {
  uint64_t start = page_up(free_start), end = page_down(free_end);
  if (end <= start || end - start < 2 * kMiB) return false;
  uint64_t total = end - start;
  uint64_t pt = page_down(min64(16 * kMiB, total / 8));
  uint64_t heap = page_down(min64(1 * kMiB, total / 16));
  g_pt.init(start, start + pt);
  g_heap_base = g_heap_top = g_heap_last = start + pt;
  g_heap_end = g_heap_base + heap;
  g_general.init(g_heap_end, end);
  return true;
}

uint64_t pages_alloc(uint64_t count, Pool pool) {
  uint64_t p = (pool == Pool::PageTable ? g_pt : g_general).alloc(count);
  if (p) zero_pages(p, count);
  return p;
}

bool pages_free(uint64_t phys, uint64_t count) {
  if (g_pt.contains(phys)) return g_pt.free(phys, count);
  return g_general.free(phys, count);  // refuses (and counts) anything outside
}

PoolStats pages_stats(Pool pool) { return (pool == Pool::PageTable ? g_pt : g_general).stats(); }

bool pages_in_pool(uint64_t phys, Pool pool) {
  return (pool == Pool::PageTable ? g_pt : g_general).contains(phys);
}

void* heap_alloc(size_t bytes, size_t align) {
  if (!align || (align & (align - 1))) return nullptr;
  uint64_t p = (g_heap_top + align - 1) & ~(uint64_t{align} - 1);
  if (p < g_heap_top || p > g_heap_end || bytes > g_heap_end - p) return nullptr;
  g_heap_last = g_heap_top;
  g_heap_top = p + bytes;
  return reinterpret_cast<void*>(p);
}

void heap_free(void* p) {
  // A bump allocator: only the newest block can be given back.
  uint64_t a = reinterpret_cast<uint64_t>(p);
  if (a && a >= g_heap_last && a < g_heap_top) {
    g_heap_top = g_heap_last;
  }
}

uint64_t heap_used() { return g_heap_top - g_heap_base; }
uint64_t heap_size() { return g_heap_end - g_heap_base; }

}  // namespace guest
