#include "hv/flat_elf.h"

#include <elf.h>

#include <cstring>

namespace hv {

std::vector<uint8_t> make_flat_elf(std::span<const uint8_t> code, uint64_t base) {
  const uint64_t off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  std::vector<uint8_t> f(off + code.size());
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_entry = base;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_flags = PF_R | PF_W | PF_X;
  ph.p_offset = off;
  ph.p_vaddr = ph.p_paddr = base;
  ph.p_filesz = ph.p_memsz = code.size();
  ph.p_align = 0x1000;
  std::memcpy(f.data(), &eh, sizeof eh);
  std::memcpy(f.data() + sizeof eh, &ph, sizeof ph);
  std::memcpy(f.data() + off, code.data(), code.size());
  return f;
}

}  // namespace hv
