#!/usr/bin/env bash
# Renders a what-if HTML report in a real headless browser and checks the
# screenshot is not blank. Not part of CI (it needs Chromium); run it after
# changing the report's HTML or SVG:
#
#   scripts/check-report-renders.sh                 # runs a small sweep, renders it
#   scripts/check-report-renders.sh report.html     # renders an existing report
#
# Writes the PNG next to the report (report.png) and prints its path; look at
# it. Needs `chromium` (Debian: apt-get install -y chromium) and python3.
# Exit status: 0 rendered and non-trivial, 1 blank or failed, 2 missing tools.
set -euo pipefail
cd "$(dirname "$0")/.."

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser="$b"; break; fi
done
if [ -z "$browser" ]; then echo "no chromium found: apt-get install -y chromium" >&2; exit 2; fi
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed to inspect the PNG" >&2; exit 2; }

if [ $# -ge 1 ]; then
  html="$1"
else
  workdir="$(mktemp -d)"
  html="$workdir/report.html"
  sim=.build/debug/medallion-sim
  [ -x "$sim" ] || swift build --product medallion-sim >/dev/null
  "$sim" whatif Tests/PlanningTests/Fixtures/whatif-small.yaml \
    --sweep jobs.silver_binance.trigger=30s,60s --sweep exchanges.binance.rate_multiplier=0.05,0.1 \
    --html "$html" >/dev/null
fi
png="${html%.html}.png"
rm -f "$png"

# A tall window: the overview charts and the first points' charts.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size=1400,2400 --screenshot="$png" "file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")" \
  >/dev/null 2>&1 || true
[ -s "$png" ] || { echo "FAIL: $browser wrote no screenshot for $html" >&2; exit 1; }

# Non-trivial: a real PNG of the asked size, many distinct colours (text,
# chart lines, verdict cells), and a good share of non-white pixels.
python3 - "$png" <<'EOF'
import struct, sys, zlib
path = sys.argv[1]
data = open(path, 'rb').read()
if data[:8] != b'\x89PNG\r\n\x1a\n':
    sys.exit(f"FAIL: {path} is not a PNG")
pos, idat, width, height, ctype = 8, b'', 0, 0, 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR':
        width, height, depth, ctype = struct.unpack('>IIBB', body[:10])
    elif kind == b'IDAT':
        idat += body
    pos += 12 + n
bpp = {2: 3, 6: 4}.get(ctype)
if bpp is None:
    sys.exit(f"FAIL: unexpected PNG colour type {ctype}")
raw = zlib.decompress(idat)
stride = width * bpp
prev = bytearray(stride)
colours, ink = set(), 0
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    if y % 4 == 0:
        for x in range(0, width, 4):
            px = bytes(line[x * bpp:x * bpp + 3])
            colours.add(px)
            if px != b'\xff\xff\xff':
                ink += 1
samples = (height // 4 + 1) * (width // 4 + 1)
share = 100 * ink // max(1, samples)
print(f"{path}: {width}x{height}, {len(colours)} colours sampled, {share}% non-white")
if width < 800 or height < 800 or len(colours) < 20 or share < 3:
    sys.exit("FAIL: the screenshot looks blank or trivial")
EOF
echo "ok: $png"
