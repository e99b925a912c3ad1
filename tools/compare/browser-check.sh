#!/usr/bin/env bash
# Renders a `covenantc compare` HTML report in headless Chromium (Debian's, installed by install-chromium.sh when
# missing) and checks that it loads cleanly:
#   tools/compare/browser-check.sh REPORT.html OUTDIR [MIN_SVG]
# Writes OUTDIR/dom.html (the DOM after scripts ran, from --dump-dom), OUTDIR/screenshot.png (--screenshot) and
# OUTDIR/console.log (the browser's log). Fails (exit 1) when the page logs anything to the console (a script error,
# a blocked network request: the report's Content-Security-Policy forbids every external resource), when its script did
# not run to the end (it marks <body data-script="ok">), when the DOM has fewer than MIN_SVG (default 3) <svg> charts,
# or when no PNG screenshot was written. The pixels are the caller's to judge (the NUnit test decodes the PNG).
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 REPORT.html OUTDIR [MIN_SVG]" >&2
    exit 1
fi
report=$(realpath "$1")
out=$2
min_svg=${3:-3}
[ -f "$report" ] || { echo "browser-check: no such report: $report" >&2; exit 1; }
mkdir -p "$out"
out=$(realpath "$out")
bash "$(dirname "$0")/install-chromium.sh"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# The flags a closed network and a root user need: no sandbox (root), no GPU, and none of Chromium's own background
# connections (they are refused here and would fill the log).
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
       --disable-component-update --disable-sync --disable-dev-shm-usage --hide-scrollbars
       --user-data-dir="$profile" --enable-logging=stderr --v=0 --window-size=1400,3000)
url="file://$report"
timeout 120 chromium "${flags[@]}" --dump-dom "$url" > "$out/dom.html" 2> "$out/console.log"
timeout 120 chromium "${flags[@]}" --screenshot="$out/screenshot.png" "$url" >/dev/null 2>> "$out/console.log"

status=0
if grep -q ':CONSOLE' "$out/console.log"; then
    echo "browser-check: the page wrote to the console:" >&2
    grep ':CONSOLE' "$out/console.log" >&2
    status=1
fi
if ! grep -q 'data-script="ok"' "$out/dom.html"; then
    echo "browser-check: the report's script did not run to the end (no data-script=\"ok\" on <body>)" >&2
    status=1
fi
svgs=$(grep -o '<svg' "$out/dom.html" | wc -l)
if [ "$svgs" -lt "$min_svg" ]; then
    echo "browser-check: $svgs <svg> element(s) in the DOM, expected at least $min_svg" >&2
    status=1
fi
if [ "$(head -c 8 "$out/screenshot.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
    echo "browser-check: no PNG screenshot at $out/screenshot.png" >&2
    status=1
fi
bars=$(grep -o 'class="bar' "$out/dom.html" | wc -l)
[ $status -eq 0 ] && echo "browser-check: ok: $svgs svg chart(s), $bars bar(s); screenshot $out/screenshot.png"
exit $status
