#include "driver/gm_alloc.h"

namespace drv {

void GmAllocator::init(uint64_t start, uint64_t end) {
  n_ = 0;
  if (end > start) r_[n_++] = {start, end};
}

// Removes [start, end) from free range i, splitting it when needed.
Result<void> GmAllocator::carve(int i, uint64_t start, uint64_t end) {
  Range r = r_[i];
  bool left = start > r.start, right = end < r.end;
  if (left && right) {
    if (n_ == kMaxRanges) return tl::unexpected(Error::NoSpace);
    for (int j = n_; j > i + 1; --j) r_[j] = r_[j - 1];
    ++n_;
    r_[i] = {r.start, start};
    r_[i + 1] = {end, r.end};
  } else if (left) {
    r_[i].end = start;
  } else if (right) {
    r_[i].start = end;
  } else {
    for (int j = i; j + 1 < n_; ++j) r_[j] = r_[j + 1];
    --n_;
  }
  return {};
}

Result<void> GmAllocator::reserve(uint64_t start, uint64_t size) {
  uint64_t end = start + size;
  if (end < start) return tl::unexpected(Error::BadArgument);
  for (int i = 0; i < n_;) {
    uint64_t s = r_[i].start > start ? r_[i].start : start;
    uint64_t e = r_[i].end < end ? r_[i].end : end;
    if (s >= e) {
      ++i;
      continue;
    }
    int before = n_;
    if (auto c = carve(i, s, e); !c) return c;
    if (n_ >= before) ++i;  // the range was split or trimmed, not removed
  }
  return {};
}

Result<uint64_t> GmAllocator::alloc(uint64_t size, uint64_t align, uint64_t lo, uint64_t hi) {
  if (!size || !align || (align & (align - 1))) return tl::unexpected(Error::BadArgument);
  for (int i = 0; i < n_; ++i) {
    uint64_t s = r_[i].start > lo ? r_[i].start : lo;
    s = (s + align - 1) & ~(align - 1);
    uint64_t limit = r_[i].end < hi ? r_[i].end : hi;
    if (s < limit && limit - s >= size) {
      if (auto c = carve(i, s, s + size); !c) return tl::unexpected(c.error());
      return s;
    }
  }
  return tl::unexpected(Error::NoSpace);
}

void GmAllocator::free(uint64_t start, uint64_t size) {
  uint64_t end = start + size;
  int i = 0;
  while (i < n_ && r_[i].start < start) ++i;
  bool join_left = i > 0 && r_[i - 1].end == start;
  bool join_right = i < n_ && r_[i].start == end;
  if (join_left && join_right) {
    r_[i - 1].end = r_[i].end;
    for (int j = i; j + 1 < n_; ++j) r_[j] = r_[j + 1];
    --n_;
  } else if (join_left) {
    r_[i - 1].end = end;
  } else if (join_right) {
    r_[i].start = start;
  } else if (n_ < kMaxRanges) {
    for (int j = n_; j > i; --j) r_[j] = r_[j - 1];
    r_[i] = {start, end};
    ++n_;
  }
}

uint64_t GmAllocator::free_bytes() const {
  uint64_t t = 0;
  for (int i = 0; i < n_; ++i) t += r_[i].end - r_[i].start;
  return t;
}

}  // namespace drv
