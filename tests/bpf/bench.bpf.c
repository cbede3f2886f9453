/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Benchmark harness programs (tests/bench_dp.c).
 *
 * BPF_PROG_TEST_RUN with repeat=N reruns a program on the same buffer without
 * restoring it (docs/KERNEL.md, "Test runs reuse the buffer"): after one encapsulation every later
 * iteration would see an IPIP packet and take another path. bench_restore
 * puts the original frame back before each iteration, optionally makes it a
 * new flow by writing a counter into the source address and port, and then
 * tail-calls the balancer. bench_floor is the reference: swap MACs, XDP_TX.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define BENCH_PKT_MAX 128

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} bench_target SEC(".maps");

/* Set before load. */
const volatile __u32 tpl_len = 0;	     /* bytes of tpl, a multiple of 8 */
const volatile __u32 new_flow_saddr_off = 0; /* 0: keep the flow; else offset of
					      * the last 2 bytes of the source address */
const volatile __u32 new_flow_sport_off = 0;
/* 0: the counter only grows (every iteration a flow not seen before); else
 * it wraps at flow_mod, cycling through flow_mod flows (tests/bench_scale.c).
 */
const volatile __u32 flow_mod = 0;

__u64 tpl[BENCH_PKT_MAX / 8];
__u32 counter; /* the next flow's number; userspace may set it */

SEC("xdp")
int bench_restore(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int grown = (int)(data_end - data) - (int)tpl_len;
	__u32 zero = 0;

	if (grown && bpf_xdp_adjust_head(ctx, grown))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
#pragma unroll
	for (int i = 0; i < BENCH_PKT_MAX / 8; i++) {
		if (i * 8 >= (int)tpl_len)
			break;
		if (data + (i + 1) * 8 > data_end)
			return XDP_ABORTED;
		((__u64 *)data)[i] = tpl[i];
	}
	if (new_flow_sport_off) {
		__u16 *sport = data + (new_flow_sport_off & 0x7f);
		__u16 *saddr = data + (new_flow_saddr_off & 0x7f);
		__u32 c = counter++;

		if (flow_mod && counter >= flow_mod)
			counter = 0;
		if ((void *)(sport + 1) > data_end || (void *)(saddr + 1) > data_end)
			return XDP_ABORTED;
		*sport = (__u16)c;
		*saddr = (__u16)(c >> 16);
	}
	bpf_tail_call(ctx, &bench_target, zero);
	return XDP_ABORTED;
}

static __always_inline int swap_macs_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 tmp[ETH_ALEN];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
	return XDP_TX;
}

SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	return swap_macs_tx(ctx);
}

/* The floor plus one clock read: what a rate limiter pays per packet if it
 * reads the clock on every packet (bpf_ktime_get_ns, or the jiffy-resolution
 * coarse clock).
 */
__u64 clock_sink;

SEC("xdp")
int bench_clock(struct xdp_md *ctx)
{
	clock_sink += bpf_ktime_get_ns();
	return swap_macs_tx(ctx);
}

SEC("xdp")
int bench_clock_coarse(struct xdp_md *ctx)
{
	clock_sink += bpf_ktime_get_coarse_ns();
	return swap_macs_tx(ctx);
}
