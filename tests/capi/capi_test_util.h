/* Helpers of the C API tests (C99): checks that count failures, running keel's
 * CLI, and just enough JSON reading for its output lines. */
#ifndef KEEL_CAPI_TEST_UTIL_H
#define KEEL_CAPI_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

extern int g_checks;
extern int g_failures;

/* CHECK(cond, fmt, ...): records a failure with file:line and the message. */
void check_failed(const char* file, int line, const char* cond, const char* fmt, ...);
#define CHECK(cond, ...)                                              \
  do {                                                                \
    ++g_checks;                                                       \
    if (!(cond)) check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__); \
  } while (0)

/* An environment variable that must be set (exits otherwise). */
const char* require_env(const char* name);
/* malloc'd printf. */
char* str_printf(const char* fmt, ...);
/* Writes `size` bytes to path; returns 0 on success. */
int write_file(const char* path, const void* data, size_t size);
/* The first `max` bytes of path (all if max is 0), malloc'd; *size receives the count. */
char* read_file(const char* path, size_t max, size_t* size);

/* Runs `command` (a shell command line) with `input` on stdin and returns its
 * stdout, malloc'd. Exits the test if it cannot be run. */
char* run_command(const char* command, const char* input);
/* The JSON string literal of n bytes of text, malloc'd (non-ASCII kept as UTF-8). */
char* json_quote(const char* text, size_t n);
/* Splits text into lines in place; returns their number (at most max). */
size_t split_lines(char* text, char** lines, size_t max);

/* The value after "key": in a JSON object line, or NULL. */
const char* json_find(const char* line, const char* key);
/* Every unsigned integer inside the array at p (nested arrays flattened), up to
 * max; returns the count or (size_t)-1 if p is not an array. */
size_t json_uints(const char* p, uint64_t* out, size_t max);
/* Every number of the array at p, as doubles; count or (size_t)-1. */
size_t json_doubles(const char* p, double* out, size_t max);
/* Decodes the JSON string literal at *p (advancing *p past it); malloc'd, NULL if
 * p is not a string. */
char* json_string(const char** p);
/* The strings of the array at p, each malloc'd; count or (size_t)-1. */
size_t json_strings(const char* p, char** out, size_t max);

#endif
