#!/usr/bin/env bash
# Prints a hash of every emitted file of every layer of the four shipped suites on every shipped architecture,
# plus the records of a fixed-seed tune run, so that a refactoring can prove it changed no result:
#   tools/behavior/artifact-hashes.sh > before.txt; ...change...; tools/behavior/artifact-hashes.sh > after.txt; diff before.txt after.txt
# One line per file: "suite arch layer file sha256". A layer that does not compile prints "... error <its first diagnostic line>".
# Tune records lose their wall-clock fields (seconds, time) and mapping.json its *Seconds before hashing, with keys sorted
# (the traffic dictionaries are not written in a stable order); everything else must be equal.
# Options: SUITES="resnet50 ..." ARCHS="vta ..." restrict the sweep; TUNE=0 skips the tune run.
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
dotnet build -c Release tools/covenantc >/dev/null || { echo "build failed" >&2; exit 1; }
covenantc=(dotnet tools/covenantc/bin/Release/net10.0/covenantc.dll)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

suites=${SUITES:-"bert_large deepbench dlrm resnet50"}
archs=${ARCHS:-$(ls architectures/*.yaml | xargs -n1 basename | sed 's/\.yaml$//' | sort | tr '\n' ' ')}
for suite in $suites; do
    for arch in $archs; do
        out="$work/$suite/$arch"
        "${covenantc[@]}" suite "codelets/suites/$suite.yaml" --arch "architectures/$arch.yaml" --no-run -o "$out" \
            >"$work/log" 2>"$work/err"
        # Layers that failed: the first error line names why (paths made relative so the text is stable).
        grep -E '^layer .*:$' -A1 "$work/err" | paste - - -d' ' 2>/dev/null | sed -E 's/^layer ([^:]+): (.*)$/\1 \2/' |
            while read -r layer rest; do echo "$suite $arch $layer error $(echo "$rest" | sha256sum | cut -c1-16)"; done
        [ -d "$out" ] || continue
        # mapping.json carries the wall-clock seconds of mapping and lowering: those go, and keys are sorted.
        (cd "$out" && find . -type f | sort | while read -r f; do
            if [ "$(basename "$f")" = artifact.json ]; then
                # compiledFrom names the codelet by its absolute path: hash it relative to the checkout.
                hash=$(sed "s#$root/##g" "$f" | sha256sum | cut -c1-16)
            elif [ "$(basename "$f")" = mapping.json ]; then
                hash=$(python3 -c 'import json,sys
def strip(v):
    if isinstance(v, dict): return {k: strip(x) for k, x in v.items() if not k.endswith("Seconds")}
    if isinstance(v, list): return [strip(x) for x in v]
    return v
print(json.dumps(strip(json.load(open(sys.argv[1]))), sort_keys=True))' "$f" | sha256sum | cut -c1-16)
            else
                hash=$(sha256sum "$f" | cut -c1-16)
            fi
            echo "$suite $arch ${f#./} $hash"
        done) | sed -E 's#^([^ ]+ [^ ]+) ([^/]+)/#\1 \2 #'
    done
done

if [ "${TUNE:-1}" != 0 ]; then
    for arch in vta vnni-avx512; do
        measure=target; [ "$arch" = vta ] || measure=model
        "${covenantc[@]}" tune codelets/suites/resnet50.yaml --arch "architectures/$arch.yaml" --only res2_1x1a,res4_3x3 \
            --budget-trials 24 --seed 7 --measure "$measure" --records "$work/tune-$arch.jsonl" >/dev/null 2>&1
        python3 - "$work/tune-$arch.jsonl" "$arch" <<'PY'
import json, sys, hashlib
for n, line in enumerate(open(sys.argv[1])):
    record = json.loads(line)
    for volatile in ("seconds", "time"):
        record.pop(volatile, None)
    text = json.dumps(record, sort_keys=True)
    print(f"tune {sys.argv[2]} record{n:03} {hashlib.sha256(text.encode()).hexdigest()[:16]}")
PY
    done
fi
