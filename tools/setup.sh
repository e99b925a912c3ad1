#!/usr/bin/env bash
# Installs what Covenant needs from the system, once per machine; safe to run again (it skips what is there).
#   - the .NET SDK is expected on PATH (the project's machines ship it; see global.json for the version)
#   - graphviz: `covenantc arch show --format svg` renders the graph with `dot`
#   - libz3-dev: on Linux the Microsoft.Z3 package binds to the system libz3 (the mapping solver)
#   - gcc: builds the Z3 compatibility shim against that libz3 when it is older than 4.12
#     (compiler/Covenant.Mapping/Native/z3compat.c says why); it also builds the VNNI kernels
#   - chromium: the headless browser that checks `covenantc compare`'s HTML reports (tools/compare/browser-check.sh)
# Run as root (apt-get). As another user, or when the install fails, it exits 1 and prints the exact command to run,
# so a missing package stops here and not later in a test far from the cause.
set -euo pipefail

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
[ -f /usr/include/z3.h ] || missing+=(libz3-dev)
command -v gcc >/dev/null 2>&1 || missing+=(gcc)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if ! command -v dotnet >/dev/null 2>&1; then
    echo "setup: the .NET SDK (dotnet) is not on PATH; install .NET 10 first" >&2
    exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

install_command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing system packages: ${missing[*]}; install them as root:" >&2
    echo "    sudo sh -c '$install_command'" >&2
    exit 1
fi

echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
    echo "setup: could not install ${missing[*]}; run this and read its errors:" >&2
    echo "    $install_command" >&2
    exit 1
fi

# What the install was for must now be there.
still=()
command -v dot >/dev/null 2>&1 || still+=(graphviz)
[ -f /usr/include/z3.h ] || still+=(libz3-dev)
command -v gcc >/dev/null 2>&1 || still+=(gcc)
command -v chromium >/dev/null 2>&1 || still+=(chromium)
if [ ${#still[@]} -gt 0 ]; then
    echo "setup: still missing after the install: ${still[*]}" >&2
    exit 1
fi
