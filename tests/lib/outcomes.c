// SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#include <linux/bpf.h>
#include <stdio.h>

#include "lib/outcomes.h"

struct outcomes outcomes_of(const struct xlb_dp_stats *s)
{
	struct outcomes o = {
		.rx = s->rx,
		.pass = s->pass_not_ip + s->pass_not_vip + s->pass_other_l4 +
			s->pass_other_host + s->pass_multicast,
		/* tx_untracked and tx_gue* count packets these already count */
		.tx = s->tx_new_flow + s->tx_established + s->tx_rechosen + s->tx_icmp +
		      s->tx_too_big,
	};

	for (int r = 0; r < XLB_DROP_MAX; r++)
		o.drop += s->drops[r];
	return o;
}

const char *outcomes_unaccounted(const struct outcomes *a, const struct outcomes *b, __u64 n,
				 int verdict, char *msg, size_t len)
{
	unsigned long long rx = b->rx - a->rx, pass = b->pass - a->pass, tx = b->tx - a->tx,
			   drop = b->drop - a->drop;

	if (rx != n || pass + tx + drop != n) {
		snprintf(msg, len, "%llu packets seen (%llu run), but %llu passed, %llu sent, "
			 "%llu dropped", rx, (unsigned long long)n, pass, tx, drop);
		return msg;
	}
	if (verdict >= 0 && (pass != (verdict == XDP_PASS) * n || tx != (verdict == XDP_TX) * n ||
			     drop != (verdict == XDP_DROP) * n)) {
		snprintf(msg, len, "verdict %d for %llu packets, but %llu passed, %llu sent, "
			 "%llu dropped", verdict, (unsigned long long)n, pass, tx, drop);
		return msg;
	}
	return NULL;
}
