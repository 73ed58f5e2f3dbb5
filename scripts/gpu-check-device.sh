#!/usr/bin/env bash
# The one-shot GPU check, device half (runs on the GPU machine, from the command scripts/gpu-check.sh prints):
#
#   bash scripts/gpu-check-device.sh DIR [STEP ...]
#
# DIR is the folder scripts/gpu-check.sh filled and the device tool carried, with its runtime already unpacked and on
# PATH. Runs every step below (or only the STEPs named, to rerun a few), each under its own timeout and all of them
# within GPU_CHECK_BUDGET seconds (default 330), going on after a failure. Each step's output goes to a file of its
# own; the device tool brings back at most 8 files from $OUT, so $OUT gets summary.txt and steps.tar.gz (every step's
# file, xunit XML and bench JSON), both rewritten after every step so that a cut-off run still returns what it did.
# stdout ends with the end of each failed step's output and the summary.
set -uo pipefail
# 5.5 minutes: with the machine's start (a minute or two) the first call leaves about half of a task's 15 minutes of
# device time, enough for a second call that reruns a few steps after a fix.
BUDGET=${GPU_CHECK_BUDGET:-330}

die() { echo "gpu-check-device: $*" >&2; exit 2; }

STEP_NAMES="nvidia-smi info kernels selftest gradcheck kernels-tests cli-tests bench-lightgcn synth-features bench-sea memcheck synccheck racecheck"
[ $# -ge 1 ] || die "usage: bash scripts/gpu-check-device.sh DIR [STEP ...] (DIR: the folder scripts/gpu-check.sh prepared)"
DIR=$1; shift
chosen=("$@")
for name in "${chosen[@]}"; do
  [[ " $STEP_NAMES " == *" $name "* ]] || die "unknown step '$name' (steps: $STEP_NAMES)"
done
BIN=$DIR/bin
[ -f "$BIN/sea.dll" ] || die "$BIN/sea.dll not found: run scripts/gpu-check.sh here first and carry $DIR"
command -v dotnet >/dev/null && dotnet --list-runtimes 2>/dev/null | grep -q '^Microsoft.NETCore.App 10\.' \
  || die "no .NET 10 runtime on PATH: unpack $DIR/dotnet.tar.xz into $DIR and put $DIR on PATH and in DOTNET_ROOT (the printed command does)"
[ -n "${OUT:-}" ] && mkdir -p "$OUT" || die "OUT is not set: the device tool sets it to the folder whose files come back"
nvidia-smi -L >/dev/null 2>&1 || die "no NVIDIA GPU answers here (nvidia-smi -L failed): run this on the device machine"
SANITIZER=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null | head -1)

WORK=$(mktemp -d /tmp/gpu-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT   # what matters is packed into $OUT after every step
STEPS=$WORK/steps
mkdir -p "$STEPS"
export SEA_CACHE=$WORK/cache   # kernels compiled once and the kNN graph built once, by the first step that needs them
export SEA_REQUIRE_CUDA=1      # CUDA tests fail, instead of skipping, when they find no device
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1  # the GPU machine may lack ICU; only text features need it, and they are not carried
SYNTH=$WORK/baby-synth
deadline=$((SECONDS + BUDGET))
n=0 passed=0 failed=0 skipped=0 failures=()

sea() { dotnet "$BIN/sea.dll" "$@"; }

# The CUDA tests of one test executable; a run that found no test is a failure, not a pass.
cuda_tests() {
  local xml=$STEPS/$1.xml
  dotnet "$BIN/$1.dll" -trait "Category=Cuda" -noColor -noLogo -xml "$xml"
  local rc=$?
  if grep -q 'total="0"' "$xml" 2>/dev/null; then echo "no test carries the trait Category=Cuda: nothing was checked"; return 3; fi
  return $rc
}

sanitize() {
  [ -n "$SANITIZER" ] || { echo "compute-sanitizer not found (PATH, /usr/local/cuda/bin)"; return 3; }
  # Every tensor its own allocation (no caching allocator), so memcheck sees each tensor's bounds.
  SEA_CUDA_NO_CACHING=1 "$SANITIZER" --tool "$1" --target-processes all --launch-timeout 60 --error-exitcode 86 --print-limit 50 \
    dotnet "$BIN/sea.dll" selftest --device cuda
}

# timeout runs a new bash, which needs the helpers and their variables.
export -f sea cuda_tests sanitize
export BIN STEPS SANITIZER

pack() {
  tar -C "$WORK" -czf "$OUT/steps.tar.gz.tmp" steps && mv "$OUT/steps.tar.gz.tmp" "$OUT/steps.tar.gz"
  { cat "$WORK/summary"; echo "$passed passed, $failed failed, $skipped skipped"; } > "$OUT/summary.txt"
}
: > "$WORK/summary"

# step NAME LIMIT_S COMMAND...: runs COMMAND with its output in steps/NN-NAME.txt, if chosen and time is left.
step() {
  local name=$1 limit=$2; shift 2
  n=$((n + 1))   # numbered by place in the list, so a rerun of a few steps names their files as the full run does
  if [ ${#chosen[@]} -gt 0 ] && [[ " ${chosen[*]} " != *" $name "* ]]; then return; fi
  local file line left=$((deadline - SECONDS)) t0=$SECONDS rc
  file=$STEPS/$(printf %02d "$n")-$name.txt
  if [ "$left" -lt 15 ]; then
    line=$(printf '%-8s %-16s out of the %d s budget' skipped "$name" "$BUDGET"); skipped=$((skipped + 1))
  else
    [ "$limit" -le "$left" ] || limit=$left
    timeout -k 10 "$limit" bash -c '"$@"' "$name" "$@" > "$file" 2>&1 </dev/null
    rc=$?
    case $rc in
      0) line=$(printf '%-8s %-16s %4d s' pass "$name" $((SECONDS - t0))); passed=$((passed + 1)) ;;
      124|137) line=$(printf '%-8s %-16s %4d s  timed out at %d s' TIMEOUT "$name" $((SECONDS - t0)) "$limit"); failed=$((failed + 1)); failures+=("$file") ;;
      *) line=$(printf '%-8s %-16s %4d s  exit %d' FAIL "$name" $((SECONDS - t0)) "$rc"); failed=$((failed + 1)); failures+=("$file") ;;
    esac
  fi
  # The step's own verdict line, where it prints one (tests' and checks' counts, the sanitizer's, the speed-up).
  [ -f "$file" ] && line+=$(grep -E 'passed|failed|Total:|ERROR SUMMARY|cpu / cuda' "$file" | tail -n 1 | tr -s ' =' ' ' | sed 's/^/  | /' | cut -c1-140)
  echo "$line" | tee -a "$WORK/summary"
  pack
}

step nvidia-smi       20 nvidia-smi
step info             30 sea info
step kernels          90 sea kernels
step selftest         60 sea selftest --device cuda
step gradcheck        45 sea gradcheck --device cuda
step kernels-tests    90 cuda_tests Kernels.Tests
step cli-tests        90 cuda_tests Cli.Tests
# Whole LightGCN epochs (about 1.6 s each on this workplace's 2 CPU cores); SEA's CPU batches are seconds each, so 3.
step bench-lightgcn   60 sea bench train --model lightgcn --data "$DIR/data/baby" --compare cpu,cuda --epochs 2 --out "$STEPS/bench-lightgcn"
# SEA needs features: semi-synthetic ones at the real features' widths (4096/384), made here (115 MB, too big to carry).
step synth-features   45 sea synth-features --data "$DIR/data/baby" --out "$SYNTH" --image-dim 4096 --text-dim 384
step bench-sea        90 sea bench train --model sea --data "$SYNTH" --compare cpu,cuda --epochs 2 --max-batches 3 --out "$STEPS/bench-sea"
step memcheck         90 sanitize memcheck
step synccheck        60 sanitize synccheck
step racecheck        90 sanitize racecheck

echo "== $passed passed, $failed failed, $skipped skipped in $SECONDS s; $OUT has summary.txt and steps.tar.gz"
for file in "${failures[@]}"; do
  echo "== end of $(basename "$file")"
  tail -n 25 "$file"
done
echo "== summary"
cat "$OUT/summary.txt"
[ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ]
