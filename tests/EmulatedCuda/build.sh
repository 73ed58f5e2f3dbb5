#!/usr/bin/env bash
# Builds the emulated CUDA device (a test double: see README.md here) and prints the library's path:
# libcuda-emulated.so, which answers both as the CUDA driver (SEA_LIBCUDA) and as cuBLAS (SEA_LIBCUBLAS), and loads
# the kernels from libcuda-emulated-kernels.so beside it.
#   build.sh [--source KERNELS.cu] [--out DIR]
# The default source is the repository's kernels.cu and the default folder tests/EmulatedCuda/build. Nothing is
# rebuilt when neither the source nor the emulator changed since the last build into that folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source="$here/../../kernels.cu"
out="$here/build"
while [ $# -gt 0 ]; do
  case "$1" in
    --source) source="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "build.sh: unknown argument '$1' (usage: build.sh [--source KERNELS.cu] [--out DIR])" >&2; exit 2 ;;
  esac
done
[ -f "$source" ] || { echo "build.sh: kernel source '$source' not found" >&2; exit 2; }
CXX="${CXX:-g++}"
command -v "$CXX" >/dev/null || { echo "build.sh: no C++ compiler '$CXX' (install g++)" >&2; exit 2; }
source="$(cd "$(dirname "$source")" && pwd)/$(basename "$source")"
mkdir -p "$out"
library="$out/libcuda-emulated.so"

exec 9>"$out/.lock"
flock 9
stamp="$(cat "$source" "$here"/*.h "$here"/*.cpp "$here/build.sh" | sha256sum | cut -c1-32) $CXX"
if [ -f "$library" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then echo "$library"; exit 0; fi

# 1. Which kernels and which extern __shared__ array the source has, read after macro expansion.
"$CXX" -std=c++17 -E -P -DEMU_SCAN -include "$here/cuda_emulation.h" -x c++ "$source" > "$out/scan.ii"
{
  grep -oE 'extern +__shared__[^;]*[A-Za-z_][A-Za-z_0-9]* *\[ *\] *;' "$out/scan.ii" |
    sed -E 's/.*[^A-Za-z_0-9]([A-Za-z_][A-Za-z_0-9]*) *\[ *\] *;/#define EMU_HAS_DYNAMIC_SHARED\nEMU_DYNAMIC_SHARED(\1)/' || true
  grep -oE 'extern +"C" +__global__ +void +(__launch_bounds__ *\([^()]*\) +)?[A-Za-z_][A-Za-z_0-9]* *\(' "$out/scan.ii" |
    sed -E 's/.*__launch_bounds__ *\(([^()]*)\) +([A-Za-z_0-9]+) *\($/EMU_KERNEL(\2, EMU_FIRST(\1))/; s/^extern.* ([A-Za-z_0-9]+) *\($/EMU_KERNEL(\1, 0)/'
} > "$out/generated.inc"
[ "$(grep -c '^EMU_DYNAMIC_SHARED' "$out/generated.inc")" -le 1 ] || { echo "build.sh: more than one extern __shared__ array in $source" >&2; exit 1; }
grep -q '^EMU_KERNEL' "$out/generated.inc" || { echo "build.sh: no extern \"C\" __global__ kernel found in $source" >&2; exit 1; }

# 2. Compile the kernels and the emulator, both compilers' warnings as errors (NVRTC's are, in the tests).
flags=(-std=gnu++17 -O2 -g -fPIC -fvisibility=hidden -Wall -Wextra -Werror -Wno-unknown-pragmas -Wno-unused-parameter -I"$here" -I"$out")
"$CXX" "${flags[@]}" -DEMU_KERNEL_SOURCE="\"$source\"" -c "$here/kernels.cpp" -o "$out/kernels.o" &
kernels=$!
for part in runtime driver cublas; do "$CXX" "${flags[@]}" -c "$here/$part.cpp" -o "$out/$part.o"; done
wait "$kernels"
# The kernels get a library of their own, so that its thread-local block is exactly their shared memory.
"$CXX" -shared -Wl,-soname,libcuda-emulated-kernels.so -o "$out/libcuda-emulated-kernels.so.new" "$out/kernels.o"
"$CXX" -shared -o "$library.new" "$out"/{runtime,driver,cublas}.o "$out/libcuda-emulated-kernels.so.new" -Wl,-rpath,'$ORIGIN' -ldl -lpthread
mv -f "$out/libcuda-emulated-kernels.so.new" "$out/libcuda-emulated-kernels.so"
mv -f "$library.new" "$library"
echo "$stamp" > "$out/stamp"
echo "$library"
