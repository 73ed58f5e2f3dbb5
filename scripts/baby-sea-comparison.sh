#!/usr/bin/env bash
# Issue 4's comparison on Baby's real interactions with semi-synthetic features: SEA, its backbone (α = β = 0), the
# paper's CLUB pairing, the −ℓ2 distancing and LightGCN, seeds 999, 1 and 2, every run capped at EPOCHS epochs.
#
#   scripts/baby-sea-comparison.sh [EPOCHS]      (default 10; run again with a larger cap to continue every run)
#
# Resumable: run again (with the same or a larger cap) and every run goes on from its last checkpoint exactly as an
# uninterrupted run would have. Features are 512/128 wide (not the
# 4,096/384 of the real ones) to fit the CPU; LightGCN uses the best Baby setting of the grid (3 layers, reg 1e-2).
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-10}
OUT=runs/baby-sea-cmp
DATA=$OUT/data
mkdir -p "$OUT"
# A build of its own, so that rebuilding the working tree never changes the binary under a running comparison
# (delete runs/baby-sea-cmp/bin to take a newer build; runs continued by another build may differ in rounding).
[ -f "$OUT/bin/sea.dll" ] || dotnet publish Cli -c Release -o "$OUT/bin" -v q
sea() { dotnet "$OUT/bin/sea.dll" "$@"; }
# The managed GEMM: 1.9× OpenBLAS on this 2-core machine for SEA's products (BENCHMARKS.md); a run keeps one provider.
export SEA_BLAS=${SEA_BLAS:-managed}
[ -f "$DATA/manifest.json" ] || sea synth-features --data ../shared/data/baby --out "$DATA" --image-dim 512 --text-dim 128

declare -A VARIANT=(
  [sea]="--model sea"
  [backbone]="--model sea --alpha 0 --beta 0"
  [paper]="--model sea --club-pairing paper"
  [l2]="--model sea --distance l2"
  [lightgcn]="--model lightgcn --layers 3 --reg 1e-2"
)
# Seeds grow pass by pass (999; 999,1; 999,1,2), so a partial run holds every model at the same seeds; `--seeds`
# continues a seed's run from its checkpoint, so each pass only adds what is missing.
for seeds in 999 999,1 999,1,2; do
  for name in sea backbone paper l2 lightgcn; do
    # shellcheck disable=SC2086
    sea train ${VARIANT[$name]} --data "$DATA" --seeds "$seeds" --epochs "$EPOCHS" --out "$OUT/$name"
  done
done
for name in backbone paper l2 lightgcn; do
  echo "== sea vs $name"; sea compare "$OUT/sea/metrics.json" "$OUT/$name/metrics.json"
done
