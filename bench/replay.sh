#!/bin/sh
# bench/replay.sh - engine steps per second: `blueflow replay` over 100,000
# updates of flows/onboarding.json (10,000 chats). The baseline, measured
# in the same run, is Python merely decoding the same JSON lines.
# Usage: bench/replay.sh [BLUEFLOW] [N]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$top/build/blueflow}
n=${2:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$top/bench/gen_updates.py" "$n" >"$tmp/updates.jsonl"

now() { date +%s.%N; }
t0=$(now)
"$bin" replay "$top/flows/onboarding.json" "$tmp/updates.jsonl" >"$tmp/out.jsonl"
t1=$(now)
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    json.loads(line)
' "$tmp/updates.jsonl"
t2=$(now)
calls=$(grep -c '"method"' "$tmp/out.jsonl")
python3 - "$n" "$t0" "$t1" "$t2" "$calls" <<'PY'
import sys
n, t0, t1, t2, calls = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5])
eng, base = t1 - t0, t2 - t1
print(f"replay: {n} updates in {eng:.2f} s = {n / eng:,.0f} steps/s ({calls} Bot API calls)")
print(f"baseline (python json.loads of the same lines): {n / base:,.0f} lines/s")
print(f"ratio: blueflow steps/s = {base / eng:.2f} x the baseline")
PY
