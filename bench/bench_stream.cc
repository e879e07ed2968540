// Read bandwidth of this machine (see stream_probe.h), 1 and 2 threads.
//
//   bench_stream [--mib 256] [--reps 5]
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "stream_probe.h"

int main(int argc, char** argv) {
  size_t mib = 256;
  int reps = 5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--mib") && i + 1 < argc) mib = std::strtoull(argv[++i], nullptr, 10);
    else if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--mib 256] [--reps 5]\n", argv[0]);
      return 2;
    }
  }
  keel::bench::StreamProbe probe(mib << 20);
  for (int t : {1, 2}) {
    std::printf("stream read %zu MiB, %d thread%s: %.1f GB/s\n", mib, t, t > 1 ? "s" : "",
                probe.read_gbs(t, reps));
  }
  return probe.sink() == 12345.0 ? 1 : 0;
}
