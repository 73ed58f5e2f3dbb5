#!/usr/bin/env bash
# The test suite, as CI runs it: first every test that needs no CUDA device, then every CUDA test (and the tests of
# the emulator itself) on the emulated CUDA device, where none of them may skip. SEA_REQUIRE_CUDA=1 throughout: a
# missing NVRTC, g++ or device fails a test instead of skipping it.
#   scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
export SEA_REQUIRE_CUDA=1
dotnet test Engine.sln -c Release --filter "Category!=Cuda&Category!=Emulator" "$@"
scripts/emulated-cuda.sh dotnet test Engine.sln -c Release --no-build --filter "Category=Cuda|Category=Emulator" "$@"
