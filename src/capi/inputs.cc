// Checks of what C callers pass in: text pointers and lengths, paths.
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "capi/capi_internal.h"

namespace keel::capi {

Status text_view(const char* text, size_t len, std::string_view& out) {
  if (!text && len > 0) return Error("text is NULL but len is ", len);
  out = text ? std::string_view(text, len) : std::string_view();
  return Status::Ok();
}

Status text_views(const char* const* texts, const size_t* lens, size_t n, std::vector<std::string_view>& out) {
  out.clear();
  if (n == 0) return Status::Ok();
  if (!texts) return Error("texts is NULL but n is ", n);
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (lens) {
      if (!texts[i] && lens[i] > 0) return Error("texts[", i, "] is NULL but lens[", i, "] is ", lens[i]);
      out.push_back(texts[i] ? std::string_view(texts[i], lens[i]) : std::string_view());
    } else {
      if (!texts[i]) return Error("texts[", i, "] is NULL (and lens is NULL)");
      out.push_back(std::string_view(texts[i], std::strlen(texts[i])));
    }
  }
  return Status::Ok();
}

Status check_readable(const char* path, bool is_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return Error(path, ": no such file or directory");
  if (is_dir && !fs::is_directory(st)) return Error(path, ": not a directory");
  if (access(path, R_OK) != 0) return Error(path, ": not readable (", std::strerror(errno), ")");
  return Status::Ok();
}

}  // namespace keel::capi
