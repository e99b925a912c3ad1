#!/usr/bin/env bash
# Installs nvcc (Debian bookworm's nvidia-cuda-toolkit, CUDA 11.8: it knows sm_80 and sm_90) for the opt-in syntax
# check. The toolkit is in Debian's non-free component, which this machine's apt sources leave out, so a private
# sources list under $STATE adds it for this one install without touching /etc/apt. About 3 GB download, 6 GB
# installed, a few minutes. Needs root. Compiling needs no GPU; running does (see gpu-check.sh).
set -euo pipefail
if command -v nvcc >/dev/null; then nvcc --version | tail -1; exit 0; fi
STATE=${STATE:-/tmp/covenant-apt-nonfree}
mkdir -p "$STATE/parts" "$STATE/lists/partial"
cat > "$STATE/parts/nonfree.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main contrib non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
APT=(-o Dir::Etc::sourcelist=/dev/null -o "Dir::Etc::sourceparts=$STATE/parts" -o "Dir::State::Lists=$STATE/lists")
apt-get "${APT[@]}" update
DEBIAN_FRONTEND=noninteractive apt-get "${APT[@]}" install -y --no-install-recommends nvidia-cuda-toolkit
nvcc --version | tail -1
