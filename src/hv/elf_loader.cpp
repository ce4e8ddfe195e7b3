#include "hv/elf_loader.h"

#include <elf.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace hv {
namespace {

constexpr uint64_t kMaxFileSize = 64ull << 20;

struct Segment {
  size_t index;  // in the program header table, for messages
  uint64_t gpa, memsz, offset, filesz;
  bool exec;
};

// [off, off + len) inside [0, size), without computing off + len.
bool in_bounds(uint64_t off, uint64_t len, uint64_t size) {
  return len <= size && off <= size - len;
}

// memcpy, not a cast: the file bytes carry no alignment guarantee.
template <typename T>
T read_struct(std::span<const uint8_t> file, uint64_t off) {
  T v;
  std::memcpy(&v, file.data() + off, sizeof(T));
  return v;
}

tl::unexpected<std::string> fail(std::string msg) { return tl::unexpected(std::move(msg)); }

std::string errno_text() { return std::error_code(errno, std::system_category()).message(); }

}  // namespace

tl::expected<ElfImage, std::string> load_elf(std::span<const uint8_t> file, uint8_t* ram,
                                             uint64_t ram_size, uint64_t min_gpa) {
  if (file.size() < sizeof(Elf64_Ehdr))
    return fail(fmt::format("the file is {} bytes, too small to hold an ELF header", file.size()));
  const auto eh = read_struct<Elf64_Ehdr>(file, 0);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return fail("the file is not an ELF image (bad magic)");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return fail("the ELF image is not 64-bit (ELFCLASS64)");
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) return fail("the ELF image is not little-endian");
  if (eh.e_type != ET_EXEC)
    return fail(
        fmt::format("the ELF image has type {}, not a static executable (ET_EXEC)", eh.e_type));
  if (eh.e_machine != EM_X86_64)
    return fail(
        fmt::format("the ELF image is for machine {}, not x86-64 (EM_X86_64)", eh.e_machine));
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    return fail(fmt::format("the ELF program header size is {} bytes, not {}", eh.e_phentsize,
                            sizeof(Elf64_Phdr)));
  // e_phnum is 16-bit, so the table length cannot overflow.
  if (!in_bounds(eh.e_phoff, uint64_t{eh.e_phnum} * sizeof(Elf64_Phdr), file.size()))
    return fail(fmt::format(
        "the ELF program header table ({} entries at offset {:#x}) lies outside the {}-byte file",
        eh.e_phnum, eh.e_phoff, file.size()));

  // Validate everything before writing anything, so a refusal leaves RAM as it was.
  std::vector<Segment> segs;
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    const auto ph = read_struct<Elf64_Phdr>(file, eh.e_phoff + i * sizeof(Elf64_Phdr));
    if (ph.p_type != PT_LOAD) continue;
    if (!in_bounds(ph.p_offset, ph.p_filesz, file.size()))
      return fail(fmt::format(
          "PT_LOAD segment {} (file offset {:#x}, {:#x} bytes) lies outside the {}-byte file", i,
          ph.p_offset, ph.p_filesz, file.size()));
    if (ph.p_filesz > ph.p_memsz)
      return fail(fmt::format("PT_LOAD segment {} has p_filesz {:#x} larger than p_memsz {:#x}", i,
                              ph.p_filesz, ph.p_memsz));
    if (ph.p_memsz == 0) continue;  // occupies no memory
    // Loading at p_vaddr is only right when the linker meant the same place.
    if (ph.p_vaddr != ph.p_paddr)
      return fail(
          fmt::format("PT_LOAD segment {} has p_vaddr {:#x} but p_paddr {:#x}, and the guest runs "
                      "identity-mapped",
                      i, ph.p_vaddr, ph.p_paddr));
    if (ph.p_vaddr < min_gpa || !in_bounds(ph.p_vaddr, ph.p_memsz, ram_size))
      return fail(fmt::format(
          "PT_LOAD segment {} at {:#x} ({:#x} bytes) lies outside guest RAM [{:#x}, {:#x})", i,
          ph.p_vaddr, ph.p_memsz, min_gpa, ram_size));
    segs.push_back({i, ph.p_vaddr, ph.p_memsz, ph.p_offset, ph.p_filesz, (ph.p_flags & PF_X) != 0});
  }
  if (segs.empty()) return fail("the ELF image has no non-empty PT_LOAD segment");

  std::sort(segs.begin(), segs.end(),
            [](const Segment& a, const Segment& b) { return a.gpa < b.gpa; });
  // Ends are below ram_size, so gpa + memsz cannot overflow from here on.
  for (size_t i = 1; i < segs.size(); ++i) {
    if (segs[i].gpa < segs[i - 1].gpa + segs[i - 1].memsz)
      return fail(fmt::format("PT_LOAD segments {} and {} overlap in guest memory",
                              segs[i - 1].index, segs[i].index));
  }
  // The entry must be in file bytes: the zero-filled tail is not code.
  const bool entry_ok = std::any_of(segs.begin(), segs.end(), [&](const Segment& s) {
    return s.exec && eh.e_entry >= s.gpa && eh.e_entry - s.gpa < s.filesz;
  });
  if (!entry_ok)
    return fail(fmt::format(
        "the entry point {:#x} is not inside a loaded executable (PF_X) segment", eh.e_entry));

  for (const Segment& s : segs) {
    std::memcpy(ram + s.gpa, file.data() + s.offset, s.filesz);
    std::memset(ram + s.gpa + s.filesz, 0, s.memsz - s.filesz);
  }
  // Sorted and disjoint: the last segment ends highest.
  return ElfImage{eh.e_entry, segs.front().gpa, segs.back().gpa + segs.back().memsz};
}

tl::expected<std::vector<uint8_t>, std::string> read_file(const std::string& path) {
  struct Fd {
    int fd;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  } f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (f.fd < 0) return fail(fmt::format("cannot open {}: {}", path, errno_text()));
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) return fail(fmt::format("cannot stat {}: {}", path, errno_text()));
  if (!S_ISREG(st.st_mode)) return fail(fmt::format("{} is not a regular file", path));
  if (st.st_size == 0) return fail(fmt::format("{} is empty", path));
  if (static_cast<uint64_t>(st.st_size) > kMaxFileSize)
    return fail(fmt::format("{} is {} bytes, more than the {} MiB limit", path, st.st_size,
                            kMaxFileSize >> 20));

  std::vector<uint8_t> data(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = ::read(f.fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(fmt::format("cannot read {}: {}", path, errno_text()));
    if (n == 0) break;  // the file shrank since fstat
    got += static_cast<size_t>(n);
  }
  if (got == 0) return fail(fmt::format("{} is empty", path));
  data.resize(got);
  return data;
}

}  // namespace hv
