#include "guest/console.h"

#include <cstdint>

#include "guest/pv.h"

namespace guest {

namespace {

// Where formatted characters go: a bounded buffer or the console line.
struct Sink {
  void (*put)(Sink&, char);
  char* buf;
  size_t size;
  size_t n;  // characters produced (may exceed size for snprintf)
};

char g_line[kConsoleLine];
size_t g_line_len = 0;

void line_flush() {
  if (!g_line_len) return;
  pv_console(g_line, g_line_len);
  g_line_len = 0;
}

void console_put(Sink& s, char c) {
  ++s.n;
  if (c == '\n') {
    // An empty line is still a line.
    if (!g_line_len) g_line[g_line_len++] = ' ';
    line_flush();
    return;
  }
  if (g_line_len == sizeof g_line) line_flush();
  g_line[g_line_len++] = c;
}

void buffer_put(Sink& s, char c) {
  if (s.size && s.n < s.size - 1) s.buf[s.n] = c;
  ++s.n;
}

void emit_padded(Sink& s, const char* text, size_t len, int width, bool left, char pad) {
  size_t w = width > 0 ? static_cast<size_t>(width) : 0;
  size_t fill = w > len ? w - len : 0;
  // Zero padding goes after a sign or "0x".
  size_t prefix = 0;
  if (pad == '0' && len && (text[0] == '-' || text[0] == '+')) prefix = 1;
  if (pad == '0' && len > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) prefix = 2;
  for (size_t i = 0; i < prefix; ++i) s.put(s, text[i]);
  if (!left)
    for (size_t i = 0; i < fill; ++i) s.put(s, pad);
  for (size_t i = prefix; i < len; ++i) s.put(s, text[i]);
  if (left)
    for (size_t i = 0; i < fill; ++i) s.put(s, ' ');
}

size_t format_uint(char* out, unsigned long long v, unsigned base, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v);
  for (size_t i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
  return n;
}

void format(Sink& s, const char* fmt, va_list ap) {
  for (; *fmt; ++fmt) {
    if (*fmt != '%') {
      s.put(s, *fmt);
      continue;
    }
    ++fmt;
    bool left = false;
    char pad = ' ';
    for (;; ++fmt) {
      if (*fmt == '-')
        left = true;
      else if (*fmt == '0')
        pad = '0';
      else
        break;
    }
    int width = 0;
    if (*fmt == '*') {
      width = va_arg(ap, int);
      if (width < 0) {
        left = true;
        width = -width;
      }
      ++fmt;
    } else {
      while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    }
    if (left) pad = ' ';
    int precision = -1;  // only %s uses it (a maximum length)
    if (*fmt == '.') {
      ++fmt;
      precision = 0;
      if (*fmt == '*') {
        precision = va_arg(ap, int);
        ++fmt;
      } else {
        while (*fmt >= '0' && *fmt <= '9') precision = precision * 10 + (*fmt++ - '0');
      }
    }
    int lng = 0;  // 0 int, 1 long, 2 long long, 3 size_t
    if (*fmt == 'l') {
      lng = 1;
      if (*++fmt == 'l') {
        lng = 2;
        ++fmt;
      }
    } else if (*fmt == 'z') {
      lng = 3;
      ++fmt;
    }
    char num[32];
    size_t len = 0;
    switch (*fmt) {
      case 'd':
      case 'i': {
        long long v = lng == 0   ? va_arg(ap, int)
                      : lng == 1 ? va_arg(ap, long)
                      : lng == 2 ? va_arg(ap, long long)
                                 : static_cast<long long>(va_arg(ap, size_t));
        unsigned long long m =
            v < 0 ? 0ull - static_cast<unsigned long long>(v) : static_cast<unsigned long long>(v);
        if (v < 0) num[len++] = '-';
        len += format_uint(num + len, m, 10, false);
        emit_padded(s, num, len, width, left, pad);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        unsigned long long v = lng == 0   ? va_arg(ap, unsigned)
                               : lng == 1 ? va_arg(ap, unsigned long)
                               : lng == 2 ? va_arg(ap, unsigned long long)
                                          : va_arg(ap, size_t);
        len = format_uint(num, v, *fmt == 'u' ? 10 : 16, *fmt == 'X');
        emit_padded(s, num, len, width, left, pad);
        break;
      }
      case 'p': {
        num[len++] = '0';
        num[len++] = 'x';
        len += format_uint(num + len, reinterpret_cast<uintptr_t>(va_arg(ap, void*)), 16, false);
        emit_padded(s, num, len, width, left, pad);
        break;
      }
      case 'c':
        num[0] = static_cast<char>(va_arg(ap, int));
        emit_padded(s, num, 1, width, left, ' ');
        break;
      case 's': {
        const char* str = va_arg(ap, const char*);
        if (!str) str = "(null)";
        size_t n = 0;
        while ((precision < 0 || n < static_cast<size_t>(precision)) && str[n]) ++n;
        emit_padded(s, str, n, width, left, ' ');
        break;
      }
      case '%':
        s.put(s, '%');
        break;
      case '\0':
        return;
      default:  // unknown conversion: print it as is
        s.put(s, '%');
        s.put(s, *fmt);
        break;
    }
  }
}

}  // namespace

int vprintf(const char* fmt, va_list ap) {
  Sink s{console_put, nullptr, 0, 0};
  format(s, fmt, ap);
  return static_cast<int>(s.n);
}

int printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}

void puts(const char* s) { printf("%s\n", s); }

void console_flush() { line_flush(); }

int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
  Sink s{buffer_put, buf, size, 0};
  format(s, fmt, ap);
  if (size) buf[s.n < size ? s.n : size - 1] = 0;
  return static_cast<int>(s.n);
}

int snprintf(char* buf, size_t size, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

}  // namespace guest
