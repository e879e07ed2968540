// What the CPU we run on can do, read once with CPUID/XGETBV. Kernels pick their
// code path from this at run time; the binary itself targets baseline x86-64.
#pragma once

#include <string>

namespace keel {

enum class Isa { Scalar, Avx2, Avx512 };

struct CpuFeatures {
  bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_vnni = false, avx512_bf16 = false, avx_vnni = false;
  bool amx_tile = false, amx_int8 = false, amx_bf16 = false;

  // The widest usable kernel tier: Avx2 needs AVX2+FMA+F16C, Avx512 needs F/BW/VL/DQ.
  Isa best_isa() const;
  std::string to_string() const;  // "avx2 fma f16c avx512f ..."
};

// Detected once. KEEL_ISA=scalar|avx2|avx512 in the environment caps the tier
// (for testing the slower paths on a fast machine).
const CpuFeatures& cpu_features();
Isa active_isa();
const char* isa_name(Isa isa);

}  // namespace keel
