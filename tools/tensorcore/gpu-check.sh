#!/usr/bin/env bash
# On a machine with nvcc and an NVIDIA GPU (sm_80 or sm_90): for each layer, compile the TensorCore artifact, write
# seeded inputs and the reference interpreter's outputs (TensorCoreCheck prepare), build the emitted .cu with nvcc
# (with cuBLAS), run it on those inputs, compare its outputs with the reference (TensorCoreCheck compare: integers
# exactly, f32 within the stated bound), and print its time next to cublasGemmStridedBatchedEx's on the same GEMM.
#
#   tools/tensorcore/gpu-check.sh [--arch sm90|sm80|both] [--iterations N] [--suite] [-o|--output DIR] [LAYER...]
#
# A LAYER is CODELET:NAME=VALUE,NAME=VALUE (e.g. gemm_f16:M=384,N=1024,K=1024). --suite adds the BERT-Large layers and
# ResNet-50's 3x3 convolutions, int8 and f16. With no layer and no --suite, a small default set runs.
# Environment: NVCC (default nvcc), NVCC_CCBIN (host compiler; default clang++-14 when nvcc is Debian's CUDA 11.8).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
arch=auto iterations=50 out=${TMPDIR:-/tmp}/covenant-gpu-check suite=0 layers=()
while [ $# -gt 0 ]; do
  case "$1" in
    --arch) arch=$2; shift 2 ;;
    --iterations) iterations=$2; shift 2 ;;
    -o|--output|--out) out=$2; shift 2 ;;  # --out: the old spelling
    --suite) suite=1; shift ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) layers+=("$1"); shift ;;
  esac
done
NVCC=${NVCC:-nvcc}
command -v "$NVCC" >/dev/null || { echo "gpu-check: $NVCC not found (tools/tensorcore/install-nvcc.sh installs one)" >&2; exit 2; }
ccbin=()
if [ -n "${NVCC_CCBIN:-}" ]; then ccbin=(-ccbin "$NVCC_CCBIN");
elif "$NVCC" --version | grep -q "release 11\." && command -v clang++-14 >/dev/null && ! command -v g++-11 >/dev/null; then ccbin=(-ccbin clang++-14); fi
if [ "$arch" = auto ]; then
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d .)
  case "$cc" in 90) arch=sm90 ;; 80|86|87|89) arch=sm80 ;; *) echo "gpu-check: no sm_80/sm_90 GPU found (nvidia-smi says '${cc:-nothing}')" >&2; exit 2 ;; esac
fi
[ "$arch" = both ] && arches=(sm80 sm90) || arches=("$arch")

if [ ${#layers[@]} -eq 0 ] && [ $suite -eq 0 ]; then
  layers=(gemm:M=33,N=17,K=40 gemm_f16:M=33,N=17,K=40 gemm_f16:M=1024,N=1024,K=1024 gemm:M=1024,N=1024,K=1024
          bmm_f16:B=16,M=384,N=384,K=64 conv2d_f16:N=1,H=28,W=28,C=128,K=128,R=3,S=3,pad=1)
fi
if [ $suite -eq 1 ]; then
  for f16 in "" _f16; do
    layers+=(gemm$f16:M=384,N=3072,K=1024 bmm$f16:B=16,M=384,N=384,K=64 bmm$f16:B=16,M=384,N=64,K=384
             gemm$f16:M=384,N=1024,K=1024 gemm$f16:M=384,N=4096,K=1024 gemm$f16:M=384,N=1024,K=4096)
    while read -r shape; do layers+=("conv2d$f16:$shape"); done < <(grep -E "R: 3" "$root/codelets/suites/resnet50.yaml" \
      | sed -E 's/.*codelet: conv2d, //; s/\}.*//; s/: /=/g; s/ //g')
  done
fi

dotnet build "$root/tools/tensorcore/TensorCoreCheck" -v quiet -nologo >/dev/null
check=(dotnet run --no-build --project "$root/tools/tensorcore/TensorCoreCheck" --)
mkdir -p "$out"
printf '%-6s %-58s %-8s %12s %12s %8s\n' arch layer result ours_us cublas_us ratio
failures=0
for a in "${arches[@]}"; do
  for layer in "${layers[@]}"; do
    codelet=${layer%%:*} shape=${layer#*:}
    dir="$out/$a/${codelet}_$(echo "$shape" | tr ',=' '_-')"
    rm -rf "$dir"; mkdir -p "$(dirname "$dir")"
    if ! "${check[@]}" prepare "$root/codelets/$codelet.cdlt" "$root/architectures/tensorcore-$a.yaml" "$dir" 1 ${shape//,/ } > "$dir.prepare.log" 2>&1; then
      printf '%-6s %-58s %-8s\n' "$a" "$layer" COMPILE; failures=$((failures + 1)); continue
    fi
    if ! "$NVCC" "${ccbin[@]}" -O3 -std=c++17 "-arch=sm_${a#sm}" -DCOVENANT_WITH_CUBLAS "$dir/tensorcore_kernel.cu" -o "$dir/kernel" -lcublas > "$dir.nvcc.log" 2>&1; then
      printf '%-6s %-58s %-8s\n' "$a" "$layer" NVCC; failures=$((failures + 1)); continue
    fi
    if ! "$dir/kernel" "$dir/gpu" "$iterations" > "$dir.run.log" 2>&1; then
      printf '%-6s %-58s %-8s\n' "$a" "$layer" RUN; failures=$((failures + 1)); continue
    fi
    if "${check[@]}" compare "$dir" > "$dir.compare.log" 2>&1; then result=match; else result=MISMATCH; failures=$((failures + 1)); fi
    ours=$(awk '/^covenant_us/ {print $2}' "$dir.run.log") theirs=$(awk '/^cublas_us/ {print $2}' "$dir.run.log") ratio=$(awk '/^ratio/ {print $2}' "$dir.run.log")
    printf '%-6s %-58s %-8s %12s %12s %8s\n' "$a" "$layer" "$result" "${ours:--}" "${theirs:--}" "${ratio:--}"
  done
done
echo "ratio = cuBLAS time / our time (1.0: as fast as cuBLAS). Logs and artifacts: $out"
[ $failures -eq 0 ]
