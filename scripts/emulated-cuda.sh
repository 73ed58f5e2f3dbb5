#!/usr/bin/env bash
# Runs a command against the emulated CUDA device, a test double (tests/EmulatedCuda/README.md): the real CudaBackend
# and its bindings, with kernels.cu compiled by g++ and run on the CPU, and NVIDIA's NVRTC compiling the same source.
#   scripts/emulated-cuda.sh dotnet run --project Cli -c Release -- selftest --device cuda
# Builds the emulator first (again only when kernels.cu or the emulator changed). Sets:
#   SEA_LIBCUDA, SEA_LIBCUBLAS  the emulator, in place of the driver and cuBLAS;
#   SEA_CUDA_NO_CACHING=1       every tensor its own allocation, so the emulator's guard zones see each one's bounds;
#   SEA_REQUIRE_CUDA=1          CUDA tests fail instead of skipping when no device is found.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/emulated-cuda.sh <command> [arguments...]" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
library="$("$root/tests/EmulatedCuda/build.sh")"
export SEA_LIBCUDA="$library" SEA_LIBCUBLAS="$library" SEA_CUDA_NO_CACHING=1 SEA_REQUIRE_CUDA=1
exec "$@"
