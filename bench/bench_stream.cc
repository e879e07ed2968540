// Read bandwidth of this machine (see stream_probe.h), 1 and 2 threads.
//
//   bench_stream [--mib 256] [--reps 5] [--threads 1,2]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "stream_probe.h"

int main(int argc, char** argv) {
  size_t mib = 256;
  int reps = 5;
  std::vector<int> threads{1, 2};
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--mib") && i + 1 < argc) mib = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads.clear();
      for (char* s = argv[++i]; *s;) {
        threads.push_back(std::max(1, static_cast<int>(std::strtol(s, &s, 10))));
        if (*s == ',') ++s;
        else if (*s) break;
      }
    }
    else {
      std::fprintf(stderr, "usage: %s [--mib 256] [--reps 5] [--threads 1,2]\n", argv[0]);
      return 2;
    }
  }
  keel::bench::StreamProbe probe(mib << 20);
  for (int t : threads) {
    std::printf("stream read %zu MiB, %d thread%s: %.1f GB/s\n", mib, t, t > 1 ? "s" : "",
                probe.read_gbs(t, reps));
  }
  return probe.sink() == 12345.0 ? 1 : 0;
}
