// The exit dispatch is a pure function: tested with fabricated exits, no KVM.
#include "hv/exit.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace hv {
namespace {

struct Recorder : BusDevice {
  struct Access {
    uint64_t offset;
    uint32_t len;
    bool write;
    uint64_t value;
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

struct Classes : ClassifiedBus {
  DeviceClass classify(uint64_t addr, bool) const override {
    return addr == 0x5000 ? DeviceClass::Wait : addr < 0x1000 ? DeviceClass::RamWrite : DeviceClass::Mmio;
  }
};

Exit mmio(uint64_t addr, uint32_t len, bool write, uint64_t value = 0) {
  Exit e;
  e.kind = Exit::Kind::Mmio;
  e.addr = addr;
  e.len = len;
  e.write = write;
  std::memcpy(e.data, &value, sizeof value);
  return e;
}

class ExitDispatch : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(mmio_bus.insert(0x4000, 0x2000, &dev));
    ASSERT_TRUE(pio_bus.insert(0x10, 4, &port));
  }
  Bus mmio_bus, pio_bus;
  Recorder dev, port;
  Classes classes;
  ExitCounters c;
};

TEST_F(ExitDispatch, MmioWriteReachesTheDeviceAtItsOffset) {
  Exit e = mmio(0x4010, 4, true, 0xABCD);
  Outcome o = dispatch(e, mmio_bus, pio_bus, &classes, c);
  EXPECT_FALSE(o.stop);
  ASSERT_EQ(dev.log.size(), 1u);
  EXPECT_EQ(dev.log[0].offset, 0x10u);
  EXPECT_EQ(dev.log[0].value, 0xABCDu);
  EXPECT_EQ(c.mmio, 1u);
  EXPECT_EQ(c.total, 1u);
}

TEST_F(ExitDispatch, MmioReadReturnsTheDeviceValue) {
  Exit e = mmio(0x5ffc, 4, false);
  dispatch(e, mmio_bus, pio_bus, &classes, c);
  uint32_t v;
  std::memcpy(&v, e.data, 4);
  EXPECT_EQ(v, 0x55667788u);
  EXPECT_EQ(dev.log[0].offset, 0x1ffcu);
}

TEST_F(ExitDispatch, UnclaimedReadsAreAllOnesAndCounted) {
  Exit e = mmio(0x9000, 4, false);
  Outcome o = dispatch(e, mmio_bus, pio_bus, &classes, c);
  EXPECT_FALSE(o.stop);
  uint32_t v;
  std::memcpy(&v, e.data, 4);
  EXPECT_EQ(v, 0xFFFFFFFFu);
  EXPECT_EQ(c.unhandled, 1u);
  EXPECT_TRUE(dev.log.empty());
}

TEST_F(ExitDispatch, ClassesCountWaitsAndWriteProtectedPages) {
  Exit w = mmio(0x5000, 8, true, 1);
  dispatch(w, mmio_bus, pio_bus, &classes, c);
  Exit ro = mmio(0x100, 8, true, 1);
  dispatch(ro, mmio_bus, pio_bus, &classes, c);
  EXPECT_EQ(c.wait, 1u);
  EXPECT_EQ(c.ro_memslot, 1u);
  EXPECT_EQ(c.mmio, 0u);
}

TEST_F(ExitDispatch, PortIo) {
  Exit e;
  e.kind = Exit::Kind::Io;
  e.addr = 0x12;
  e.len = 1;
  e.write = true;
  e.data[0] = 0x5A;
  dispatch(e, mmio_bus, pio_bus, &classes, c);
  ASSERT_EQ(port.log.size(), 1u);
  EXPECT_EQ(port.log[0].offset, 2u);
  EXPECT_EQ(port.log[0].value, 0x5Au);
  EXPECT_EQ(c.pio, 1u);
}

TEST_F(ExitDispatch, FatalExitsStopWithAClearStatus) {
  struct Case {
    Exit::Kind kind;
    const char* phrase;
  } cases[] = {{Exit::Kind::Shutdown, "triple fault"},
               {Exit::Kind::InternalError, "internal error"},
               {Exit::Kind::FailEntry, "entry failed"},
               {Exit::Kind::Hlt, "halted"},
               {Exit::Kind::Unknown, "unexpected exit"}};
  for (const auto& k : cases) {
    Exit e;
    e.kind = k.kind;
    Outcome o = dispatch(e, mmio_bus, pio_bus, &classes, c);
    EXPECT_TRUE(o.stop);
    EXPECT_NE(o.status.find(k.phrase), std::string::npos) << o.status;
    EXPECT_EQ(o.status.rfind("error: ", 0), 0u);
  }
}

TEST_F(ExitDispatch, BadAccessSizesStop) {
  Exit e = mmio(0x4000, 16, true);
  EXPECT_TRUE(dispatch(e, mmio_bus, pio_bus, &classes, c).stop);
  EXPECT_TRUE(dev.log.empty());
}

TEST_F(ExitDispatch, InterruptedRunJustContinues) {
  Exit e;
  e.kind = Exit::Kind::Intr;
  EXPECT_FALSE(dispatch(e, mmio_bus, pio_bus, &classes, c).stop);
}

}  // namespace
}  // namespace hv
