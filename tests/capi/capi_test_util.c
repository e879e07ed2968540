/* Helpers of the C API tests; see capi_test_util.h. */
#define _POSIX_C_SOURCE 200809L
#include "capi_test_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int g_checks = 0;
int g_failures = 0;

void check_failed(const char* file, int line, const char* cond, const char* fmt, ...) {
  va_list ap;
  ++g_failures;
  fprintf(stderr, "%s:%d: CHECK(%s) failed: ", file, line, cond);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

const char* require_env(const char* name) {
  const char* v = getenv(name);
  if (!v || !*v) {
    fprintf(stderr, "capi_test: the environment variable %s is not set (ctest sets it)\n", name);
    exit(2);
  }
  return v;
}

char* str_printf(const char* fmt, ...) {
  va_list ap;
  int n;
  char* s;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  s = malloc((size_t)n + 1);
  if (!s) abort();
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

int write_file(const char* path, const void* data, size_t size) {
  FILE* f = fopen(path, "wb");
  int ok;
  if (!f) return -1;
  ok = fwrite(data, 1, size, f) == size;
  if (fclose(f) != 0) ok = 0;
  return ok ? 0 : -1;
}

char* read_file(const char* path, size_t max, size_t* size) {
  FILE* f = fopen(path, "rb");
  size_t cap = 1 << 16, n = 0;
  char* buf;
  if (!f) return NULL;
  buf = malloc(cap + 1);
  if (!buf) abort();
  for (;;) {
    size_t want = cap - n, got;
    if (max && n + want > max) want = max - n;
    if (want == 0) {
      if (max && n >= max) break;
      cap *= 2;
      buf = realloc(buf, cap + 1);
      if (!buf) abort();
      continue;
    }
    got = fread(buf + n, 1, want, f);
    n += got;
    if (got < want) break;
  }
  fclose(f);
  buf[n] = '\0';
  *size = n;
  return buf;
}

char* run_command(const char* command, const char* input) {
  const char* tmp = require_env("KEEL_TEST_TMP");
  char* in_path = str_printf("%s/capi_input_XXXXXX", tmp);
  char* full;
  FILE* p;
  char* out;
  size_t cap = 1 << 16, n = 0, got;
  int fd = mkstemp(in_path);
  if (fd < 0 || write(fd, input, strlen(input)) != (ssize_t)strlen(input)) {
    fprintf(stderr, "capi_test: cannot write %s\n", in_path);
    exit(2);
  }
  close(fd);
  full = str_printf("%s < '%s'", command, in_path);
  p = popen(full, "r");
  if (!p) {
    fprintf(stderr, "capi_test: cannot run %s\n", full);
    exit(2);
  }
  out = malloc(cap + 1);
  if (!out) abort();
  while ((got = fread(out + n, 1, cap - n, p)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      out = realloc(out, cap + 1);
      if (!out) abort();
    }
  }
  out[n] = '\0';
  pclose(p);
  unlink(in_path);
  free(in_path);
  free(full);
  return out;
}

char* json_quote(const char* text, size_t n) {
  char* out = malloc(6 * n + 3);
  size_t i, k = 0;
  if (!out) abort();
  out[k++] = '"';
  for (i = 0; i < n; ++i) {
    unsigned char c = (unsigned char)text[i];
    if (c == '"' || c == '\\') {
      out[k++] = '\\';
      out[k++] = (char)c;
    } else if (c < 0x20) {
      k += (size_t)sprintf(out + k, "\\u%04x", c);
    } else {
      out[k++] = (char)c;
    }
  }
  out[k++] = '"';
  out[k] = '\0';
  return out;
}

size_t split_lines(char* text, char** lines, size_t max) {
  size_t n = 0;
  char* p = text;
  while (*p && n < max) {
    char* nl = strchr(p, '\n');
    lines[n++] = p;
    if (!nl) break;
    *nl = '\0';
    p = nl + 1;
  }
  return n;
}

const char* json_find(const char* line, const char* key) {
  char* pattern = str_printf("\"%s\":", key);
  const char* p = strstr(line, pattern);
  const char* r = p ? p + strlen(pattern) : NULL;
  free(pattern);
  return r;
}

/* The numbers of the array at p, each as text handed to fn. */
static size_t json_numbers(const char* p, void (*fn)(const char*, void*, size_t), void* out, size_t max) {
  int depth = 0;
  size_t n = 0;
  if (!p || *p != '[') return (size_t)-1;
  for (; *p; ++p) {
    if (*p == '[') {
      ++depth;
    } else if (*p == ']') {
      if (--depth == 0) break;
    } else if ((*p >= '0' && *p <= '9') || *p == '-') {
      const char* start = p;
      while (p[1] && strchr("0123456789+-.eE", p[1])) ++p;
      if (n < max) fn(start, out, n);
      ++n;
    } else if (*p == 'n') { /* null: an unrepresentable float */
      if (n < max) fn("nan", out, n);
      ++n;
      p += 3;
    }
  }
  return n < max ? n : max;
}

static void put_uint(const char* s, void* out, size_t i) { ((uint64_t*)out)[i] = strtoull(s, NULL, 10); }
static void put_double(const char* s, void* out, size_t i) { ((double*)out)[i] = strtod(s, NULL); }

size_t json_uints(const char* p, uint64_t* out, size_t max) { return json_numbers(p, put_uint, out, max); }
size_t json_doubles(const char* p, double* out, size_t max) { return json_numbers(p, put_double, out, max); }

static unsigned hex4(const char* s) {
  unsigned v = 0;
  int i;
  for (i = 0; i < 4; ++i) {
    char c = s[i];
    v = v * 16 + (unsigned)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
  }
  return v;
}

static size_t put_utf8(char* out, unsigned cp) {
  if (cp < 0x80) {
    out[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char)(0xE0 | (cp >> 12));
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (cp >> 18));
  out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  out[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

char* json_string(const char** pp) {
  const char* p = *pp;
  char* out;
  size_t k = 0;
  while (*p == ' ' || *p == ',') ++p;
  if (*p != '"') return NULL;
  ++p;
  out = malloc(strlen(p) + 1);
  if (!out) abort();
  while (*p && *p != '"') {
    if (*p != '\\') {
      out[k++] = *p++;
      continue;
    }
    ++p;
    switch (*p) {
      case 'b': out[k++] = '\b'; break;
      case 'f': out[k++] = '\f'; break;
      case 'n': out[k++] = '\n'; break;
      case 'r': out[k++] = '\r'; break;
      case 't': out[k++] = '\t'; break;
      case 'u': {
        unsigned cp = hex4(p + 1);
        p += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(p + 3) - 0xDC00);
          p += 6;
        }
        k += put_utf8(out + k, cp);
        break;
      }
      default: out[k++] = *p; break; /* \" \\ \/ */
    }
    ++p;
  }
  out[k] = '\0';
  *pp = *p == '"' ? p + 1 : p;
  return out;
}

size_t json_strings(const char* p, char** out, size_t max) {
  size_t n = 0;
  if (!p || *p != '[') return (size_t)-1;
  ++p;
  for (;;) {
    char* s;
    while (*p == ' ' || *p == ',') ++p;
    if (*p != '"') break;
    s = json_string(&p);
    if (n < max) out[n++] = s;
    else free(s);
  }
  return n;
}
