#include "guest/cmdline.h"

#include "guest/console.h"

namespace guest {

bool str_eq(const char* a, const char* b) {
  while (*a && *a == *b) ++a, ++b;
  return *a == *b;
}

bool parse_u64(const char* s, uint64_t* out) {
  uint64_t v = 0;
  unsigned base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  if (!*s) return false;
  for (; *s; ++s) {
    unsigned d;
    if (*s >= '0' && *s <= '9')
      d = static_cast<unsigned>(*s - '0');
    else if (base == 16 && *s >= 'a' && *s <= 'f')
      d = static_cast<unsigned>(*s - 'a' + 10);
    else if (base == 16 && *s >= 'A' && *s <= 'F')
      d = static_cast<unsigned>(*s - 'A' + 10);
    else
      return false;
    if (v > (~uint64_t{0} - d) / base) return false;  // overflow
    v = v * base + d;
  }
  *out = v;
  return true;
}

bool Cmdline::parse(const char* text, size_t len, char* err, size_t err_len) {
  n_ = 0;
  size_t n = 0;
  while (n < len && n < sizeof buf_ - 1 && text[n]) {
    buf_[n] = text[n];
    ++n;
  }
  buf_[n] = 0;
  char* p = buf_;
  for (;;) {
    while (*p == ' ' || *p == '\t') *p++ = 0;
    if (!*p) return true;
    char* key = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '=') {
      bool ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
      if (!ok) {
        snprintf(err, err_len, "bad character '%c' in key at \"%s\"", *p, key);
        return false;
      }
      ++p;
    }
    if (*p != '=' || p == key) {
      snprintf(err, err_len, "expected key=value at \"%s\"", key);
      return false;
    }
    *p++ = 0;
    char* value = p;
    while (*p && *p != ' ' && *p != '\t') ++p;
    if (p == value) {
      snprintf(err, err_len, "empty value for \"%s\"", key);
      return false;
    }
    if (*p) *p++ = 0;
    for (int i = 0; i < n_; ++i)
      if (str_eq(args_[i].key, key)) {
        snprintf(err, err_len, "\"%s\" given twice", key);
        return false;
      }
    if (n_ == kMaxArgs) {
      snprintf(err, err_len, "more than %d arguments", kMaxArgs);
      return false;
    }
    args_[n_++] = Arg{key, value, false};
  }
}

const char* Cmdline::get(const char* key) {
  for (int i = 0; i < n_; ++i)
    if (str_eq(args_[i].key, key)) {
      args_[i].used = true;
      return args_[i].value;
    }
  return nullptr;
}

bool Cmdline::get_u64(const char* key, uint64_t def, uint64_t* out, char* err, size_t err_len) {
  const char* v = get(key);
  if (!v) {
    *out = def;
    return true;
  }
  if (!parse_u64(v, out)) {
    snprintf(err, err_len, "%s=%s is not a number", key, v);
    return false;
  }
  return true;
}

const char* Cmdline::first_unused() const {
  for (int i = 0; i < n_; ++i)
    if (!args_[i].used) return args_[i].key;
  return nullptr;
}

}  // namespace guest
