// FakeMpt stands in for KVM in every mediator test, so its contract is tested
// as carefully as the real thing's.
#include "hv/fake_mpt.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <numeric>
#include <vector>

namespace hv {
namespace {

constexpr uint64_t kPage = FakeMpt::kPageSize;
constexpr uint64_t kRam = 16 * kPage;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

struct Recorder : BusDevice {
  struct Access {
    uint64_t offset;
    uint32_t len;
    bool write;
    uint64_t value;
    bool operator==(const Access&) const = default;
  };
  std::vector<Access> log;
  uint64_t read_value = 0x1122334455667788ull;
  void read(uint64_t off, uint8_t* data, uint32_t len) override {
    std::memcpy(data, &read_value, len);
    log.push_back({off, len, false, 0});
  }
  void write(uint64_t off, const uint8_t* data, uint32_t len) override {
    uint64_t v = 0;
    std::memcpy(&v, data, len);
    log.push_back({off, len, true, v});
  }
};

struct Write {
  uint64_t gpa;
  std::vector<uint8_t> data;
  bool operator==(const Write&) const = default;
};

std::vector<uint8_t> pattern(size_t n, uint8_t first) {
  std::vector<uint8_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(FakeMpt, ReadWriteGpaBounds) {
  FakeMpt mpt(kRam);
  EXPECT_EQ(mpt.ram_size(), kRam);
  const uint32_t v = 0xA1B2C3D4;
  uint32_t r = 0;
  EXPECT_TRUE(mpt.write_gpa(0, &v, 4));
  EXPECT_TRUE(mpt.read_gpa(0, &r, 4));
  EXPECT_EQ(r, v);
  EXPECT_TRUE(mpt.write_gpa(kRam - 4, &v, 4));
  EXPECT_TRUE(mpt.read_gpa(kRam - 4, &r, 4));
  EXPECT_EQ(std::memcmp(mpt.ram() + kRam - 4, &v, 4), 0);

  // One byte past the end, a wrapping address, a length beyond RAM.
  const std::vector<uint8_t> big(kRam + 1, 0xEE);
  std::vector<uint8_t> sink(kRam + 1, 0);
  EXPECT_FALSE(mpt.write_gpa(kRam - 3, &v, 4));
  EXPECT_FALSE(mpt.read_gpa(kRam - 3, &r, 4));
  EXPECT_FALSE(mpt.write_gpa(kMax - 1, &v, 4));
  EXPECT_FALSE(mpt.read_gpa(kMax - 1, &r, 4));
  EXPECT_FALSE(mpt.write_gpa(0, big.data(), big.size()));
  EXPECT_FALSE(mpt.read_gpa(0, sink.data(), sink.size()));
  EXPECT_EQ(std::memcmp(mpt.ram() + kRam - 4, &v, 4), 0) << "a refused write changed RAM";
  EXPECT_EQ(std::memcmp(mpt.ram(), &v, 4), 0) << "a refused write changed RAM";

  // Empty accesses up to the end are fine, past it are not.
  EXPECT_TRUE(mpt.read_gpa(kRam, nullptr, 0));
  EXPECT_TRUE(mpt.write_gpa(kRam, nullptr, 0));
  EXPECT_FALSE(mpt.write_gpa(kRam + 1, nullptr, 0));
}

TEST(FakeMpt, PinCountsPerGfn) {
  FakeMpt mpt(kRam);
  EXPECT_EQ(mpt.pin_gfn(3), FakeMpt::kDefaultHostBase + 3 * kPage);
  EXPECT_EQ(mpt.pin_gfn(3), FakeMpt::kDefaultHostBase + 3 * kPage);
  EXPECT_EQ(mpt.pin_gfn(0), FakeMpt::kDefaultHostBase);
  EXPECT_EQ(mpt.pin_count(3), 2u);
  EXPECT_EQ(mpt.pin_count(0), 1u);
  EXPECT_EQ(mpt.pinned_pages(), 2u);

  mpt.unpin_gfn(3);
  EXPECT_EQ(mpt.pin_count(3), 1u);
  mpt.unpin_gfn(3);
  mpt.unpin_gfn(0);
  EXPECT_EQ(mpt.pin_count(3), 0u);
  EXPECT_EQ(mpt.pinned_pages(), 0u);
  EXPECT_EQ(mpt.bad_unpins(), 0u);
  mpt.unpin_gfn(3);
  mpt.unpin_gfn(kMax);
  EXPECT_EQ(mpt.bad_unpins(), 2u);
  EXPECT_EQ(mpt.pin_count(3), 0u);
}

TEST(FakeMpt, PinRefusesGfnsOutsideRam) {
  FakeMpt mpt(kRam);
  EXPECT_EQ(mpt.pin_gfn(kRam / kPage - 1), FakeMpt::kDefaultHostBase + kRam - kPage);
  EXPECT_EQ(mpt.pin_gfn(kRam / kPage), std::nullopt);
  EXPECT_EQ(mpt.pin_gfn(kMax), std::nullopt);
  EXPECT_EQ(mpt.pin_gfn(kMax / kPage + 1), std::nullopt);
  EXPECT_EQ(mpt.pinned_pages(), 1u);

  // A page only partly in RAM is not a page of RAM.
  FakeMpt ragged(3 * kPage + 100, 4096, 0x1000'0000);
  EXPECT_EQ(ragged.pin_gfn(2), 0x1000'0000u + 2 * kPage);
  EXPECT_EQ(ragged.pin_gfn(3), std::nullopt);
  EXPECT_EQ(ragged.host_base(), 0x1000'0000u);
}

TEST(FakeMpt, TrappedMmioDispatchesOffsets) {
  FakeMpt mpt(kRam);
  Recorder dev;
  const uint64_t base = 0xC000'0000;
  ASSERT_TRUE(mpt.trap_mmio(base, kPage, &dev));

  const uint32_t v = 0xDEADBEEF;
  EXPECT_TRUE(mpt.mmio_write(base + 0x10, &v, 4));
  uint64_t r = 0;
  EXPECT_TRUE(mpt.mmio_read(base + kPage - 8, &r, 8));
  EXPECT_EQ(r, dev.read_value);
  uint8_t b = 0;
  EXPECT_TRUE(mpt.mmio_read(base, &b, 1));
  EXPECT_EQ(b, 0x88);
  const std::vector<Recorder::Access> want = {
      {0x10, 4, true, 0xDEADBEEF}, {kPage - 8, 8, false, 0}, {0, 1, false, 0}};
  EXPECT_EQ(dev.log, want);
}

TEST(FakeMpt, MmioRefusesBadAccesses) {
  FakeMpt mpt(kRam);
  Recorder dev;
  const uint64_t base = 0xC000'0000;
  ASSERT_TRUE(mpt.trap_mmio(base, kPage, &dev));
  uint64_t v = 0;
  EXPECT_FALSE(mpt.mmio_write(base, &v, 3));  // not 1, 2, 4 or 8
  EXPECT_FALSE(mpt.mmio_write(base, &v, 16));
  EXPECT_FALSE(mpt.mmio_write(base, &v, 0));
  EXPECT_FALSE(mpt.mmio_read(base + kPage - 2, &v, 4));  // straddles the end
  EXPECT_FALSE(mpt.mmio_read(base - 2, &v, 4));          // straddles the start
  EXPECT_FALSE(mpt.mmio_read(base + kPage, &v, 4));      // just past it
  EXPECT_FALSE(mpt.mmio_write(kMax - 1, &v, 4));         // wraps
  EXPECT_FALSE(mpt.mmio_write(0, &v, 4));                // RAM, not MMIO
  EXPECT_TRUE(dev.log.empty());

  // An access straddling two adjacent traps reaches neither.
  Recorder next;
  ASSERT_TRUE(mpt.trap_mmio(base + kPage, kPage, &next));
  EXPECT_FALSE(mpt.mmio_write(base + kPage - 4, &v, 8));
  EXPECT_TRUE(mpt.mmio_write(base + kPage, &v, 8));
  EXPECT_TRUE(dev.log.empty());
  EXPECT_EQ(next.log.size(), 1u);

  mpt.untrap_mmio(base);
  EXPECT_FALSE(mpt.mmio_write(base, &v, 4));
  EXPECT_TRUE(mpt.mmio_write(base + kPage, &v, 4));
}

TEST(FakeMpt, TrapRefusesRamOverlapAndBadRanges) {
  FakeMpt mpt(kRam);
  Recorder dev;
  EXPECT_FALSE(mpt.trap_mmio(0, kPage, &dev));
  EXPECT_FALSE(mpt.trap_mmio(kRam - 1, 2, &dev));
  EXPECT_TRUE(mpt.trap_mmio(kRam, 2, &dev));  // right after RAM, any granularity
  EXPECT_FALSE(mpt.trap_mmio(kRam + 1, 4, &dev));
  EXPECT_FALSE(mpt.trap_mmio(0x1'0000'0000, 0, &dev));
  EXPECT_FALSE(mpt.trap_mmio(kMax - 3, 8, &dev));
  EXPECT_FALSE(mpt.trap_mmio(0x1'0000'0000, kPage, nullptr));
  // Untrapping an unknown base changes nothing.
  mpt.untrap_mmio(kRam + 1);
  uint16_t v = 0;
  EXPECT_TRUE(mpt.mmio_write(kRam, &v, 2));
}

TEST(FakeMpt, MapGpaRecordsAndRefusesOverlap) {
  FakeMpt mpt(kRam);
  Recorder dev;
  std::vector<uint8_t> host(4 * kPage);
  const uint64_t aperture = 0x8000'0000;
  ASSERT_TRUE(mpt.trap_mmio(0xC000'0000, kPage, &dev));
  ASSERT_TRUE(mpt.map_gpa(aperture, 2 * kPage, host.data()));
  auto maps = mpt.mappings();
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps.at(aperture).size, 2 * kPage);
  EXPECT_EQ(maps.at(aperture).host, host.data());

  EXPECT_FALSE(mpt.map_gpa(0, kPage, host.data()));                         // RAM
  EXPECT_FALSE(mpt.map_gpa(kRam - kPage, 2 * kPage, host.data()));          // straddles RAM's end
  EXPECT_FALSE(mpt.map_gpa(0xC000'0000, kPage, host.data()));               // a trap
  EXPECT_FALSE(mpt.map_gpa(0xBFFF'F000, 2 * kPage, host.data()));           // runs into a trap
  EXPECT_FALSE(mpt.map_gpa(aperture + kPage, 2 * kPage, host.data()));      // another mapping
  EXPECT_FALSE(mpt.map_gpa(aperture - kPage, 4 * kPage, host.data()));      // contains it
  EXPECT_FALSE(mpt.trap_mmio(aperture + kPage, 4, &dev));                   // a trap on a mapping
  EXPECT_FALSE(mpt.map_gpa(aperture + 4 * kPage + 1, kPage, host.data()));  // unaligned GPA
  EXPECT_FALSE(mpt.map_gpa(aperture + 4 * kPage, kPage + 1, host.data()));  // unaligned size
  EXPECT_FALSE(mpt.map_gpa(aperture + 4 * kPage, 0, host.data()));
  EXPECT_FALSE(mpt.map_gpa(aperture + 4 * kPage, kPage, nullptr));
  EXPECT_FALSE(mpt.map_gpa(kMax - kPage + 1, 2 * kPage, host.data()));  // wraps
  EXPECT_TRUE(mpt.map_gpa(aperture + 2 * kPage, kPage, host.data()));   // adjacent
  EXPECT_TRUE(mpt.map_gpa(aperture - kPage, kPage, host.data()));       // adjacent

  mpt.unmap_gpa(aperture);
  EXPECT_EQ(mpt.mappings().size(), 2u);
  EXPECT_TRUE(mpt.map_gpa(aperture, 2 * kPage, host.data() + kPage));
  EXPECT_EQ(mpt.mappings().at(aperture).host, host.data() + kPage);
}

TEST(FakeMpt, InjectMsiAppends) {
  FakeMpt mpt(kRam);
  EXPECT_EQ(mpt.msi_count(), 0u);
  mpt.inject_msi(0xFEE0'0000, 0x41);
  mpt.inject_msi(0xFEE0'1000, 0x42);
  const std::vector<FakeMpt::Msi> want = {{0xFEE0'0000, 0x41}, {0xFEE0'1000, 0x42}};
  EXPECT_EQ(mpt.msis, want);
  EXPECT_EQ(mpt.msi_count(), 2u);
}

// Lent RAM: the guest's RAM is the caller's "host memory" at host_base, so a
// frame pin_gfn hands out is the very page read_gpa, write_gpa, guest_write
// and ram() reach, both ways.
TEST(FakeMpt, LentRamIsWhatPinnedFramesShow) {
  std::vector<uint8_t> host(kRam + 4 * kPage, 0x5A);  // guest RAM is [2 pages, 2 pages + kRam)
  const uint64_t base = 2 * kPage;
  FakeMpt mpt(kRam, 4096, base, host.data() + base);
  EXPECT_EQ(mpt.ram(), host.data() + base);
  EXPECT_EQ(mpt.ram_size(), kRam);
  auto hpa = mpt.pin_gfn(3);
  ASSERT_TRUE(hpa);
  EXPECT_EQ(*hpa, base + 3 * kPage);

  const uint32_t v = 0xC0DE1234;
  ASSERT_TRUE(mpt.write_gpa(3 * kPage + 8, &v, 4));
  uint32_t seen = 0;
  std::memcpy(&seen, host.data() + *hpa + 8, 4);
  EXPECT_EQ(seen, v);  // the CPU's store is what the GPU reads at the HPA
  const uint32_t dma = 0x600DF00D;
  std::memcpy(host.data() + *hpa + 16, &dma, 4);
  ASSERT_TRUE(mpt.read_gpa(3 * kPage + 16, &seen, 4));
  EXPECT_EQ(seen, dma);  // and the GPU's write is what the CPU reads
  ASSERT_TRUE(mpt.guest_write(3 * kPage + 24, &v, 4));
  std::memcpy(&seen, host.data() + *hpa + 24, 4);
  EXPECT_EQ(seen, v);

  // Nothing outside the lent range is RAM, and nothing outside it changes.
  EXPECT_FALSE(mpt.write_gpa(kRam - 2, &v, 4));
  EXPECT_FALSE(mpt.guest_write(kRam, &v, 4));
  EXPECT_FALSE(mpt.pin_gfn(kRam / kPage));
  for (size_t i = 0; i < base; ++i) ASSERT_EQ(host[i], 0x5A) << "below RAM, byte " << i;
  for (size_t i = base + kRam; i < host.size(); ++i) ASSERT_EQ(host[i], 0x5A) << "above RAM, byte " << i;
  // Traps may not overlap the lent RAM either.
  Recorder dev;
  EXPECT_FALSE(mpt.trap_mmio(kRam - kPage, kPage, &dev));
  EXPECT_TRUE(mpt.trap_mmio(kRam, kPage, &dev));
}

TEST(FakeMpt, ProtectHonoursTheCap) {
  FakeMpt mpt(kRam, 2);
  auto nop = [](uint64_t, const uint8_t*, uint32_t) {};
  EXPECT_TRUE(mpt.protect_page(0, nop));
  EXPECT_TRUE(mpt.protect_page(1, nop));
  EXPECT_FALSE(mpt.protect_page(2, nop));
  EXPECT_EQ(mpt.protected_pages(), 2u);

  // Re-protecting does not count against the cap and replaces the callback.
  int replaced = 0;
  EXPECT_TRUE(mpt.protect_page(1, [&](uint64_t, const uint8_t*, uint32_t) { ++replaced; }));
  EXPECT_EQ(mpt.protected_pages(), 2u);
  const uint8_t b = 1;
  EXPECT_TRUE(mpt.guest_write(kPage, &b, 1));
  EXPECT_EQ(replaced, 1);

  mpt.unprotect_page(0);
  EXPECT_EQ(mpt.protected_pages(), 1u);
  EXPECT_TRUE(mpt.protect_page(2, nop));
  mpt.unprotect_page(7);  // never protected
  EXPECT_EQ(mpt.protected_pages(), 2u);
}

TEST(FakeMpt, ProtectRefusesOutsideRamAndEmptyCallback) {
  FakeMpt mpt(kRam);
  auto nop = [](uint64_t, const uint8_t*, uint32_t) {};
  EXPECT_FALSE(mpt.protect_page(kRam / kPage, nop));
  EXPECT_FALSE(mpt.protect_page(kMax, nop));
  EXPECT_FALSE(mpt.protect_page(0, WriteCallback{}));
  EXPECT_EQ(mpt.protected_pages(), 0u);
}

TEST(FakeMpt, CallbackSeesTheWriteAlreadyInRam) {
  FakeMpt mpt(kRam);
  std::vector<Write> seen;
  bool committed = false;
  ASSERT_TRUE(mpt.protect_page(2, [&](uint64_t gpa, const uint8_t* data, uint32_t len) {
    seen.push_back({gpa, {data, data + len}});
    std::vector<uint8_t> in_ram(len);
    committed = mpt.read_gpa(gpa, in_ram.data(), len) && std::memcmp(in_ram.data(), data, len) == 0;
  }));
  const uint64_t v = 0x0123456789ABCDEFull;
  ASSERT_TRUE(mpt.guest_write(2 * kPage + 0x40, &v, 8));
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].gpa, 2 * kPage + 0x40);
  EXPECT_EQ(seen[0].data.size(), 8u);
  EXPECT_EQ(std::memcmp(seen[0].data.data(), &v, 8), 0);
  EXPECT_TRUE(committed);

  // Writes elsewhere and host-side writes do not trap.
  EXPECT_TRUE(mpt.guest_write(kPage, &v, 8));
  EXPECT_TRUE(mpt.write_gpa(2 * kPage, &v, 8));
  EXPECT_EQ(seen.size(), 1u);
}

TEST(FakeMpt, GuestWritesSplitPerPage) {
  FakeMpt mpt(kRam);
  std::vector<Write> seen;
  bool whole_store_committed = false;
  const auto src = pattern(kPage + 16, 7);
  // Starts 8 bytes before page 1, covers it, ends 8 bytes into page 2.
  const uint64_t gpa = kPage - 8;
  auto record = [&](uint64_t at, const uint8_t* data, uint32_t len) {
    seen.push_back({at, {data, data + len}});
    // Even the first callback sees the store's last bytes in RAM.
    whole_store_committed = std::memcmp(mpt.ram() + gpa, src.data(), src.size()) == 0;
  };
  ASSERT_TRUE(mpt.protect_page(1, record));
  ASSERT_TRUE(mpt.protect_page(2, record));
  ASSERT_TRUE(mpt.guest_write(gpa, src.data(), src.size()));
  const std::vector<Write> want = {
      {kPage, {src.begin() + 8, src.begin() + 8 + kPage}},
      {2 * kPage, {src.begin() + 8 + kPage, src.end()}},
  };
  EXPECT_EQ(seen, want);
  EXPECT_TRUE(whole_store_committed);
}

TEST(FakeMpt, GuestWriteOutsideRamWritesNothing) {
  FakeMpt mpt(kRam);
  int calls = 0;
  ASSERT_TRUE(
      mpt.protect_page(kRam / kPage - 1, [&](uint64_t, const uint8_t*, uint32_t) { ++calls; }));
  const uint64_t v = kMax;
  EXPECT_FALSE(mpt.guest_write(kRam - 4, &v, 8));
  EXPECT_FALSE(mpt.guest_write(kMax - 3, &v, 8));
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(mpt.ram()[kRam - 4], 0);
  EXPECT_TRUE(mpt.guest_write(kRam, nullptr, 0));
  EXPECT_EQ(calls, 0);
}

TEST(FakeMpt, CallbackMayUnprotectItsOwnPage) {
  FakeMpt mpt(kRam);
  int calls = 0;
  ASSERT_TRUE(mpt.protect_page(4, [&](uint64_t gpa, const uint8_t*, uint32_t) {
    ++calls;
    mpt.unprotect_page(gpa / kPage);
  }));
  const uint32_t v = 1;
  EXPECT_TRUE(mpt.guest_write(4 * kPage, &v, 4));
  EXPECT_TRUE(mpt.guest_write(4 * kPage, &v, 4));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(mpt.protected_pages(), 0u);
}

}  // namespace
}  // namespace hv
