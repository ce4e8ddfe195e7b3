#include "guest/report.h"

#include <cstdarg>

#include "guest/console.h"
#include "guest/exit_codes.h"
#include "guest/result.h"

namespace guest {

namespace {

constexpr int kMaxPrefixes = 8;
const char* g_prefix[kMaxPrefixes];
int g_depth = 0;
uint32_t g_run = 0, g_failed = 0, g_skipped = 0;

void line(const char* kind, const char* fmt, va_list ap) {
  printf("%s: ", kind);
  for (int i = 0; i < g_depth && i < kMaxPrefixes; ++i) printf("%s: ", g_prefix[i]);
  vprintf(fmt, ap);
  printf("\n");
}

}  // namespace

bool report(bool pass, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  line(pass ? "PASS" : "FAIL", fmt, ap);
  va_end(ap);
  ++g_run;
  if (!pass) ++g_failed;
  return pass;
}

void report_skip(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  line("SKIP", fmt, ap);
  va_end(ap);
  ++g_run;
  ++g_skipped;
}

void report_info(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  line("INFO", fmt, ap);
  va_end(ap);
}

void report_prefix_push(const char* prefix) {
  if (g_depth < kMaxPrefixes) g_prefix[g_depth] = prefix;
  ++g_depth;
}

void report_prefix_pop() {
  if (g_depth > 0) --g_depth;
}

uint32_t report_summary() {
  printf("SUMMARY: %u tests, %u unexpected failures, %u skipped\n", g_run, g_failed, g_skipped);
  result().tests_run = g_run;
  result().tests_failed = g_failed;
  result().tests_skipped = g_skipped;
  return g_failed ? kExitTestFailed : kExitOk;
}

}  // namespace guest
