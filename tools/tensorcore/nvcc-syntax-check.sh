#!/usr/bin/env bash
# Opt-in: installs nvcc if needed (install-nvcc.sh), then compiles emitted kernels for sm_80 and sm_90 with
# nvcc -c --Werror all-warnings, with and without -DCOVENANT_WITH_CUBLAS (the NUnit category Nvcc). No GPU needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
"$root/tools/tensorcore/install-nvcc.sh"
cd "$root"
dotnet test tests/Covenant.Targets.Tests --filter TestCategory=Nvcc
