#!/usr/bin/env bash
# make bench-browser: the pages under a live stream (frontend/e2e/live-load.spec.ts) at LIVE_RATE changes/s
# (default 1,000) for LIVE_SECONDS (default 60), on the running product (make up). Input round trip p50/p95 and
# JS heap per page, against the goal (p95 < 100 ms), in bench/results/browser.{json,md}.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a; . "${CDCFLOW_STACK_DIR:-.stack}/env"; set +a
out=bench/results/browser
export LIVE_RATE="${LIVE_RATE:-1000}" LIVE_SECONDS="${LIVE_SECONDS:-60}" LIVE_REPORT="$PWD/$out.json"
(cd frontend && npx playwright test e2e/live-load.spec.ts)
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
r = json.load(open(out + ".json"))
load = os.getloadavg()[0]
lines = [f"# Pages under a live stream ({r['when']})", "",
         f"{r['rate']:,} changes/s for {r['seconds']} s into a real pipeline; /monitoring and the pipeline page open "
         f"in two browser windows (Chromium, headless). Input round trip = a keypress and a click, from sending to "
         f"handled by the tab. Goal: p95 < 100 ms. Load average at the end: {load:.1f}.", "",
         "| page | samples | p50 ms | p95 ms | goal met | heap MB start -> end |", "|---|---|---|---|---|---|"]
for name, p in r["pages"].items():
    lines.append(f"| {name} | {p['samples']} | {p['p50']} | {p['p95']} | {'yes' if p['p95'] < 100 else 'no'} | "
                 f"{p['heapStartMb']} -> {p['heapEndMb']} |")
open(out + ".md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
