/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/metrics.h"

#define API_CODES 600

static unsigned long long api_requests[API_CODES];

void xlb_metrics__count_api(int status)
{
	if (status > 0 && status < API_CODES)
		api_requests[status]++;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sum_vip(struct xlb_daemon *d, const struct xlb_config_vip *v, struct xlb_vip_stats *out)
{
	struct xlb_vip_stats s;

	memset(out, 0, sizeof(*out));
	for (unsigned int k = 0; k < d->n_ifs; k++) {
		if (xlb_dp__vip_stats(d->ifs[k].dp, &v->addr, &s))
			continue;
		out->packets += s.packets;
		out->bytes += s.bytes;
		out->new_flows += s.new_flows;
		for (int i = 0; i < XLB_DROP_MAX; i++)
			out->drops[i] += s.drops[i];
	}
}

static void sum_backend(struct xlb_daemon *d, const struct xlb_config_vip *v,
			const struct xlb_config_backend *b, struct xlb_backend_stats *out)
{
	struct xlb_backend_stats s;

	memset(out, 0, sizeof(*out));
	for (unsigned int k = 0; k < d->n_ifs; k++) {
		if (xlb_dp__backend_stats(d->ifs[k].dp, &v->addr, b->family, b->addr, &s))
			continue;
		out->packets += s.packets;
		out->bytes += s.bytes;
		out->new_flows += s.new_flows;
		out->syn_retransmits += s.syn_retransmits;
	}
}

char *xlb_metrics__render(struct xlb_daemon *d)
{
	struct xlb_config *cfg = d->cfg;
	struct xlb_vip_stats *vs = calloc(cfg->n_vips + 1, sizeof(*vs));
	struct xlb_dp_stats g = {}, s;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!vs)
		return NULL;
	f = open_memstream(&text, &len);
	if (!f) {
		free(vs);
		return NULL;
	}
	for (unsigned int k = 0; k < d->n_ifs; k++) {
		__u64 *acc = (__u64 *)&g, *add = (__u64 *)&s;

		if (xlb_dp__stats(d->ifs[k].dp, &s))
			continue;
		for (size_t i = 0; i < sizeof(s) / sizeof(__u64); i++)
			acc[i] += add[i];
	}
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		sum_vip(d, &cfg->vips[i], &vs[i]);

	family(f, "xlb_build_info", "gauge", "xlb version and commit.");
	fprintf(f, "xlb_build_info{version=\"%s\",commit=\"%s\"} 1\n", XLB_VERSION, XLB_COMMIT);

	family(f, "xlb_vip_packets_total", "counter", "Packets forwarded for a VIP.");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		fprintf(f, "xlb_vip_packets_total{vip=\"%s\"} %llu\n", cfg->vips[i].vip,
			(unsigned long long)vs[i].packets);
	family(f, "xlb_vip_bytes_total", "counter", "Bytes forwarded for a VIP (as received).");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		fprintf(f, "xlb_vip_bytes_total{vip=\"%s\"} %llu\n", cfg->vips[i].vip,
			(unsigned long long)vs[i].bytes);
	family(f, "xlb_vip_new_flows_total", "counter", "Flows given a backend for a VIP.");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		fprintf(f, "xlb_vip_new_flows_total{vip=\"%s\"} %llu\n", cfg->vips[i].vip,
			(unsigned long long)vs[i].new_flows);

	family(f, "xlb_backend_packets_total", "counter", "Packets forwarded to a backend.");
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		for (unsigned int j = 0; j < cfg->vips[i].n_backends; j++) {
			struct xlb_backend_stats bs;

			sum_backend(d, &cfg->vips[i], &cfg->vips[i].backends[j], &bs);
			fprintf(f, "xlb_backend_packets_total{vip=\"%s\",backend=\"%s\"} %llu\n",
				cfg->vips[i].vip, cfg->vips[i].backends[j].address,
				(unsigned long long)bs.packets);
		}
	}
	family(f, "xlb_backend_up", "gauge", "1 when the backend takes new flows.");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		for (unsigned int j = 0; j < cfg->vips[i].n_backends; j++)
			fprintf(f, "xlb_backend_up{vip=\"%s\",backend=\"%s\"} %d\n",
				cfg->vips[i].vip, cfg->vips[i].backends[j].address,
				!cfg->vips[i].backends[j].drain);

	family(f, "xlb_drops_total", "counter", "Packets dropped by the data path, by reason.");
	for (int r = 0; r < XLB_DROP_MAX; r++)
		if (r != XLB_DROP_RESERVED6 && r != XLB_DROP_RESERVED7)
			fprintf(f, "xlb_drops_total{reason=\"%s\"} %llu\n", xlb_dp__drop_name(r),
				(unsigned long long)g.drops[r]);
	family(f, "xlb_conntrack_lookups_total", "counter",
	       "Connection-table lookups of VIP packets, by result.");
	fprintf(f, "xlb_conntrack_lookups_total{result=\"hit\"} %llu\n",
		(unsigned long long)g.tx_established);
	fprintf(f, "xlb_conntrack_lookups_total{result=\"miss\"} %llu\n",
		(unsigned long long)g.tx_new_flow);
	fprintf(f, "xlb_conntrack_lookups_total{result=\"stale\"} %llu\n",
		(unsigned long long)g.tx_rechosen);
	family(f, "xlb_packets_passed_total", "counter", "Packets handed to the kernel untouched.");
	fprintf(f, "xlb_packets_passed_total{reason=\"not_ip\"} %llu\n",
		(unsigned long long)g.pass_not_ip);
	fprintf(f, "xlb_packets_passed_total{reason=\"not_vip\"} %llu\n",
		(unsigned long long)g.pass_not_vip);
	fprintf(f, "xlb_packets_passed_total{reason=\"other_l4\"} %llu\n",
		(unsigned long long)g.pass_other_l4);

	family(f, "xlb_api_requests_total", "counter", "API requests answered, by HTTP status.");
	for (int c = 0; c < API_CODES; c++)
		if (api_requests[c])
			fprintf(f, "xlb_api_requests_total{code=\"%d\"} %llu\n", c, api_requests[c]);
	fclose(f);
	free(vs);
	return text;
}
