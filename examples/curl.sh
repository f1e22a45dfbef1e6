#!/usr/bin/env bash
# Call every endpoint with the payloads in examples/payloads (real store-item sales).
# Usage: examples/curl.sh [base url]   (default http://localhost:8000; start it with `make run`)
set -euo pipefail
BASE="${1:-${SMARTSHELF_URL:-http://localhost:8000}}"
P="$(cd "$(dirname "$0")" && pwd)/payloads"
API="$BASE/api/v1/smart-shelf"
post() { curl -sS --fail-with-body -H 'content-type: application/json' --data @"$P/$2.json" "$API/$1"; }
show() { python3 -c "import json,sys; d=json.load(sys.stdin); print(json.dumps(d, indent=1)[:${1:-600}])"; }

echo "== health";               curl -sS --fail-with-body "$BASE/health"; echo
echo "== at-risk";              post at-risk at-risk | show
echo "== forecast";             post forecast forecast | show
echo "== forecast as CSV";      curl -sS --fail-with-body -H 'accept: text/csv' -H 'content-type: application/json' \
                                  --data @"$P/forecast.json" "$API/forecast" | head -4
echo "== forecast, sales as series (the same answer)"
curl -sS --fail-with-body -H 'content-type: application/json' --data @"$P/forecast-series.json" "$API/forecast" | show 300
echo "== forecast, sales as a gzip CSV upload"
python3 -c "import json,sys; b=json.load(open(sys.argv[1])); print('product_id,date,qty'); [print(f\"{r['product_id']},{r['date']},{r['qty']}\") for r in b['sales']]" \
  "$P/forecast.json" | gzip > /tmp/smartshelf-sales.csv.gz
curl -sS --fail-with-body "$API/forecast" -F 'request={"shop_id": "store_2", "product_ids": ["p1", "p2", "p3"], "periods": 14, "confidence_interval": 0.9}' \
  -F 'sales=@/tmp/smartshelf-sales.csv.gz' | show 300
echo "== latest forecast";      curl -sS --fail-with-body "$API/forecast/store_2/p1" | show 300
echo "== plot (SVG)";           curl -sS --fail-with-body -o /tmp/smartshelf-plot.svg "$API/forecast/store_2/p1/plot" \
                                  && echo "saved /tmp/smartshelf-plot.svg"
echo "== accuracy";             curl -sS "$API/accuracy/store_2" | show 300   # 404 until later sales arrive
echo "== reorder";              post reorder reorder | show
echo "== reorder as CSV";       curl -sS --fail-with-body -H 'accept: text/csv' -H 'content-type: application/json' \
                                  --data @"$P/reorder.json" "$API/reorder" | head -3
echo "== anomalies";            post anomalies anomalies | show
echo "== promotions";           post promotions promotions | show
echo "== insights";             post insights insights | show
echo "== forecast batch";       job=$(post forecast/batch forecast-batch | python3 -c "import json,sys; print(json.load(sys.stdin)['job_id'])")
for _ in $(seq 1 120); do
  state=$(curl -sS "$BASE/api/v1/jobs/$job?results=false" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d['state'], d['progress']['done'], '/', d['progress']['total'])")
  echo "   job $job: $state"
  case "$state" in succeeded*|completed_with_errors*|failed*) break;; esac
  sleep 1
done
echo "== shop model";           job=$(post models/train train | python3 -c "import json,sys; print(json.load(sys.stdin)['job_id'])")
for _ in $(seq 1 60); do
  state=$(curl -sS "$BASE/api/v1/jobs/$job?results=false" | python3 -c "import json,sys; print(json.load(sys.stdin)['state'])")
  echo "   job $job: $state"
  case "$state" in queued|running) sleep 1;; *) break;; esac
done
curl -sS --fail-with-body "$API/models/store_2" | show 400
echo "== audit";                curl -sS --fail-with-body "$BASE/api/v1/audit/verify"; echo
echo "== metrics";              curl -sS --fail-with-body "$BASE/metrics" | grep '^smartshelf_requests_total' | head -5
