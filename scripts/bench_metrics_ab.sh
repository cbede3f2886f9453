#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# A/B of /metrics scrapes: runs each given bench_metrics binary once a
# round, for ROUNDS rounds, the order rotated each round, so that a busy
# patch of a shared machine falls on every build alike; then prints, per
# build, the median [min-max] over the rounds of each invocation's own
# median (bench_metrics takes 7 scrapes after a warm-up). Root, as
# bench_metrics needs for the data path and the http figure.
#
#   scripts/bench_metrics_ab.sh ROUNDS NAME=BINARY [NAME=BINARY...]
#
# e.g. with main's binary built from `git archive main` in /tmp/base:
#   scripts/bench_metrics_ab.sh 9 main=/tmp/base/build/tests/bench_metrics \
#       new=build/tests/bench_metrics
# BENCH_AB_OUT=FILE keeps every JSON line (with "name" and "round" added).
set -euo pipefail

usage() { echo "usage: $0 ROUNDS NAME=BINARY [NAME=BINARY...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
rounds=$1
shift
[[ $rounds =~ ^[1-9][0-9]*$ ]] || usage
specs=("$@")
for s in "${specs[@]}"; do
	[[ $s == *=* ]] && [ -x "${s#*=}" ] || { echo "$0: not NAME=BINARY: $s" >&2; exit 2; }
done
out=${BENCH_AB_OUT:-$(mktemp /tmp/xlb-bench-metrics-ab.XXXXXX)}
keep=${BENCH_AB_OUT:+1}
trap '[ -n "$keep" ] || rm -f "$out"' EXIT
: >"$out"

n=${#specs[@]}
for ((r = 1; r <= rounds; r++)); do
	for ((k = 0; k < n; k++)); do
		s=${specs[$(((k + r) % n))]}
		name=${s%%=*}
		echo "round $r/$rounds: $name (load $(cut -d' ' -f1 /proc/loadavg))" >&2
		"${s#*=}" | sed "s/^{/{\"name\":\"$name\",\"round\":$r,/" >>"$out"
	done
done

python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
names = list(dict.fromkeys(r["name"] for r in rows))
def fig(name, what, field, dp=True):
    v = [r[field] for r in rows
         if r["name"] == name and r["what"] == what and r.get("data_path") == dp and field in r]
    return "%.1f [%.1f-%.1f]" % (statistics.median(v), min(v), max(v)) if v else "-"
cols = [("http ms", "http", "ms"), ("http cpu ms", "http", "cpu_ms"),
        ("first byte ms", "http", "first_byte_ms"), ("render ms", "render", "ms"),
        ("render cpu ms", "render", "cpu_ms"), ("counters ms", "counters", "ms")]
print("%-10s" % "build" + "".join("%-22s" % c[0] for c in cols) + "bytes    lines   rounds")
for n in names:
    s = [r for r in rows if r["name"] == n and r["what"] == "scrape"]
    print("%-10s" % n + "".join("%-22s" % fig(n, w, f) for _, w, f in cols) +
          "%-9d%-8d%d" % (s[-1]["bytes"], s[-1]["lines"], len(s)))
PY
