#!/usr/bin/env bash
# The opt-in, long comparison behind the default tests: every layer of a suite (default ResNet-50) on the three
# architecture-variant groups that make a point, each as a table on stdout plus an HTML report and a CSV in OUTDIR,
# and each report checked in headless Chromium (tools/compare/browser-check.sh).
#   tools/compare/compare-variants.sh [OUTDIR] [SUITE.yaml] [extra covenantc compare flags, e.g. --no-run or --only a,b]
# Exits with the worst exit code of the comparisons (2 if any output differs from the reference) or 1 if a report
# fails the browser check.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${1:-compare-reports}
suite=${2:-codelets/suites/resnet50.yaml}
shift $(( $# < 2 ? $# : 2 ))
mkdir -p "$out"
dotnet build -c Release tools/covenantc >/dev/null || exit 1
covenantc=(dotnet tools/covenantc/bin/Release/net10.0/covenantc.dll)
groups=(
    "vta:architectures/vta.yaml architectures/vta-1x32x32.yaml architectures/vta-halved.yaml"
    "vnni:architectures/vnni-avx512.yaml architectures/vnni-avx256.yaml"
    "tensorcore:architectures/tensorcore-sm80.yaml architectures/tensorcore-sm90.yaml"
)
name=$(basename "$suite" .yaml)
status=0
for group in "${groups[@]}"; do
    label=${group%%:*}
    args=()
    for arch in ${group#*:}; do args+=(--arch "$arch"); done
    echo "== $name on the $label variants"
    "${covenantc[@]}" compare "$suite" "${args[@]}" --html "$out/$name-$label.html" --csv "$out/$name-$label.csv" "$@"
    code=$?
    [ $code -gt $status ] && status=$code
    if [ -f "$out/$name-$label.html" ]; then
        bash tools/compare/browser-check.sh "$out/$name-$label.html" "$out/$name-$label-browser" || { [ $status -lt 1 ] && status=1; }
    fi
done
exit $status
