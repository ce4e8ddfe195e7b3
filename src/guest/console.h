// The guest console: a small printf into a line buffer, one CONSOLE write
// (one exit) per line. Output is line-buffered: text without '\n' waits for
// the next newline or console_flush(). Not for CPL0 code (exception.cpp has
// its own formatter).
//
// Conversions: %d %i %u %x %X %c %s %p %%, with the length modifiers l, ll and
// z, the flags '-' and '0', and a field width (also '*'). No floating point.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace guest {

inline constexpr size_t kConsoleLine = 256;  // longer lines are split

int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char* fmt, va_list ap);
void puts(const char* s);  // appends '\n'
void console_flush();
// Formats into buf (always NUL-terminated if size > 0); returns the length
// the output would have had.
int snprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap);

}  // namespace guest
