// Zero-copy loading: how long opening a ~1 GB safetensors (or GGUF) file takes,
// and how resident memory grows only with the pages actually touched.
//   bench_load <scratch dir> [size_mb]
// Prints a markdown table (docs/benchmarks.md keeps the figures and the command).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "formats/gguf.h"
#include "formats/safetensors.h"

using namespace keel;
namespace fs = std::filesystem;

namespace {

double rss_mb() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The file's pages are in the page cache after writing, so "open" measures the
// work keel does (mmap, header parse, validation), not the disk.
template <typename Open>
void measure(const char* label, const std::string& path, Open open, int64_t n_tensors) {
  std::vector<double> times;
  for (int i = 0; i < 31; ++i) {
    double t0 = now_ms();
    auto f = open(path);
    double t1 = now_ms();
    if (!f.ok()) {
      std::fprintf(stderr, "%s\n", f.error().c_str());
      std::exit(1);
    }
    times.push_back(t1 - t0);
  }
  std::sort(times.begin(), times.end());
  double rss0 = rss_mb();
  auto f = open(path);
  double rss_open = rss_mb();
  // Touch one tensor (every page of it), then all.
  auto touch = [](std::span<const uint8_t> b) {
    uint64_t s = 0;
    for (size_t i = 0; i < b.size(); i += 4096) s += b[i];
    return s;
  };
  uint64_t sink = 0;
  const auto& ts = f->tensors();
  sink += touch(f->bytes(ts[0]));
  double rss_one = rss_mb();
  for (const auto& t : ts) sink += touch(f->bytes(t));
  double rss_all = rss_mb();
  std::printf("| %s | %lld | %.3f | %.3f | %.1f | %.1f | %.1f | %.1f |\n", label,
              static_cast<long long>(n_tensors), times[times.size() / 2], times.back(), rss0,
              rss_open - rss0, rss_one - rss0, rss_all - rss0);
  if (sink == 42) std::printf(" ");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: bench_load <scratch dir> [size_mb]\n");
    return 2;
  }
  fs::path dir = argv[1];
  const int64_t size_mb = argc > 2 ? std::atoll(argv[2]) : 1024;
  fs::create_directories(dir);
  // A Llama-like set of 2-D f16 tensors of 4 MiB each: size_mb / 4 tensors.
  const int64_t n_tensors = size_mb / 4;
  const Shape shape{1024, 2048};  // 2 Mi f16 = 4 MiB
  SafetensorsWriter st;
  GgufWriter gg;
  for (int64_t i = 0; i < n_tensors; ++i) {
    std::string name = "model.layers." + std::to_string(i / 8) + ".w" + std::to_string(i % 8) + ".weight";
    if (!st.add(name, DType::F16, shape).ok() || !gg.add_tensor("blk." + std::to_string(i), DType::F16, shape).ok())
      return 1;
  }
  auto fill = [](size_t i, std::span<uint8_t> dst) {
    std::memset(dst.data(), static_cast<int>(i & 0x3f), dst.size());
    return Status::Ok();
  };
  std::string st_path = (dir / "bench_1g.safetensors").string();
  std::string gg_path = (dir / "bench_1g.gguf").string();
  if (auto s = st.write(st_path, fill); !s.ok()) { std::fprintf(stderr, "%s\n", s.message().c_str()); return 1; }
  if (auto s = gg.write(gg_path, fill); !s.ok()) { std::fprintf(stderr, "%s\n", s.message().c_str()); return 1; }

  std::printf("file size: %.1f MiB each, %lld tensors of 4 MiB\n\n",
              static_cast<double>(fs::file_size(st_path)) / (1 << 20), static_cast<long long>(n_tensors));
  std::printf("| format | tensors | open median (ms) | open max (ms) | RSS before (MiB) | "
              "RSS +open (MiB) | RSS +1 tensor touched (MiB) | RSS +all touched (MiB) |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  measure("safetensors", st_path, [](const std::string& p) { return SafetensorsFile::open(p); }, n_tensors);
  measure("gguf", gg_path, [](const std::string& p) { return GgufFile::open(p); }, n_tensors);
  fs::remove(st_path);
  fs::remove(gg_path);
  return 0;
}
