// The boot command line (BootInfo.cmdline): space-separated key=value pairs.
//
//   cmdline := [pair (' '+ pair)*]     pair := key '=' value
//   key     := [a-z0-9_]+              value := any characters but ' ' (non-empty)
//
// Keys may appear once. Numbers are decimal or 0x-prefixed hex. Every key must
// be consumed by the chosen mode (Cmdline::first_unused), so typos are errors.
#pragma once

#include <cstddef>
#include <cstdint>

namespace guest {

class Cmdline {
 public:
  static constexpr int kMaxArgs = 16;

  // Parses `text` (at most `len` bytes, NUL-terminated or not). On error
  // returns false with a message in `err`.
  bool parse(const char* text, size_t len, char* err, size_t err_len);
  // The value of `key` (marking it used), or nullptr.
  const char* get(const char* key);
  // A number: `def` when absent; false (with `err`) when malformed.
  bool get_u64(const char* key, uint64_t def, uint64_t* out, char* err, size_t err_len);
  // A key nothing asked for, or nullptr.
  const char* first_unused() const;

 private:
  struct Arg {
    const char* key;
    const char* value;
    bool used;
  };
  char buf_[257];
  Arg args_[kMaxArgs];
  int n_ = 0;
};

bool parse_u64(const char* s, uint64_t* out);
bool str_eq(const char* a, const char* b);

}  // namespace guest
