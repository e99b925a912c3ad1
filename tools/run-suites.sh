#!/usr/bin/env bash
# Compiles and runs every layer of every shipped suite on the given architectures (default: both VTA
# configurations) and prints one table per pair. Exits non-zero if any layer fails to compile (1) or any
# output differs from the reference interpreter (2). This is the long, opt-in check behind the default tests.
#   tools/run-suites.sh [architecture.yaml ...]
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
dotnet build -c Release tools/covenantc >/dev/null || exit 1
architectures=("$@")
[ ${#architectures[@]} -gt 0 ] || architectures=(architectures/vta.yaml architectures/vta-1x32x32.yaml)
status=0
for suite in codelets/suites/*.yaml; do
    for arch in "${architectures[@]}"; do
        echo "== $(basename "$suite" .yaml) on $(basename "$arch" .yaml)"
        dotnet tools/covenantc/bin/Release/net10.0/covenantc.dll suite "$suite" --arch "$arch"
        code=$?
        [ $code -gt $status ] && status=$code
    done
done
exit $status
