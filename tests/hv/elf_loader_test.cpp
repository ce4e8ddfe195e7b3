// The ELF loader against images built field by field, so each refusal is
// provoked by exactly one bad field.
#include "hv/elf_loader.h"

#include <elf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <random>

namespace hv {
namespace {

constexpr uint64_t kRamSize = 4ull << 20;
constexpr uint64_t kMinGpa = 0x100000;
constexpr uint64_t kTextGpa = 0x100000;
constexpr uint64_t kDataGpa = 0x200000;
constexpr uint64_t kBodyOffset = 0x200;  // room for 8 program headers after the ELF header
constexpr uint8_t kPoison = 0xCC;
constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// A static executable: 16 bytes of text (entry at +4), then 8 bytes of data
// followed by 8 KiB - 8 of bss.
struct TestElf {
  Elf64_Ehdr eh{};
  std::vector<Elf64_Phdr> ph;
  std::vector<uint8_t> body;      // file bytes from kBodyOffset
  std::optional<uint16_t> phnum;  // e_phnum when not ph.size()

  TestElf() {
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = kTextGpa + 4;
    eh.e_phoff = sizeof(Elf64_Ehdr);
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    for (int i = 0; i < 24; ++i) body.push_back(static_cast<uint8_t>(0x10 + i));
    ph.push_back(load(kBodyOffset, kTextGpa, 16, 16, PF_R | PF_X));
    ph.push_back(load(kBodyOffset + 16, kDataGpa, 8, 0x2000, PF_R | PF_W));
  }

  static Elf64_Phdr load(uint64_t offset, uint64_t gpa, uint64_t filesz, uint64_t memsz,
                         uint32_t flags) {
    Elf64_Phdr p{};
    p.p_type = PT_LOAD;
    p.p_flags = flags;
    p.p_offset = offset;
    p.p_vaddr = p.p_paddr = gpa;
    p.p_filesz = filesz;
    p.p_memsz = memsz;
    p.p_align = 0x1000;
    return p;
  }

  // Program headers always go right after the ELF header, whatever e_phoff
  // and e_phnum say, so those two can be corrupted on their own.
  std::vector<uint8_t> bytes() const {
    Elf64_Ehdr h = eh;
    h.e_phnum = phnum.value_or(static_cast<uint16_t>(ph.size()));
    std::vector<uint8_t> out(kBodyOffset + body.size());
    std::memcpy(out.data(), &h, sizeof(h));
    EXPECT_LE(sizeof(eh) + ph.size() * sizeof(Elf64_Phdr), kBodyOffset);
    std::memcpy(out.data() + sizeof(eh), ph.data(), ph.size() * sizeof(Elf64_Phdr));
    std::memcpy(out.data() + kBodyOffset, body.data(), body.size());
    return out;
  }
};

struct Ram {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(kRamSize, kPoison);
  bool untouched() const { return bytes == Ram().bytes; }
};

tl::expected<ElfImage, std::string> load(std::span<const uint8_t> file, Ram& ram,
                                         uint64_t ram_size = kRamSize) {
  return load_elf(file, ram.bytes.data(), ram_size, kMinGpa);
}

TEST(ElfLoader, LoadsAValidImage) {
  TestElf elf;
  const auto file = elf.bytes();
  Ram ram;
  auto img = load(file, ram);
  ASSERT_TRUE(img) << img.error();
  EXPECT_EQ(img->entry, kTextGpa + 4);
  EXPECT_EQ(img->lowest, kTextGpa);
  EXPECT_EQ(img->highest, kDataGpa + 0x2000);
  EXPECT_EQ(std::memcmp(&ram.bytes[kTextGpa], &file[kBodyOffset], 16), 0);
  EXPECT_EQ(std::memcmp(&ram.bytes[kDataGpa], &file[kBodyOffset + 16], 8), 0);
  for (uint64_t a = kDataGpa + 8; a < kDataGpa + 0x2000; ++a) ASSERT_EQ(ram.bytes[a], 0) << a;
  // Nothing outside the segments is written.
  EXPECT_EQ(ram.bytes[kTextGpa - 1], kPoison);
  EXPECT_EQ(ram.bytes[kTextGpa + 16], kPoison);
  EXPECT_EQ(ram.bytes[kDataGpa - 1], kPoison);
  EXPECT_EQ(ram.bytes[kDataGpa + 0x2000], kPoison);
}

TEST(ElfLoader, IgnoresOtherSegmentsAndEmptyLoads) {
  TestElf elf;
  Elf64_Phdr note{};
  note.p_type = PT_NOTE;
  note.p_offset = kMax;  // never read
  elf.ph.push_back(note);
  // An empty PT_LOAD anywhere occupies nothing.
  elf.ph.push_back(TestElf::load(0, kMax - 4, 0, 0, PF_R | PF_X));
  Ram ram;
  auto img = load(elf.bytes(), ram);
  ASSERT_TRUE(img) << img.error();
  EXPECT_EQ(img->lowest, kTextGpa);
}

TEST(ElfLoader, AcceptsExactBoundaries) {
  TestElf elf;
  // Text starts at min_gpa, data starts where text ends and ends at RAM's end.
  elf.ph[1].p_vaddr = elf.ph[1].p_paddr = kTextGpa + 16;
  elf.ph[1].p_memsz = kRamSize - (kTextGpa + 16);
  elf.eh.e_entry = kTextGpa + 15;  // the last file byte of the text
  Ram ram;
  auto img = load(elf.bytes(), ram);
  ASSERT_TRUE(img) << img.error();
  EXPECT_EQ(img->highest, kRamSize);
}

TEST(ElfLoader, SegmentsNeedNotBeInFileOrder) {
  TestElf elf;
  std::swap(elf.ph[0], elf.ph[1]);
  Ram ram;
  auto img = load(elf.bytes(), ram);
  ASSERT_TRUE(img) << img.error();
  EXPECT_EQ(img->lowest, kTextGpa);
  EXPECT_EQ(img->highest, kDataGpa + 0x2000);
}

struct Refusal {
  const char* name;
  std::function<void(TestElf&)> corrupt;
  const char* phrase;
};

TEST(ElfLoader, RefusesEachBadFieldAndLeavesRamUntouched) {
  const std::vector<Refusal> cases = {
      {"bad magic", [](TestElf& e) { e.eh.e_ident[EI_MAG1] = 'X'; }, "bad magic"},
      {"32-bit", [](TestElf& e) { e.eh.e_ident[EI_CLASS] = ELFCLASS32; }, "ELFCLASS64"},
      {"big-endian", [](TestElf& e) { e.eh.e_ident[EI_DATA] = ELFDATA2MSB; }, "little-endian"},
      {"ET_DYN", [](TestElf& e) { e.eh.e_type = ET_DYN; }, "ET_EXEC"},
      {"i386", [](TestElf& e) { e.eh.e_machine = EM_386; }, "EM_X86_64"},
      {"phentsize", [](TestElf& e) { e.eh.e_phentsize = 32; }, "program header size"},
      {"phoff past end", [](TestElf& e) { e.eh.e_phoff = 0x10000; }, "program header table"},
      {"phoff wraps", [](TestElf& e) { e.eh.e_phoff = kMax - 8; }, "program header table"},
      {"phnum too big", [](TestElf& e) { e.phnum = 0xFFFF; }, "program header table"},
      {"no phdrs", [](TestElf& e) { e.ph.clear(); }, "no non-empty PT_LOAD"},
      {"no PT_LOAD",
       [](TestElf& e) {
         for (auto& p : e.ph) p.p_type = PT_NOTE;
       },
       "no non-empty PT_LOAD"},
      {"file range past end", [](TestElf& e) { e.ph[1].p_offset = kBodyOffset + 20; },
       "outside the"},
      {"file offset wraps", [](TestElf& e) { e.ph[1].p_offset = kMax - 4; }, "outside the"},
      {"filesz huge", [](TestElf& e) { e.ph[1].p_filesz = kMax; }, "outside the"},
      {"filesz > memsz", [](TestElf& e) { e.ph[1].p_memsz = 4; }, "larger than p_memsz"},
      {"vaddr != paddr", [](TestElf& e) { e.ph[1].p_paddr += 0x1000; }, "identity-mapped"},
      {"below min_gpa",
       [](TestElf& e) {
         e.ph[0].p_vaddr = e.ph[0].p_paddr = kMinGpa - 0x1000;
         e.eh.e_entry = kMinGpa - 0x1000;
       },
       "outside guest RAM"},
      {"straddles min_gpa",
       [](TestElf& e) {
         e.ph[0].p_vaddr = e.ph[0].p_paddr = kMinGpa - 8;
         e.eh.e_entry = kMinGpa;
       },
       "outside guest RAM"},
      {"past RAM end", [](TestElf& e) { e.ph[1].p_vaddr = e.ph[1].p_paddr = kRamSize - 0x1000; },
       "outside guest RAM"},
      {"address wraps", [](TestElf& e) { e.ph[1].p_vaddr = e.ph[1].p_paddr = kMax - 0xFFF; },
       "outside guest RAM"},
      {"memsz huge", [](TestElf& e) { e.ph[1].p_memsz = kMax; }, "outside guest RAM"},
      {"overlap", [](TestElf& e) { e.ph[1].p_vaddr = e.ph[1].p_paddr = kTextGpa + 15; }, "overlap"},
      {"contained",
       [](TestElf& e) {
         e.ph[1].p_vaddr = e.ph[1].p_paddr = kTextGpa + 4;
         e.ph[1].p_memsz = 8;
       },
       "overlap"},
      {"same address", [](TestElf& e) { e.ph[1].p_vaddr = e.ph[1].p_paddr = kTextGpa; }, "overlap"},
      {"entry outside", [](TestElf& e) { e.eh.e_entry = 0x300000; }, "entry point"},
      {"entry past file bytes", [](TestElf& e) { e.eh.e_entry = kTextGpa + 16; }, "entry point"},
      {"entry in bss of text",
       [](TestElf& e) {
         e.ph[0].p_memsz = 0x1000;
         e.eh.e_entry = kTextGpa + 0x800;
       },
       "entry point"},
      {"entry not executable", [](TestElf& e) { e.eh.e_entry = kDataGpa; }, "entry point"},
      {"text not executable", [](TestElf& e) { e.ph[0].p_flags = PF_R; }, "PF_X"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TestElf elf;
    c.corrupt(elf);
    Ram ram;
    auto img = load(elf.bytes(), ram);
    ASSERT_FALSE(img);
    EXPECT_NE(img.error().find(c.phrase), std::string::npos) << img.error();
    EXPECT_TRUE(ram.untouched());
  }
}

TEST(ElfLoader, RefusesTruncatedHeader) {
  TestElf elf;
  auto file = elf.bytes();
  Ram ram;
  for (size_t n : {size_t{0}, size_t{1}, sizeof(Elf64_Ehdr) - 1}) {
    auto img = load(std::span(file).first(n), ram);
    ASSERT_FALSE(img);
    EXPECT_NE(img.error().find("too small"), std::string::npos) << img.error();
  }
  EXPECT_TRUE(ram.untouched());
}

TEST(ElfLoader, RefusesWhenRamIsBelowMinGpa) {
  TestElf elf;
  Ram ram;
  auto img = load_elf(elf.bytes(), ram.bytes.data(), kMinGpa / 2, kMinGpa);
  ASSERT_FALSE(img);
  EXPECT_NE(img.error().find("outside guest RAM"), std::string::npos) << img.error();
}

// Every truncation and many random corruptions of a valid image: refusals or
// loads inside [min_gpa, ram_size), never a crash (ASan builds check writes).
TEST(ElfLoader, CorruptFilesNeverCrash) {
  TestElf elf;
  const auto good = elf.bytes();
  Ram ram;
  auto check = [&](std::span<const uint8_t> f) {
    auto img = load(f, ram);
    if (img) {
      EXPECT_GE(img->lowest, kMinGpa);
      EXPECT_LE(img->highest, kRamSize);
      EXPECT_LT(img->lowest, img->highest);
    } else {
      EXPECT_FALSE(img.error().empty());
    }
  };
  for (size_t n = 0; n <= good.size(); ++n) check(std::span(good).first(n));

  std::mt19937_64 rng(42);
  for (int iter = 0; iter < 20000; ++iter) {
    auto f = good;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < flips; ++i) {
      // Mostly the headers, where the interesting fields are.
      const size_t at = rng() % 4 ? rng() % kBodyOffset : rng() % f.size();
      f[at] = static_cast<uint8_t>(rng());
    }
    if (rng() % 4 == 0) f.resize(rng() % (f.size() + 1));
    check(f);
  }
}

class ReadFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gvirt-elf-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::string write(const char* name, std::span<const uint8_t> data) {
    const auto path = (dir / name).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
    ::close(fd);
    return path;
  }
  std::filesystem::path dir;
};

TEST_F(ReadFile, ReadsWholeFile) {
  TestElf elf;
  const auto bytes = elf.bytes();
  auto got = read_file(write("guest.elf", bytes));
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(*got, bytes);
}

TEST_F(ReadFile, RefusesMissingEmptyDirectoryAndHuge) {
  auto missing = read_file((dir / "nope").string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().find("cannot open"), std::string::npos) << missing.error();

  auto empty = read_file(write("empty", {}));
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().find("is empty"), std::string::npos) << empty.error();

  auto directory = read_file(dir.string());
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().find("not a regular file"), std::string::npos) << directory.error();

  // Sparse: costs no disk.
  const auto huge = (dir / "huge").string();
  write("huge", {});
  ASSERT_EQ(::truncate(huge.c_str(), (64 << 20) + 1), 0);
  auto big = read_file(huge);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().find("64 MiB"), std::string::npos) << big.error();
}

TEST_F(ReadFile, AcceptsExactly64MiB) {
  const auto path = (dir / "max").string();
  write("max", {});
  ASSERT_EQ(::truncate(path.c_str(), 64 << 20), 0);
  auto got = read_file(path);
  ASSERT_TRUE(got) << got.error();
  EXPECT_EQ(got->size(), 64u << 20);
}

}  // namespace
}  // namespace hv
