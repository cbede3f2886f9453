#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# Where a data-path packet's time goes, by source line and by function:
# runs `bench_dp PATH` for one forwarding mode under `perf record`, maps
# each sample in xlb_balance's JIT image to its source line
# (build/tests/bench_lines, from the program's BTF line info) and prints
# the shares. No traffic leaves the process (BPF_PROG_TEST_RUN).
#
#   scripts/profile_dp.sh MODE PATH [LINES]   e.g. l2dsr established 40
#
# MODE: ipip, gue, l2dsr or ip6ip6 (established only); PATH: a bench_dp path (established, new_flow,
# ratelimited, ...). Shares are of the samples inside xlb_balance (the
# kernel's helpers, e.g. a hash map's lookup, are not in it). Root.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: profile_dp.sh MODE PATH [LINES]}
path=${2:?usage: profile_dp.sh MODE PATH [LINES]}
lines=${3:-40}
case $mode in ipip | gue | l2dsr | ip6ip6) ;; *) echo "profile_dp: mode ipip, gue, l2dsr or ip6ip6" >&2; exit 2 ;; esac
[[ $lines =~ ^[0-9]+$ ]] || { echo "profile_dp: LINES is a count" >&2; exit 2; }
for b in build/tests/bench_dp build/tests/bench_lines; do
	[ -x "$b" ] || { echo "profile_dp: $b missing (make all)" >&2; exit 1; }
done
command -v perf >/dev/null || { echo "profile_dp: perf missing (make deps)" >&2; exit 1; }
dir=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

XLB_BENCH_MODE=$mode XLB_BENCH_PROG_ID_FILE=$dir/id perf record -F 25000 -q \
	-o "$dir/perf.data" -- build/tests/bench_dp "$path" >"$dir/bench.json" 2>"$dir/bench.err" &
pid=$!
# The program exists only while bench_dp runs: read its line table then.
for ((i = 0; i < 300; i++)); do
	if [ -s "$dir/id" ] && build/tests/bench_lines "$(cat "$dir/id")" >"$dir/lines"; then
		tag=$(bpftool prog show id "$(cat "$dir/id")" | grep -o 'tag [0-9a-f]*' | cut -d' ' -f2)
		break
	fi
	sleep 0.1
done
wait "$pid" || { cat "$dir/bench.err" >&2; exit 1; }
pid=
[ -s "$dir/lines" ] || { echo "profile_dp: could not read xlb_balance's lines" >&2; exit 1; }
sym="bpf_prog_${tag}_xlb_balance"
perf script -i "$dir/perf.data" -F ip,sym,symoff 2>/dev/null |
	awk -v s="$sym" '$2 ~ "^" s "\\+" {sub(".*\\+0x", "", $2); print $2}' >"$dir/samples"
[ -s "$dir/samples" ] || { echo "profile_dp: no samples in $sym" >&2; exit 1; }
grep "\"mode\":\"$mode\"" "$dir/bench.json" | head -3
python3 - "$dir/lines" "$dir/samples" "$lines" <<'PY'
import bisect, collections, re, sys

lines = []
for l in open(sys.argv[1]):
    off, where = l.rstrip("\n").split(" ", 1)
    if where.split(" ")[0].endswith(":0"):  # compiler-made, no line
        continue
    lines.append((int(off, 16), where))
lines.sort()
offs = [o for o, _ in lines]
by_line = collections.Counter()
for l in open(sys.argv[2]):
    i = bisect.bisect_right(offs, int(l, 16)) - 1
    by_line[lines[i][1] if i >= 0 else "?"] += 1
total = sum(by_line.values())

# The function each line is in, from the sources (a line that opens a
# top-level definition starts a function).
funcs = {}
def func_of(path, n):
    if path not in funcs:
        starts = []
        for d in ("bpf", "maps"):
            try:
                src = open(f"{d}/{path}")
            except OSError:
                continue
            for k, text in enumerate(src, 1):
                m = re.match(r"^(?:static |SEC|int )[^=;]*?\b(\w+)\(", text)
                if m:
                    starts.append((k, m.group(1)))
            break
        funcs[path] = starts
    name = "?"
    for k, f in funcs[path]:
        if k <= n:
            name = f
    return name

by_func = collections.Counter()
for where, c in by_line.items():
    m = re.match(r"(\S+):(\d+)", where)
    by_func[f"{func_of(m.group(1), int(m.group(2)))} ({m.group(1)})" if m else "?"] += c
print(f"{total} samples in xlb_balance\n\nby function:")
for k, c in by_func.most_common(25):
    print(f"{100 * c / total:5.1f}%  {k}")
print("\nby line:")
for k, c in by_line.most_common(int(sys.argv[3])):
    print(f"{100 * c / total:5.1f}%  {k[:110]}")
PY
