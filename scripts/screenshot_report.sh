#!/usr/bin/env bash
# Export the sample_logs comparison as HTML and SVG and screenshot the HTML in headless Chromium,
# to check by eye that the shared report shows the same content as the terminal.
# usage: scripts/screenshot_report.sh [OUTDIR]   (default bench_out/report); needs chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-bench_out/report}"
mkdir -p "$OUT"
TBDIFF="${TBDIFF:-.venv/bin/tbdiff}"
"$TBDIFF" compare sample_logs/tensorflow sample_logs/keras --width 100 \
    --html "$OUT/report.html" --svg "$OUT/report.svg" > "$OUT/report.txt" || [[ $? -eq 1 ]]
CHROME="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [[ -z "$CHROME" ]]; then
    echo "chromium not found (apt-get install chromium); HTML is at $OUT/report.html" >&2
    exit 3
fi
PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
"$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$PROFILE" --hide-scrollbars --window-size=1000,2400 \
    --screenshot="$OUT/report.png" "file://$(pwd)/$OUT/report.html" 2>/dev/null
echo "wrote $OUT/report.html $OUT/report.svg $OUT/report.png"
