#!/bin/sh
# Builds libz3compat.so (see z3compat.c) when the system libz3 lacks Z3_enable_concurrent_dec_ref.
# Covenant.Mapping.csproj runs it on Linux; by hand: sh build-z3compat.sh z3compat.c out/libz3compat.so out/z3compat.stamp
#
#   source  the C file
#   output  where the library goes; removed when the system libz3 does not need it
#   stamp   written only once the question is settled (built, or not needed), so MSBuild can skip
#           this script until an input changes. While libz3 is missing there is no stamp, and the
#           next build asks again: running tools/setup.sh and then building again is enough.
# Exit status: 0, or 1 with a message on stderr when the shim is needed but cannot be built.
set -eu

source=$1
output=$2
stamp=$3
symbol=Z3_enable_concurrent_dec_ref

note() { echo "z3compat: $*"; }

# The library "libz3" resolves to at run time (Z3Runtime tries libz3.so, then libz3.so.4).
find_libz3() {
    for ldconfig in ldconfig /sbin/ldconfig /usr/sbin/ldconfig; do
        if command -v "$ldconfig" >/dev/null 2>&1; then
            found=$("$ldconfig" -p 2>/dev/null | awk '$1 == "libz3.so" { print $NF; exit }')
            [ -n "$found" ] || found=$("$ldconfig" -p 2>/dev/null | awk '$1 == "libz3.so.4" { print $NF; exit }')
            if [ -n "$found" ]; then
                echo "$found"
                return
            fi
        fi
    done
    for dir in /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib; do
        for name in libz3.so libz3.so.4; do
            if [ -e "$dir/$name" ]; then
                echo "$dir/$name"
                return
            fi
        done
    done
}

exports_symbol() {
    if command -v nm >/dev/null 2>&1; then
        nm -D --defined-only "$1" 2>/dev/null | grep -q " $symbol\$"
    else
        # Without binutils: the name is in the dynamic string table if, and only if, it is exported
        # (libz3 before 4.12 has no mention of it at all).
        grep -q -a "$symbol" "$1"
    fi
}

libz3=$(find_libz3)
if [ -z "$libz3" ]; then
    note "libz3 is not installed, so the shim is not built (run tools/setup.sh, then build again)"
    rm -f "$output" "$stamp"
    exit 0
fi

mkdir -p "$(dirname "$output")" "$(dirname "$stamp")"
if exports_symbol "$libz3"; then
    note "$libz3 has $symbol; no shim needed"
    rm -f "$output"
    echo "not needed: $libz3 exports $symbol" >"$stamp"
    exit 0
fi

if ! command -v gcc >/dev/null 2>&1; then
    echo "z3compat: error: $libz3 lacks $symbol, which Microsoft.Z3 4.12 needs; building the compatibility shim needs gcc (run tools/setup.sh)" >&2
    exit 1
fi

# -Wl,--no-as-needed: every libz3 call goes through dlsym, so without it the linker could drop the
# DT_NEEDED entry that makes the shim's handle see libz3's other symbols.
tmp="$output.tmp.$$"
if ! gcc -std=gnu11 -O2 -g -fPIC -shared -fvisibility=hidden -pthread \
    -Wall -Wextra -Werror \
    -Wl,-soname,libz3compat.so -Wl,-z,defs \
    -o "$tmp" "$source" -Wl,--no-as-needed -lz3 -ldl; then
    rm -f "$tmp"
    echo "z3compat: error: compiling $source failed; it needs the libz3 headers (libz3-dev: run tools/setup.sh)" >&2
    exit 1
fi
mv -f "$tmp" "$output" # atomic, in case two builds of this project overlap
echo "built: $output against $libz3" >"$stamp"
note "built $output ($libz3 lacks $symbol)"
