// Core: status/result, dtypes, f16/bf16 conversion, buffers, mmap, thread pool,
// UTF-8 validation, CPU detection.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/buffer.h"
#include "core/cpu_features.h"
#include "core/dtype.h"
#include "core/half.h"
#include "core/mmap_file.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "core/utf8.h"

namespace keel {
namespace {

Result<int> half_of(int x) {
  if (x % 2) return Error("odd value ", x);
  return x / 2;
}

TEST(Status, CarriesMessages) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Error("tensor '", "w", "' at byte ", 42);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "tensor 'w' at byte 42");
  EXPECT_EQ(s.with_context("x.gguf").message(), "x.gguf: tensor 'w' at byte 42");
  auto r = half_of(4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  auto bad = half_of(3);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "odd value 3");
}

TEST(DType, GgmlCodesAndBlockSizes) {
  // Codes and block sizes from ggml.h / ggml-common.h.
  EXPECT_EQ(dtype_info(DType::Q8_0).ggml_type, 8u);
  EXPECT_EQ(dtype_info(DType::Q4_K).ggml_type, 12u);
  EXPECT_EQ(dtype_info(DType::Q6_K).ggml_type, 14u);
  EXPECT_EQ(dtype_info(DType::BF16).ggml_type, 30u);
  EXPECT_EQ(*dtype_from_ggml(2), DType::Q4_0);
  EXPECT_FALSE(dtype_from_ggml(16).ok());  // IQ2_XXS: named, not supported
  EXPECT_NE(dtype_from_ggml(16).error().find("IQ2_XXS"), std::string::npos);
  EXPECT_EQ(*dtype_row_bytes(DType::Q8_0, 64), 68u);
  EXPECT_EQ(*dtype_row_bytes(DType::Q4_K, 512), 288u);
  EXPECT_EQ(*dtype_row_bytes(DType::Q6_K, 256), 210u);
  EXPECT_FALSE(dtype_row_bytes(DType::Q8_0, 33).ok());
  EXPECT_FALSE(dtype_row_bytes(DType::F64, uint64_t{1} << 62).ok());
  EXPECT_EQ(*dtype_from_safetensors("BF16"), DType::BF16);
  EXPECT_FALSE(dtype_from_safetensors("F17").ok());
  for (int i = 0; i < kNumDTypes; ++i) {
    auto t = static_cast<DType>(i);
    EXPECT_EQ(dtype_info(t).dtype, t);
    EXPECT_EQ(*dtype_from_name(dtype_name(t)), t);
  }
}

TEST(Half, F16RoundTripsEveryValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), h) << "h=" << h;
  }
}

TEST(Half, F16KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // rounds to inf
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie to even (0)
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(NAN))));
}

TEST(Half, Bf16) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f808000u)), 0x3f80);  // tie to even
  EXPECT_EQ(f32_to_bf16(std::bit_cast<float>(0x3f818000u)), 0x3f82);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

TEST(Buffer, AlignedAndZeroed) {
  auto b = AlignedBuffer::allocate(1000);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b->data()) % 64, 0u);
  for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(b->data()[i], 0);
  AlignedBuffer moved = std::move(*b);
  EXPECT_EQ(moved.size(), 1000u);
}

TEST(Shape, OverflowIsCaught) {
  Shape s{int64_t{1} << 40, int64_t{1} << 30};
  EXPECT_FALSE(s.checked_numel().ok());
  EXPECT_EQ(*Shape({2, 3, 4}).checked_numel(), 24u);
  EXPECT_EQ(Shape({2, 3}).to_string(), "[2, 3]");
  int64_t neg[] = {2, -1};
  EXPECT_FALSE(Shape::from(neg).ok());
}

TEST(MappedFile, MapsAndReportsErrors) {
  std::filesystem::create_directories(KEEL_TEST_TMP);
  std::string path = std::string(KEEL_TEST_TMP) + "/mmap_test.bin";
  { std::ofstream(path, std::ios::binary) << "hello"; }
  auto f = MappedFile::open(path);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->size(), 5u);
  EXPECT_EQ(std::memcmp(f->data(), "hello", 5), 0);
  auto missing = MappedFile::open(path + ".nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("mmap_test.bin.nope"), std::string::npos);
  EXPECT_FALSE(MappedFile::open(KEEL_TEST_TMP).ok());  // a directory
  std::string empty = std::string(KEEL_TEST_TMP) + "/empty.bin";
  { std::ofstream(empty, std::ios::binary); }
  auto e = MappedFile::open(empty);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->size(), 0u);
}

TEST(ThreadPool, CoversRangeExactlyOnce) {
  ThreadPool pool(4);
  for (int64_t n : {1, 7, 100, 10007}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[i]++;
    });
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " " << i;
  }
  // Nested calls run inline instead of deadlocking.
  std::atomic<int64_t> total{0};
  pool.parallel_for(8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      pool.parallel_for(10, [&](int64_t b2, int64_t e2) { total += e2 - b2; });
  });
  EXPECT_EQ(total.load(), 80);
}

// The spin-then-sleep hand-off: many back-to-back jobs (workers still
// spinning), jobs after the workers went to sleep, callers on several threads
// at once, and destruction both while spinning and while asleep.
TEST(ThreadPool, BackToBackSleepingAndConcurrentCallers) {
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    std::atomic<int64_t> total{0};
    int64_t expect = 0;
    for (int i = 0; i < 5000; ++i) {
      const int64_t n = 1 + i % 37;
      pool.parallel_for(n, [&](int64_t b, int64_t e) { total += e - b; });
      expect += n;
    }
    ASSERT_EQ(total.load(), expect);
    for (int i = 0; i < 3; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // past the spin: workers sleep
      std::vector<std::atomic<int>> hits(1000);
      pool.parallel_for(1000, [&](int64_t b, int64_t e) {
        for (int64_t j = b; j < e; ++j) hits[j]++;
      });
      for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    }
    std::atomic<int64_t> concurrent{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 3; ++c) {
      callers.emplace_back([&] {
        for (int i = 0; i < 500; ++i) pool.parallel_for(64, [&](int64_t b, int64_t e) { concurrent += e - b; });
      });
    }
    for (auto& t : callers) t.join();
    EXPECT_EQ(concurrent.load(), 3 * 500 * 64);
  }
  {
    ThreadPool pool(2);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // destroyed while asleep
  }
  {
    ThreadPool pool(2);
    pool.parallel_for(100, [](int64_t, int64_t) {});  // destroyed while spinning
  }
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_EQ(find_invalid_utf8("ab\xff"), 2u);
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  EXPECT_EQ(printable("a\x01\xff"), "a\\x01\\xff");
}

TEST(CpuFeatures, Consistent) {
  const auto& f = cpu_features();
  if (f.avx512f) { EXPECT_TRUE(f.avx2); }
  if (f.best_isa() == Isa::Avx2) { EXPECT_TRUE(f.fma && f.f16c); }
  EXPECT_FALSE(f.to_string().empty());
}

}  // namespace
}  // namespace keel
