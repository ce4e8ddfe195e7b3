// kvm-unit-tests style test reporting. Each check prints one line:
//   "PASS: <prefix>: <message>", "FAIL: ...", "SKIP: ..." or "INFO: ..."
// where <prefix> is the stack pushed with report_prefix_push, joined by ": ".
// report_summary() prints
//   "SUMMARY: N tests, M unexpected failures, K skipped"
// fills GuestResult.tests_run/tests_failed/tests_skipped, and returns the
// exit status: 0 if nothing failed, else kExitTestFailed.
#pragma once

#include <cstdint>

namespace guest {

bool report(bool pass, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void report_skip(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void report_info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void report_prefix_push(const char* prefix);
void report_prefix_pop();
uint32_t report_summary();

}  // namespace guest
