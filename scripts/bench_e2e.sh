#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# make bench-e2e: end-to-end throughput of xlb against the load balancers a
# user could use instead, on one namespace topology (scripts/topology.sh,
# l2dsr mode: a client and 3 backends on one bridge). The balancers stand
# side by side, each in its own namespace on the bridge, so going from one
# to another is only a different destination in the client's frames:
#
#   (a) xlb       in "lb": xlbd, VIP 198.18.1.100:9/udp, maglev, forward
#                 l2dsr, 3 backends
#   (a1) xlb      the same xlbd's second VIP, 198.18.1.101:9/udp, with be1
#                 alone, the one backend (c) sends to: the balancer's own
#                 cost against (c)'s without the spreading over 3 backend
#                 namespaces, which costs the path itself
#   (b) nftables  in "lbnft" (198.18.0.4): prerouting DNAT of the VIP to
#                 `numgen random mod 3` over the backends' own addresses;
#                 ip_forward on; the backends route the client and their
#                 default via lbnft, so replies go back through it (checked
#                 with one UDP request to VIP:53)
#   (c) xdp_fwd   in "lbfwd" (198.18.0.3): tests/bpf/xdp_fwd.bpf.c, rewrite
#                 the destination MAC to be1's, XDP_TX; the ceiling of any
#                 XDP balancer here
#   (-) direct    no lb at all: the client sends to be1's MAC; the reference
#                 for the CPU attribution below
#
# Load: trafgen (one process, which trafgen pins to CPU 0) in the client
# sends 60-byte UDP frames to the VIP's port 9 as fast as it can, the source
# port counting over FLOWS (10000) ports, UDP checksum 0 (legal for
# UDP/IPv4, so docs/KERNEL.md's veth trap 2 does not arise). Each mode gets BENCH_SECONDS
# (5) s of load a round, in BENCH_SLICES (5) slices that take turns with the
# other modes' slices (slice 1 of every mode, then slice 2, ..., the order
# rotating so each mode takes each place once): a slow patch of this shared
# host, which lasts seconds to minutes, then falls on every mode alike
# instead of on one, which is what made single measurements here move by
# up to 1.65x. A mode's slices in a round send from a source address of
# their own (198.18.100.N), so its 5 s start with 10,000 new flows in xlb's
# table and in nftables' conntrack, which its later slices continue, as one
# 5 s measurement would. Each backend counts and drops what reaches its
# input hook (an nft `inet` table, a counter on udp dport 9): no backend
# answers, no ICMP comes back.
#
# Options. BENCH_CONNTRACK_SIZE=N starts xlbd with --conntrack-size N.
# BENCH_STATELESS=1 makes xlb's two VIPs stateless (`stateless: true`: no
# flow cache, no connection table, every packet by its Maglev slot), which
# shows what keeping per-flow state costs on this path.
# BENCH_SLICES_OUT=FILE keeps the slices' own figures (JSON lines), which
# `scripts/bench_e2e.sh --pool FILE...` pools over runs. BENCH_PERF=DIR
# records a perf profile of every CPU during each xlb and forwarder slice
# (DIR/MODE-ROUND-SLICE.data; the profiler's own cost lowers those slices'
# rates) and prints where each mode's time went, in ns a packet, xlb's
# heaviest symbols first.
#
# Rates. "kpps": packets counted at the backends / trafgen's sending time,
# summed over a mode's slices in a round. On veth everything after the
# client's first hop (bridge, lb, bridge, backend) runs in the NET_RX
# softirq of the sending CPU, mostly inside trafgen's own system calls, so
# the sending CPU is the bottleneck and the rate is set by the cost of the
# whole path, of which the lb is one part. Other work scheduled on that CPU
# lowers it, so "kpps/CPU" also divides it by the share of that CPU the path
# actually got: trafgen's user+system time (the kernel charges softirq work
# done in its context to it) plus the sending CPU's ksoftirqd, over the
# wall time. On an idle machine the two agree; on a heavily shared CPU it
# reads high (softirq work then runs in other tasks' context, uncounted),
# so it is an approximation.
#
# lb CPU. "softirq ns/pkt": /proc/stat softirq time summed over all CPUs,
# before/after each slice, divided by packets delivered: the cost of the
# whole path after the first hop, not the lb's. The lb's share is estimated
# by difference: mode minus `direct` in the same round (the same path
# without the lb hop). That share still holds the extra bridge pass and
# veth hops that any lb on this topology costs; (c)'s share is that floor,
# and mode minus (c) is what a balancer adds over a forwarder that does
# nothing. The kernel accounts CPU time by ticks (no IRQ_TIME_ACCOUNTING
# here): samples, ~1% over 5 s.
#
# Other load (the other CPUs more than 15% busy, or more than 10% of the
# sending CPU going to other work, over a mode's slices in a round) is
# marked NOISY.
#
# Fairness: the switch-side peers of the lb's and lbfwd's veths carry an
# XDP_PASS program only because veth drops XDP_TX frames without one
# (docs/KERNEL.md, veth trap 1); lbnft's has none (it would cost skb-path traffic a
# copy). Bridge FDB entries are static so nothing is flooded, and the bridge
# does not call netfilter (bridge-nf-call-* = 0 in the switch namespace),
# as a hardware switch would not.
#
# Runs BENCH_RUNS (3) rounds and prints a line per mode and round, medians
# with min..max over rounds, the per-round ratios (a)/(c), (a)/(b) and
# (a1)/(c), the method, and one JSON line per mode. Needs root. Takes ~2
# minutes; aborts past 300 s. Cleanup (namespaces, processes, pins) is
# tests/e2e/lib.sh's trap, on every exit path.
set -uo pipefail

# scripts/bench_e2e.sh --pool FILE...: pools the slices kept by
# BENCH_SLICES_OUT in one or more runs (every mode's packets over its
# sending time, all its slices together) and prints the ratios; no root,
# nothing started.
POOL_FILES=()
if [ "${1:-}" = --pool ]; then
	shift
	[ $# -gt 0 ] || { echo "usage: $0 --pool FILE..." >&2; exit 2; }
	for f in "$@"; do
		[ -r "$f" ] || { echo "bench-e2e: cannot read '$f'" >&2; exit 2; }
		POOL_FILES+=("$(realpath "$f")") # lib.sh changes directory
	done
fi

XLBT_PREFIX=xlbb$$
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "$0")/../tests/e2e/lib.sh"

RUNS=${BENCH_RUNS:-3}
SECONDS_PER_RUN=${BENCH_SECONDS:-5}
SLICES=${BENCH_SLICES:-5}
# xlbd's connection-table size (flows per family); empty: its default
CONNTRACK_SIZE=${BENCH_CONNTRACK_SIZE:-}
# 1: xlb's VIPs are stateless
STATELESS=${BENCH_STATELESS:-0}
# a copy of the per-slice figures (JSON lines), kept after the run
KEEP_SLICES=${BENCH_SLICES_OUT:-}
# perf profiles of the xlb and forwarder slices go there
PERF_DIR=${BENCH_PERF:-}
PERF_PERIOD_NS=250000 # cpu-clock sample period
FLOWS=10000
PORT0=2048
SRC_NET=198.18.100 # sources .1 to .25, one a mode and round
WARM_SRC=198.18.99.1
SRC_ROUTE=198.18.96.0/19 # both, for lbnft's route back to them
MAX_PKTS=50000000 # bound in count; at ~1 Mpps a slice sends ~1M
MAX_TRIES=4       # per slice, when trafgen gave no counts (more often under perf)
BUDGET_S=300      # s: abort
VIP=$TOPO_VIP4
VIP1=$TOPO_VIP4_SPARE
LBFWD4=198.18.0.3
LBNFT4=198.18.0.4
BE_N=3
MODES=(direct xdp_fwd xlb xlb1 nftables)

[[ $RUNS =~ ^[1-5]$ ]] || fail "BENCH_RUNS must be 1..5, not '$RUNS'"
if ! [[ $SECONDS_PER_RUN =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_RUN" -lt 1 ] ||
	[ "$SECONDS_PER_RUN" -gt 20 ]; then
	fail "BENCH_SECONDS must be 1..20"
fi
[[ $SLICES =~ ^[1-8]$ ]] || fail "BENCH_SLICES must be 1..8, not '$SLICES'"
[[ $STATELESS =~ ^[01]$ ]] || fail "BENCH_STATELESS must be 0 or 1, not '$STATELESS'"
SLICE_S=$(awk -v s="$SECONDS_PER_RUN" -v n="$SLICES" 'BEGIN { printf "%.3f", s / n }')

[ ${#POOL_FILES[@]} -gt 0 ] || require_root
# make bench-e2e runs `make deps` first (scripts/deps.sh has them all).
[ ${#POOL_FILES[@]} -gt 0 ] || require_cmd ip ethtool bridge trafgen nft bpftool python3 timeout awk
if [ -n "$PERF_DIR" ]; then
	require_cmd perf
	mkdir -p "$PERF_DIR" || fail "cannot create $PERF_DIR"
	PERF_DIR=$(cd "$PERF_DIR" && pwd)
fi
require_build build/xlbd build/xlbctl build/tests/xdp_pass.bpf.o build/tests/xdp_fwd.bpf.o

# The arithmetic, in Python (already a test dependency):
#   record RESULTS HZ RUN SLICE MODE SRC TRAFGEN_OUT STAT0 STAT1 KSOFT0 KSOFT1
#          TIMES0 TIMES1 WALL0 WALL1 N1 N2 N3
#       appends one slice's raw figures to RESULTS (a JSON line)
#   round RESULTS RUN
#       prints a line per mode for that round, its slices summed
#   summary RESULTS SECONDS SLICES FLOWS
#       medians, spreads, ratios, the method, one JSON line per mode
BENCH_PY=$(
	cat <<'PY'
import json, re, statistics, sys

OTHERS_BUSY_MAX = 0.15 # share of the other CPUs busy
CPU_SHARE_MIN = 0.90   # share of the sending CPU that the send got

def cpu_stat(path): # /proc/stat "cpu*" lines: user nice system idle iowait irq softirq steal
    return {f[0]: [int(x) for x in f[1:9]] for f in (l.split() for l in open(path))}

def ksoftirqd(path): # cat of /proc/PID/stat of every ksoftirqd/N: {N: utime+stime}
    out = {}
    for line in open(path):
        comm, rest = line[line.index("(") + 1:line.rindex(")")], line[line.rindex(")") + 2:].split()
        if comm.startswith("ksoftirqd/"):
            out[int(comm.split("/")[1])] = int(rest[11]) + int(rest[12])
    return out

def child_secs(path): # the second line of bash's `times`: children's user and system
    return sum(int(m) * 60 + float(s) for m, s in re.findall(r"(\d+)m([\d.]+)s", open(path).read().splitlines()[1]))

def record(results, hz, run, slice_, mode, src, tg_out, st0, st1, ks0, ks1, ch0, ch1,
           wall0, wall1, *counts):
    hz, counts = int(hz), [int(c) for c in counts]
    text = open(tg_out, errors="replace").read().replace("\r", "")
    m_sent = re.search(r"(\d+) packets outgoing", text)
    m_time = re.search(r"(\d+) sec, (\d+) usec on CPU(\d+)", text)
    if not m_sent or not m_time:
        sys.exit("cannot parse trafgen's output:\n" + text)
    secs = int(m_time.group(1)) + int(m_time.group(2)) / 1e6
    cpu_n = int(m_time.group(3))
    if sum(counts) == 0 or secs <= 0:
        sys.exit("%s: nothing delivered" % mode)
    a, b = cpu_stat(st0), cpu_stat(st1)
    delta = {k: [y - x for x, y in zip(a[k], b[k])] for k in a}
    others = [k for k in delta if k not in ("cpu", "cpu%d" % cpu_n)]
    ksoft = (ksoftirqd(ks1).get(cpu_n, 0) - ksoftirqd(ks0).get(cpu_n, 0)) / hz
    rec = {"run": int(run), "slice": int(slice_), "mode": mode, "src": src, "secs": secs,
           "sent": int(m_sent.group(1)), "per_backend": counts,
           "softirq_s": delta["cpu"][6] / hz,
           # time the hypervisor ran something else on the sending CPU / on all
           "steal_s": delta["cpu%d" % cpu_n][7] / hz, "steal_all_s": delta["cpu"][7] / hz,
           "others_ticks": sum(sum(delta[k]) for k in others),
           "others_idle_ticks": sum(delta[k][3] + delta[k][4] for k in others),
           # trafgen's start-up included on both sides
           "path_cpu_s": child_secs(ch1) - child_secs(ch0) + ksoft,
           "wall_s": float(wall1) - float(wall0)}
    with open(results, "a") as f:
        f.write(json.dumps(rec) + "\n")

def aggregate(slices): # one mode's slices in one round
    delivered = sum(sum(r["per_backend"]) for r in slices)
    secs = sum(r["secs"] for r in slices)
    tot = sum(r["others_ticks"] for r in slices)
    idle = sum(r["others_idle_ticks"] for r in slices)
    share = sum(r["path_cpu_s"] for r in slices) / sum(r["wall_s"] for r in slices)
    busy = (tot - idle) / tot if tot else 0.0
    pps = delivered / secs
    return {"delivered": delivered, "sent": sum(r["sent"] for r in slices), "secs": secs,
            "per_backend": [sum(c) for c in zip(*(r["per_backend"] for r in slices))],
            "pps": pps, "pps_cpu": pps / share if share > 0 else 0.0, "cpu_share": share,
            "softirq_ns_per_pkt": 1e9 * sum(r["softirq_s"] for r in slices) / delivered,
            "others_busy": busy, "slices": len(slices),
            "noisy": busy > OTHERS_BUSY_MAX or share < CPU_SHARE_MIN}

def load(results):
    by = {}
    for line in open(results):
        r = json.loads(line)
        by.setdefault((r["run"], r["mode"]), []).append(r)
    return {k: aggregate(v) for k, v in by.items()}

NAMES = {
    "xlb": ("xlb_l2dsr", "(a) xlb, L2 DSR, maglev"),
    "xlb1": ("xlb_l2dsr_one_backend", "(a1) xlb, be1 only"),
    "nftables": ("nftables_dnat", "(b) nftables DNAT, numgen"),
    "xdp_fwd": ("xdp_fwd_minimal", "(c) minimal XDP forwarder"),
    "direct": ("direct_no_lb", "(-) direct to be1, no lb"),
}
MODES = ("xlb", "xlb1", "nftables", "xdp_fwd", "direct")

def round_lines(results, run):
    agg = load(results)
    for m in MODES:
        a = agg[(int(run), m)]
        split = "/".join("%d%%" % round(100 * c / a["delivered"]) for c in a["per_backend"])
        print("round %s  %-8s %6.1f kpps %6.1f kpps/CPU  sent %8d  delivered %5.1f%% (be1/2/3 %s)"
              "  softirq %4.0f ns/pkt  sender CPU share %3.0f%%, other CPUs busy %3.0f%%%s"
              % (run, m, a["pps"] / 1000, a["pps_cpu"] / 1000, a["sent"],
                 100 * a["delivered"] / a["sent"] if a["sent"] else 0, split,
                 a["softirq_ns_per_pkt"], 100 * a["cpu_share"], 100 * a["others_busy"],
                 "  NOISY" if a["noisy"] else ""))

def summary(results, secs_nominal, slices, flows):
    secs_nominal, slices, flows = int(secs_nominal), int(slices), int(flows)
    chosen = load(results)
    runs = sorted({r for r, _ in chosen})
    val = lambda m, r, f: chosen[(r, m)][f]
    per_run = lambda m, f: [f(m, r) for r in runs]
    pps = lambda m, r: val(m, r, "pps")
    pps_cpu = lambda m, r: val(m, r, "pps_cpu")
    soft = lambda m, r: val(m, r, "softirq_ns_per_pkt")
    share = lambda m, r: soft(m, r) - soft("direct", r)
    above_fwd = lambda m, r: soft(m, r) - soft("xdp_fwd", r)
    ratio = lambda f, a, b: [f(a, r) / f(b, r) for r in runs]
    summ = lambda v: {"median": statistics.median(v), "min": min(v), "max": max(v)}

    def fmt(v, scale=1.0, f="%.0f"):
        s = summ(v)
        return (f + " [" + f + "..." + f + "]") % (s["median"] / scale, s["min"] / scale, s["max"] / scale)

    noisy = sum(1 for c in chosen.values() if c["noisy"])
    print()
    print("Results, %d rounds of %d s a mode (%d interleaved slices), median [min...max]; "
          "%d of %d mode-rounds NOISY" % (len(runs), secs_nominal, slices, noisy, len(chosen)))
    print("  %-26s %-21s %-21s %-19s %s" % ("mode", "kpps", "kpps/CPU", "softirq ns/pkt",
                                            "lb share ns/pkt"))
    for m in MODES:
        print("  %-26s %-21s %-21s %-19s %s" % (
            NAMES[m][1], fmt(per_run(m, pps), 1000, "%.1f"), fmt(per_run(m, pps_cpu), 1000, "%.1f"),
            fmt(per_run(m, soft)), fmt(per_run(m, share)) if m != "direct" else "(reference)"))
    ratios = {}
    print()
    for key, what, a, b, target, test in (
            ("ratio_vs_fwd", "(a)/(c) xlb / minimal forwarder", "xlb", "xdp_fwd", ">= 0.9", lambda x: x >= 0.9),
            ("ratio_vs_nftables", "(a)/(b) xlb / nftables", "xlb", "nftables", "> 1", lambda x: x > 1),
            ("fwd_vs_nftables", "(c)/(b) forwarder / nftables", "xdp_fwd", "nftables", None, None),
            ("one_backend_vs_fwd", "(a1)/(c) xlb, be1 only / fwd", "xlb1", "xdp_fwd", None, None)):
        w, c = ratio(pps, a, b), ratio(pps_cpu, a, b)
        ratios[key] = (w, c)
        if target:
            print("  %-32s kpps %s (%s in %d/%d), kpps/CPU %s (%s in %d/%d)" % (
                what, fmt(w, 1, "%.2f"), target, sum(map(test, w)), len(runs),
                fmt(c, 1, "%.2f"), target, sum(map(test, c)), len(runs)))
        else:
            print("  %-32s kpps %s, kpps/CPU %s" % (what, fmt(w, 1, "%.2f"), fmt(c, 1, "%.2f")))
    print("  lb cost above the minimal forwarder, softirq ns/pkt: xlb %s, nftables %s, "
          "xlb be1 only %s" % (fmt(per_run("xlb", above_fwd)), fmt(per_run("nftables", above_fwd)),
                               fmt(per_run("xlb1", above_fwd))))
    print("""
Method. kpps: packets counted by nft at the backends' input hook / trafgen's
sending time, over a mode's slices in a round; the modes' slices take turns,
so other load on the host falls on all of them alike. trafgen is one
process; on veth everything after its first hop (bridge, lb, bridge,
backend) runs in softirq on the same CPU, so that CPU is the bottleneck and
the rate reflects the whole path, of which the lb is a part.
kpps/CPU: kpps / the share of the sending CPU the path got (trafgen's
user+system time, which includes softirq run in its context, plus that CPU's
ksoftirqd, over the wall time); equal to kpps when nothing else runs on the
sending CPU, steadier than kpps when something does, but approximate: on a
heavily shared CPU part of the path's softirq work runs in other tasks'
context, is not counted, and the figure reads high (trust it above ~70%%).
softirq ns/pkt: /proc/stat softirq time of all CPUs / packets delivered.
lb share: that minus the same for "direct" (client -> be1, no lb) in the same
round: the lb's processing plus the extra bridge pass and veth hops any lb
costs here; (c)'s share is that floor; "above the minimal forwarder" removes
it. (a1) is (a) with one backend, be1, where (c) sends everything: against
(c) it shows the balancer's own cost; (a) against (a1), what spreading the
packets over 3 backend namespaces costs the rest of the path here.
NOISY: the other CPUs were more than %d%% busy, or the path got less than
%d%% of the sending CPU: other work shared the machine; compare with care.""" % (
        100 * OTHERS_BUSY_MAX, 100 * CPU_SHARE_MIN))
    for m in MODES:
        j = {"bench": "bench-e2e", "mode": NAMES[m][0], "rounds": len(runs),
             "seconds": secs_nominal, "slices": slices, "flows": flows, "frame_bytes": 60,
             "pps": summ(per_run(m, pps)), "pps_per_cpu_second": summ(per_run(m, pps_cpu)),
             "pps_per_round": [round(x) for x in per_run(m, pps)],
             "pps_per_cpu_second_per_round": [round(x) for x in per_run(m, pps_cpu)],
             "delivered_per_round": per_run(m, lambda m, r: val(m, r, "delivered")),
             "sent_per_round": per_run(m, lambda m, r: val(m, r, "sent")),
             "noisy_rounds": sum(val(m, r, "noisy") for r in runs),
             "softirq_ns_per_pkt": summ(per_run(m, soft))}
        if m != "direct":
            j["lb_share_ns_per_pkt"] = summ(per_run(m, share))
            j["above_fwd_ns_per_pkt"] = summ(per_run(m, above_fwd))
        for key in {"xlb": ("ratio_vs_fwd", "ratio_vs_nftables"),
                    "xlb1": ("one_backend_vs_fwd",)}.get(m, ()):
            j[key] = summ(ratios[key][0])
            j[key + "_per_cpu_second"] = summ(ratios[key][1])
        for k, v in j.items():
            if isinstance(v, dict):
                j[k] = {kk: round(vv, 3) for kk, vv in v.items()}
        print(json.dumps(j))

def profile(results, perf_dir, period_ns):
    """ns a packet by kernel symbol, from the slices' perf files."""
    import os, subprocess
    period_ns, delivered, samples = int(period_ns), {}, {}
    for line in open(results):
        r = json.loads(line)
        f = os.path.join(perf_dir, "%s-%d-%d.data" % (r["mode"], r["run"], r["slice"]))
        if r["mode"] not in ("xlb", "xdp_fwd") or not os.path.exists(f):
            continue
        delivered[r["mode"]] = delivered.get(r["mode"], 0) + sum(r["per_backend"])
        out = subprocess.run(["perf", "report", "-i", f, "--no-children", "--sort", "symbol",
                              "-F", "sample,symbol", "--stdio", "-g", "none"],
                             capture_output=True, text=True).stdout
        per = samples.setdefault(r["mode"], {})
        for l in out.splitlines():
            p = l.split()
            # "SAMPLES [k] SYMBOL ...", the idle loop left out
            if len(p) >= 3 and p[0].isdigit() and p[1] == "[k]" and \
                    not re.search(r"idle|halt", p[2]):
                # a BPF program's symbol carries its tag; keep the name
                name = re.sub(r"^bpf_prog_[0-9a-f]+_", "bpf_prog_", p[2])
                per[name] = per.get(name, 0) + int(p[0])
    if set(delivered) != {"xlb", "xdp_fwd"}:
        sys.exit("profile: no perf files for both xlb and the forwarder in " + perf_dir)
    ns = lambda m, k: samples[m].get(k, 0) * period_ns / delivered[m]
    tot = {m: sum(samples[m].values()) * period_ns / delivered[m] for m in samples}
    print()
    print("Profile (perf, every CPU, the xlb and forwarder slices): kernel time in ns a packet")
    print("  %-40s %8s %8s %8s" % ("symbol", "xlb", "fwd", "xlb-fwd"))
    keys = sorted(set(samples["xlb"]) | set(samples["xdp_fwd"]),
                  key=lambda k: -(ns("xlb", k) - ns("xdp_fwd", k)))
    for k in keys[:15]:
        print("  %-40s %8.0f %8.0f %+8.0f" % (k, ns("xlb", k), ns("xdp_fwd", k),
                                            ns("xlb", k) - ns("xdp_fwd", k)))
    print("  %-40s %8.0f %8.0f %+8.0f" % ("all kernel symbols", tot["xlb"], tot["xdp_fwd"],
                                        tot["xlb"] - tot["xdp_fwd"]))

def pool(*files):
    """Each mode's packets over its sending time, every slice of the files."""
    tot = {}
    for f in files:
        for line in open(f):
            r = json.loads(line)
            t = tot.setdefault(r["mode"], [0, 0.0, 0.0, 0])
            t[0] += sum(r["per_backend"])
            t[1] += r["secs"]
            t[2] += r["softirq_s"]
            t[3] += 1
    if any(m not in tot for m in MODES):
        sys.exit("pool: a mode has no slices in these files")
    pps = {m: t[0] / t[1] for m, t in tot.items()}
    print("Pooled: %d file(s), %d slices a mode" % (len(files), min(t[3] for t in tot.values())))
    for m in MODES:
        print("  %-26s %7.1f kpps  softirq %5.0f ns/pkt" % (
            NAMES[m][1], pps[m] / 1000, 1e9 * tot[m][2] / tot[m][0]))
    print("  (a)/(c) %.3f  (a)/(b) %.3f  (a1)/(c) %.3f  (c)/(b) %.3f" % (
        pps["xlb"] / pps["xdp_fwd"], pps["xlb"] / pps["nftables"],
        pps["xlb1"] / pps["xdp_fwd"], pps["xdp_fwd"] / pps["nftables"]))

if __name__ == "__main__":
    {"record": record, "round": round_lines, "summary": summary,
     "profile": profile, "pool": pool}[sys.argv[1]](*sys.argv[2:])
PY
)

if [ ${#POOL_FILES[@]} -gt 0 ]; then
	python3 -c "$BENCH_PY" pool "${POOL_FILES[@]}"
	exit
fi

SW=$(topo_ns "$XLBT_PREFIX" sw)
RESULTS=$XLBT_RUN/results.jsonl
CLK_TCK=$(getconf CLK_TCK)
KSOFTIRQD_PIDS=$(grep -l '^ksoftirqd/' /proc/[0-9]*/comm 2>/dev/null | cut -d/ -f3)

budget() {
	[ $SECONDS -lt $BUDGET_S ] || fail "over the time budget ($BUDGET_S s)"
}

mac_of() { in_ns "$1" cat /sys/class/net/eth0/address; }

# ---- backends: count and drop udp dport 9 -----------------------------

counters_setup() {
	local i
	for ((i = 1; i <= BE_N; i++)); do
		in_ns "be$i" nft -f - <<-'EOF' || fail "nft counter in be$i"
		table inet xlbbench {
			counter delivered {}
			chain input {
				type filter hook input priority filter; policy accept;
				udp dport 9 counter name delivered drop
			}
		}
		EOF
	done
}

# counters_take: prints "N1 N2 N3" (packets since the last take) and resets.
counters_take() {
	local i n vals=()
	for ((i = 1; i <= BE_N; i++)); do
		n=$(in_ns "be$i" nft reset counter inet xlbbench delivered |
			awk '$1 == "packets" {print $2}')
		[[ $n =~ ^[0-9]+$ ]] || fail "cannot read be$i's counter"
		vals+=("$n")
	done
	echo "${vals[*]}"
}

# ---- load ---------------------------------------------------------------

# trafgen_cfg FILE DST_MAC DST_IP SRC_IP FIRST_PORT LAST_PORT
trafgen_cfg() {
	cat >"$1" <<-EOF
	{
	  eth(da=$2, sa=$CLIENT_MAC),
	  ipv4(sa=$4, da=$3, ttl=64, df),
	  udp(sp=dinc($5, $6), dp=9, csum=0),
	  fill(0x00, 18)
	}
	EOF
}

mode_index() { # MODE: its place in MODES, from 0
	local i
	for ((i = 0; i < ${#MODES[@]}; i++)); do
		[ "${MODES[i]}" = "$1" ] && echo $i && return 0
	done
	fail "mode_index: no mode '$1'"
}

# mode_dst MODE: "DST_MAC DST_IP" of the client's frames in MODE.
mode_dst() {
	case $1 in
	direct) echo "$BE1_MAC $VIP" ;;
	xdp_fwd) echo "$LBFWD_MAC $VIP" ;;
	xlb) echo "$LB_MAC $VIP" ;;
	xlb1) echo "$LB_MAC $VIP1" ;;
	nftables) echo "$LBNFT_MAC $VIP" ;;
	*) fail "mode_dst: no mode '$1'" ;;
	esac
}

# send CFG SECONDS MAX_PACKETS OUT: trafgen in the client, in the
# foreground, bounded in time and count. --no-sock-mem and -Q: leave the
# host's sysctls and IRQ affinities alone. Returns 4 when trafgen, stopped
# at the deadline, could not flush its TX ring (EAGAIN) and exited without
# its counts, whatever its exit code (0, or 124 from timeout): that try has
# no figure and is repeated.
send() {
	local rc
	in_ns client timeout -k 2 -s INT "$2" trafgen -o eth0 -c "$1" -P 1 -n "$3" \
		--no-sock-mem -Q >"$4" 2>&1
	rc=$?
	grep -q "Flushing TX_RING failed" "$4" && return 4
	[ $rc = 0 ] || [ $rc = 124 ] && return 0
	cat "$4" >&2
	fail "trafgen exited $rc"
}

# warm MODE: a few thousand packets from a source no slice uses; every
# backend must see some (xlb, nftables) or be1 alone (the others). Fails
# when the mode does not work.
warm() {
	local mode=$1 dst ip c1 c2 c3 cfg=$XLBT_RUN/warm.cfg
	read -r dst ip <<<"$(mode_dst "$mode")"
	trafgen_cfg "$cfg" "$dst" "$ip" $WARM_SRC 1024 2047
	counters_take >/dev/null
	for _ in 1 2 3 4 5; do
		send "$cfg" 10 3000 "$XLBT_RUN/warm.out"
		sleep 0.2
		read -r c1 c2 c3 <<<"$(counters_take)"
		case $mode in
		xlb | nftables)
			[ "$c1" -gt 0 ] && [ "$c2" -gt 0 ] && [ "$c3" -gt 0 ] && return 0 ;;
		*)
			if [ "$c2" != 0 ] || [ "$c3" != 0 ]; then
				fail "$mode: be2/be3 got packets ($c1 $c2 $c3)"
			fi
			[ "$c1" -gt 0 ] && return 0 ;;
		esac
		sleep 0.5
	done
	fail "$mode: warm-up packets did not reach the backends ($c1 $c2 $c3)"
}

# snapshot N: CPU counters before (0) or after (1) a measurement. `times`
# and EPOCHREALTIME cost no fork: `times`' second line is the CPU time of
# the children reaped so far, so times1 - times0 is the send's alone.
snapshot() {
	local p
	if [ "$1" = 1 ]; then
		times >"$XLBT_RUN/times1"
		echo "$EPOCHREALTIME" >"$XLBT_RUN/wall1"
	fi
	grep '^cpu' /proc/stat >"$XLBT_RUN/stat$1"
	for p in $KSOFTIRQD_PIDS; do
		cat "/proc/$p/stat" 2>/dev/null
	done >"$XLBT_RUN/ksoft$1"
	if [ "$1" = 0 ]; then
		echo "$EPOCHREALTIME" >"$XLBT_RUN/wall0"
		times >"$XLBT_RUN/times0"
	fi
}

# measure_once RUN SLICE MODE: one slice, its raw figures appended to
# RESULTS. Returns 4 when trafgen gave no counts (nothing recorded).
measure_once() {
	local run=$1 slice=$2 mode=$3 dst ip src cfg=$XLBT_RUN/run.cfg out=$XLBT_RUN/run.out
	local counts r=$XLBT_RUN perf_pid=
	budget
	read -r dst ip <<<"$(mode_dst "$mode")"
	src=$SRC_NET.$(((run - 1) * ${#MODES[@]} + $(mode_index "$mode") + 1))
	trafgen_cfg "$cfg" "$dst" "$ip" "$src" $PORT0 $((PORT0 + FLOWS - 1))
	counters_take >/dev/null
	snapshot 0
	if [ -n "$PERF_DIR" ] && { [ "$mode" = xlb ] || [ "$mode" = xdp_fwd ]; }; then
		perf record -q -a -g -e cpu-clock -c $PERF_PERIOD_NS \
			-o "$PERF_DIR/$mode-$run-$slice.data" -- sleep "$SLICE_S" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	send "$cfg" "$SLICE_S" $MAX_PKTS "$out" || return $?
	[ -z "$perf_pid" ] || wait "$perf_pid"
	snapshot 1
	sleep 0.1 # the last frames are still in a softirq queue at most
	counts=$(counters_take)
	# shellcheck disable=SC2086
	python3 -c "$BENCH_PY" record "$RESULTS" "$CLK_TCK" "$run" "$slice" "$mode" "$src" \
		"$out" "$r/stat0" "$r/stat1" "$r/ksoft0" "$r/ksoft1" "$r/times0" "$r/times1" \
		"$(cat "$r/wall0")" "$(cat "$r/wall1")" $counts
}

# measure RUN SLICE MODE: a slice without trafgen's counts is repeated, up
# to MAX_TRIES times.
measure() {
	local try rc
	for ((try = 1; try <= MAX_TRIES; try++)); do
		measure_once "$@"
		rc=$?
		[ $rc = 0 ] && return 0
		[ $rc = 4 ] || fail "measurement $3 failed"
		echo "        (trafgen could not flush its ring at the deadline: measuring again)"
	done
	fail "measurement $3: trafgen could not flush its ring at the deadline, $MAX_TRIES times"
}

# ---- the balancers ------------------------------------------------------

fwd_up() { # in lbfwd
	in_ns lbfwd bpftool prog load build/tests/xdp_fwd.bpf.o /sys/fs/bpf/xdp_fwd \
		type xdp pinmaps /sys/fs/bpf/xdp_fwd_maps || fail "load xdp_fwd"
	# shellcheck disable=SC2046
	in_ns lbfwd bpftool map update pinned /sys/fs/bpf/xdp_fwd_maps/xdp_fwd_macs \
		key hex 00 00 00 00 value hex $(tr : ' ' <<<"$BE1_MAC") $(tr : ' ' <<<"$LBFWD_MAC") ||
		fail "set xdp_fwd's MACs"
	in_ns lbfwd bpftool net attach xdpdrv pinned /sys/fs/bpf/xdp_fwd dev eth0 ||
		fail "attach xdp_fwd"
}

xlb_up() { # in lb: VIP over the 3 backends, VIP1 over be1 alone
	local i stateless=false
	[ "$STATELESS" = 0 ] || stateless=true
	{
	cat <<-YAML
	interfaces:
	  - {name: eth0, mode: native}
	vips:
	  - vip: "$VIP:9/udp"
	    algorithm: maglev
	    forward: l2dsr
	    stateless: $stateless
	    backends:
	YAML
	for ((i = 1; i <= BE_N; i++)); do
		echo "      - {address: $(topo_be4 $i)}"
	done
	cat <<-YAML
	  - vip: "$VIP1:9/udp"
	    algorithm: maglev
	    forward: l2dsr
	    stateless: $stateless
	    backends:
	      - {address: $(topo_be4 1)}
	YAML
	} >"$XLBT_RUN/bench.yaml"
	start_xlbd "$XLBT_RUN/bench.yaml" ${CONNTRACK_SIZE:+--conntrack-size "$CONNTRACK_SIZE"}
}

nft_up() { # in lbnft
	local i ns reply
	in_ns lbnft sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.send_redirects=0 \
		net.ipv4.conf.eth0.send_redirects=0 || fail "lbnft sysctls"
	# The slices' sources sit behind the client, as a client network would.
	in_ns lbnft ip route add $SRC_ROUTE via $TOPO_CLIENT4 || fail "lbnft route to the sources"
	in_ns lbnft nft -f - <<-EOF || fail "nft DNAT table in lbnft"
	table ip xlbbench {
		chain prerouting {
			type nat hook prerouting priority dstnat; policy accept;
			ip daddr $VIP udp dport { 9, 53 } dnat to numgen random mod 3 map {
				0 : $(topo_be4 1), 1 : $(topo_be4 2), 2 : $(topo_be4 3) }
		}
	}
	EOF
	# Replies from the backends go back through lbnft, un-NATed there.
	for ((i = 1; i <= BE_N; i++)); do
		ns=$(topo_ns "$XLBT_PREFIX" "be$i")
		ip -n "$ns" route add default via $LBNFT4 &&
			ip -n "$ns" route add $TOPO_CLIENT4/32 via $LBNFT4 ||
			fail "routes via lbnft in be$i"
	done
	# One request to VIP:53 (the client's route to the VIP now points at
	# lbnft; the slices set their own MACs): DNATed to a backend, answered
	# through lbnft, un-NATed there: the reply must come from the VIP.
	in_ns client ip route replace $VIP/32 via $LBNFT4 || fail "client route via lbnft"
	for _ in 1 2 3; do
		reply=$(in_ns client python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(b"?", (sys.argv[1], 53))
d, p = s.recvfrom(100)
print(d.decode().strip(), p[0])' "$VIP" 2>/dev/null) && break
	done
	[[ $reply =~ ^be[1-3]\ $VIP$ ]] || fail "nftables: no reply from the VIP through lbnft ('$reply')"
}

# ---- main ---------------------------------------------------------------

echo "bench-e2e: $RUNS rounds of 5 modes, ${SECONDS_PER_RUN} s of trafgen each in $SLICES" \
	"interleaved slices (60-byte UDP frames to port 9, $FLOWS new flows a" \
	"slice)$([ "$STATELESS" = 0 ] || echo "; xlb's VIPs stateless")"
topology_up $BE_N l2dsr
topo_add_lb "$XLBT_PREFIX" lbfwd $LBFWD4 xdp-pass || fail "lbfwd did not come up"
topo_add_lb "$XLBT_PREFIX" lbnft $LBNFT4 || fail "lbnft did not come up"
CLIENT_MAC=$(mac_of client)
LB_MAC=$(mac_of lb)
LBFWD_MAC=$(mac_of lbfwd)
LBNFT_MAC=$(mac_of lbnft)
BE1_MAC=$(mac_of be1)
# Static FDB entries: the backends never send, so learnt entries could age
# out and the bridge would flood every frame to every port.
for role in client lb lbfwd lbnft be1 be2 be3; do
	bridge -n "$SW" fdb replace "$(mac_of $role)" dev $role master static ||
		fail "static FDB entry for $role"
done
# The switch stands in for a hardware switch: no host netfilter on bridged
# frames (br_netfilter's bridge-nf-call-* are per namespace and on by
# default; they cost every mode an iptables traversal per bridge pass).
if [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then
	ip netns exec "$SW" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 ||
		fail "bridge-nf-call sysctls in $SW"
fi
counters_setup
fwd_up
xlb_up
nft_up
for mode in "${MODES[@]}"; do
	warm "$mode"
done
: >"$RESULTS"

for ((run = 1; run <= RUNS; run++)); do
	for ((slice = 1; slice <= SLICES; slice++)); do
		first=$(((run + slice - 2) % ${#MODES[@]}))
		for ((k = 0; k < ${#MODES[@]}; k++)); do
			measure $run $slice "${MODES[(first + k) % ${#MODES[@]}]}"
		done
	done
	python3 -c "$BENCH_PY" round "$RESULTS" $run || fail "round $run's figures"
done

python3 -c "$BENCH_PY" summary "$RESULTS" "$SECONDS_PER_RUN" "$SLICES" "$FLOWS" || fail "summary"
[ -z "$KEEP_SLICES" ] || cp "$RESULTS" "$KEEP_SLICES" || fail "cannot write $KEEP_SLICES"
if [ -n "$PERF_DIR" ]; then
	python3 -c "$BENCH_PY" profile "$RESULTS" "$PERF_DIR" $PERF_PERIOD_NS || fail "profile summary"
fi
echo "bench-e2e: done in ${SECONDS} s"
