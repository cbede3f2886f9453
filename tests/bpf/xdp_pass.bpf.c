/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Passes every frame. Test topologies attach it, in native mode, to the
 * switch-side peer of a veth whose other end runs an XDP_TX program: veth
 * delivers XDP_TX frames only when the peer has a native XDP program
 * (docs/KERNEL.md, veth trap 1); without one they are dropped as rx_queue_N_xdp_tx_errors.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
