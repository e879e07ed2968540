#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then build examples/c/embed.c as a user
# would: with pkg-config against libkeel.so, with pkg-config --static against
# libkeel.a (in a copy of the prefix without the .so), and with find_package(keel)
# both ways; run each on the test model. Also: libkeel.so exports only keel_*.
#   install_test.sh <build dir> <scratch dir> <model dir>
set -euo pipefail
build=$1 scratch=$2 model=$3
src=$(cd "$(dirname "$0")/../.." && pwd)
example=$src/examples/c/embed.c
cflags=(-std=c99 -Wall -Wextra -Werror -pedantic)
rm -rf "$scratch"
mkdir -p "$scratch"
prefix=$scratch/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
test -f "$prefix/include/keel/keel.h" && test -f "$prefix/lib/libkeel.a" && test -f "$prefix/lib/pkgconfig/keel.pc"
test -f "$prefix/lib/cmake/keel/keelConfig.cmake"

exported=$(nm -D --defined-only "$prefix/lib/libkeel.so" | awk '{print $3}')
if grep -v '^keel_' <<<"$exported"; then
  echo "libkeel.so exports symbols other than keel_* (above)"; exit 1
fi
echo "libkeel.so exports $(wc -l <<<"$exported") keel_* symbols"

run_example() {  # <binary>: runs it on the model, checks its output
  local out
  out=$("$1" "$model")
  grep -q "embeddings of 384 floats" <<<"$out" && grep -q "cos(0, 1)" <<<"$out" || { echo "$out"; exit 1; }
}

# pkg-config, shared (the .pc's prefix is relative to its own directory).
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
cc "${cflags[@]}" "$example" $(pkg-config --cflags --libs keel) -lm -Wl,-rpath,"$prefix/lib" -o "$scratch/shared"
readelf -d "$scratch/shared" | grep -q 'NEEDED.*libkeel\.so\.0' || { echo "shared: no libkeel.so.0 NEEDED"; exit 1; }
run_example "$scratch/shared"
echo "pkg-config shared: ok"

# pkg-config, static: a copy of the prefix with only libkeel.a.
cp -r "$prefix" "$scratch/static-prefix"
rm "$scratch"/static-prefix/lib/libkeel.so*
export PKG_CONFIG_PATH=$scratch/static-prefix/lib/pkgconfig
cc "${cflags[@]}" "$example" $(pkg-config --static --cflags --libs keel) -lm -o "$scratch/static"
if readelf -d "$scratch/static" | grep -q 'NEEDED.*libkeel'; then echo "static: needs libkeel.so"; exit 1; fi
run_example "$scratch/static"
echo "pkg-config static: ok"

# find_package(keel), shared and static.
for kind in OFF ON; do
  cmake -S "$src/examples/c" -B "$scratch/cmake-$kind" -DCMAKE_PREFIX_PATH="$prefix" -DKEEL_STATIC=$kind \
    -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$scratch/cmake-$kind" >/dev/null
  run_example "$scratch/cmake-$kind/keel_embed_example"
  echo "find_package(keel) KEEL_STATIC=$kind: ok"
done
