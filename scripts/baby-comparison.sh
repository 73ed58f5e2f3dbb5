#!/usr/bin/env bash
# Comparisons on Baby's real interactions with semi-synthetic features, seeds 999, 1 and 2, every run capped at
# EPOCHS epochs (the protocol's early stopping ends a run sooner):
#
#   scripts/baby-comparison.sh sea-variants [EPOCHS]   SEA, its backbone (α = β = 0), the paper's CLUB pairing, the
#                                                      −ℓ2 distancing and LightGCN (3 layers, reg 1e-2); default 10
#   scripts/baby-comparison.sh seed-systems [EPOCHS]   SEA, VBPR, VBPR+SEA, FREEDOM, FREEDOM+SEA, AlignRec, DRepMRec
#                                                      at their published defaults; default 5
#
# Resumable: run again (with the same or a larger cap) and every run goes on from its last checkpoint exactly as an
# uninterrupted run would have. Features are 512/128 wide (not the 4,096/384 of the real ones) to fit the CPU, and
# the seed systems' AlignRec reads a 768-wide semi-synthetic mm_feat.npy made the same way (not BEiT-3's).
set -euo pipefail
cd "$(dirname "$0")/.."
SET=${1:?usage: scripts/baby-comparison.sh sea-variants|seed-systems [EPOCHS]}
declare -A VARIANT
case "$SET" in
  sea-variants)
    EPOCHS=${2:-10}; OUT=runs/baby-sea-cmp; NAMES=(sea backbone paper l2 lightgcn); SYNTH=()
    VARIANT=([sea]="--model sea" [backbone]="--model sea --alpha 0 --beta 0" [paper]="--model sea --club-pairing paper"
             [l2]="--model sea --distance l2" [lightgcn]="--model lightgcn --layers 3 --reg 1e-2") ;;
  seed-systems)
    EPOCHS=${2:-5}; OUT=runs/baby-models-cmp; NAMES=(sea vbpr vbpr-sea freedom freedom-sea alignrec drepmrec); SYNTH=(--mm-dim 768)
    for name in "${NAMES[@]}"; do VARIANT[$name]="--model $name"; done ;;
  *) echo "scripts/baby-comparison.sh: unknown set '$SET' (expected sea-variants or seed-systems)" >&2; exit 2 ;;
esac
DATA=$OUT/data
mkdir -p "$OUT"
# A build of its own, so that rebuilding the working tree never changes the binary under a running comparison
# (delete $OUT/bin to take a newer build; runs continued by another build may differ in rounding).
[ -f "$OUT/bin/sea.dll" ] || dotnet publish Cli -c Release -o "$OUT/bin" -v q
sea() { dotnet "$OUT/bin/sea.dll" "$@"; }
# One GEMM provider for every run and every resume, whatever the machine's own choice (which may differ between
# machines and changes the rounding): the managed kernel, which exists everywhere.
export SEA_BLAS=${SEA_BLAS:-managed}
[ -f "$DATA/manifest.json" ] || sea synth-features --data ../shared/data/baby --out "$DATA" --image-dim 512 --text-dim 128 "${SYNTH[@]}"

# Seeds grow pass by pass (999; 999,1; 999,1,2), so a partial run holds every model at the same seeds; `--seeds`
# continues a seed's run from its checkpoint, so each pass only adds what is missing.
for seeds in 999 999,1 999,1,2; do
  for name in "${NAMES[@]}"; do
    # shellcheck disable=SC2086
    sea train ${VARIANT[$name]} --data "$DATA" --seeds "$seeds" --epochs "$EPOCHS" --out "$OUT/$name"
  done
done
# Every run against the first (SEA): test Recall@20 and NDCG@20 mean ± std, paired t-test, best epochs, s/epoch.
RUNS=(); for name in "${NAMES[@]}"; do RUNS+=("$OUT/$name/metrics.json"); done
sea compare "${RUNS[@]}" --markdown "$OUT/comparison.md"
