/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The minimal XDP forwarder, the reference of `make bench-e2e`
 * (scripts/bench_e2e.sh): every IPv4 frame gets one backend's MAC as its
 * destination and the interface's own MAC as its source, and goes back out
 * with XDP_TX. No parsing beyond the Ethernet type, no lookup but the one
 * below, no state: the ceiling of any XDP balancer on the same topology.
 * Everything else (ARP, IPv6) passes, so the host stays reachable.
 *
 * Loaded with bpftool, which pins the map; the MACs are then written into
 * it: key 0, value = destination MAC (6 bytes) then source MAC (6 bytes).
 * While the destination is all zeroes the program passes every frame.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct xdp_fwd_macs {
	__u8 dst[ETH_ALEN];
	__u8 src[ETH_ALEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_fwd_macs);
} xdp_fwd_macs SEC(".maps");

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xdp_fwd_macs *m;
	__u32 zero = 0;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	m = bpf_map_lookup_elem(&xdp_fwd_macs, &zero);
	if (!m || !(m->dst[0] | m->dst[1] | m->dst[2] | m->dst[3] | m->dst[4] | m->dst[5]))
		return XDP_PASS;
	__builtin_memcpy(eth->h_dest, m->dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, m->src, ETH_ALEN);
	return XDP_TX;
}
