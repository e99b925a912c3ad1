#!/usr/bin/env bash
# Installs Debian's Chromium (package 'chromium', /usr/bin/chromium) when it is missing: the headless browser that
# tools/compare/browser-check.sh renders `covenantc compare` HTML reports with. Needs root (apt-get); does nothing
# when chromium is already on the PATH. Called by tools/setup.sh and by browser-check.sh itself.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-chromium.sh: chromium is not installed, and installing it needs root: apt-get install chromium" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-chromium.sh: installing Debian's chromium (apt-get)" >&2
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
