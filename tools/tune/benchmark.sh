#!/usr/bin/env bash
# The tuning benchmark (issue 6): per layer on VTA, default vs tuned simulator cycles, tuned with and without the
# online correction, trials and seconds to within 5% of the final best, and on small spaces the exhaustive optimum.
# Prints markdown tables. Opt-in: minutes of simulation.
#
#   tools/tune/benchmark.sh                      # six ResNet-50 layers, 40 trials per layer and run, plus small spaces
#   COVENANT_TUNE_TRIALS=80 COVENANT_TUNE_LAYERS=res2_1x1a,res4_3x3 tools/tune/benchmark.sh resnet
#
# Then the network-level run the command line does (budget shared across layers by expected gain):
#   dotnet run --project tools/covenantc -- tune codelets/suites/resnet50.yaml --arch architectures/vta.yaml \
#       --budget-trials 200 --records out/resnet50-vta.jsonl
set -euo pipefail
cd "$(dirname "$0")/../.."
which="${1:-all}"
filter="FullyQualifiedName~TuneBenchmark"
case "$which" in
  resnet) filter="FullyQualifiedName~TuneBenchmark.ResNet50OnVta" ;;
  small) filter="FullyQualifiedName~TuneBenchmark.SmallSpacesAgainstTheExhaustiveOptimum" ;;
  all) ;;
  *) echo "usage: $0 [all|resnet|small]" >&2; exit 1 ;;
esac
dotnet build tests/Covenant.Cli.Tests >/dev/null
dotnet test tests/Covenant.Cli.Tests --no-build --filter "$filter" --logger "console;verbosity=detailed" \
  | grep -E '^\s*(\||ResNet|small|median|res|g[0-9]|c[0-9]|Passed|Failed|  Expected|  But was|issue floor)' || true
