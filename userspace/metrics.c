/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "userspace/counters.h"
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

char *xlb_metrics__render(struct xlb_daemon *d)
{
	struct xlb_config *cfg = d->cfg;
	struct xlb_counters c;
	struct xlb_dp_stats g;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (xlb_counters__read(d, &c))
		return NULL;
	f = open_memstream(&text, &len);
	if (!f) {
		xlb_counters__free(&c);
		return NULL;
	}
	g = c.global;

	family(f, "xlb_build_info", "gauge", "xlb version and commit.");
	fprintf(f, "xlb_build_info{version=\"%s\",commit=\"%s\"} 1\n", XLB_VERSION, XLB_COMMIT);

	family(f, "xlb_vip_packets_total", "counter", "Packets forwarded for a VIP.");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		fprintf(f, "xlb_vip_packets_total{vip=\"%s\"} %llu\n", cfg->vips[i].vip,
			(unsigned long long)c.vips[i].vip.packets);
	family(f, "xlb_vip_bytes_total", "counter", "Bytes forwarded for a VIP (as received).");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		fprintf(f, "xlb_vip_bytes_total{vip=\"%s\"} %llu\n", cfg->vips[i].vip,
			(unsigned long long)c.vips[i].vip.bytes);
	family(f, "xlb_vip_new_flows_total", "counter", "Flows given a backend for a VIP.");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		fprintf(f, "xlb_vip_new_flows_total{vip=\"%s\"} %llu\n", cfg->vips[i].vip,
			(unsigned long long)c.vips[i].vip.new_flows);

	family(f, "xlb_backend_packets_total", "counter", "Packets forwarded to a backend.");
	for (unsigned int i = 0; i < cfg->n_vips; i++) {
		for (unsigned int j = 0; j < cfg->vips[i].n_backends; j++)
			fprintf(f, "xlb_backend_packets_total{vip=\"%s\",backend=\"%s\"} %llu\n",
				cfg->vips[i].vip, cfg->vips[i].backends[j].address,
				(unsigned long long)c.vips[i].backend[j].packets);
	}
	family(f, "xlb_backend_bytes_total", "counter", "Bytes forwarded to a backend (as received).");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		for (unsigned int j = 0; j < cfg->vips[i].n_backends; j++)
			fprintf(f, "xlb_backend_bytes_total{vip=\"%s\",backend=\"%s\"} %llu\n",
				cfg->vips[i].vip, cfg->vips[i].backends[j].address,
				(unsigned long long)c.vips[i].backend[j].bytes);
	family(f, "xlb_backend_syn_retransmits_total", "counter",
	       "SYNs for flows already in the connection table (unanswered handshakes).");
	for (unsigned int i = 0; i < cfg->n_vips; i++)
		for (unsigned int j = 0; j < cfg->vips[i].n_backends; j++)
			fprintf(f, "xlb_backend_syn_retransmits_total{vip=\"%s\",backend=\"%s\"} %llu\n",
				cfg->vips[i].vip, cfg->vips[i].backends[j].address,
				(unsigned long long)c.vips[i].backend[j].syn_retransmits);
	xlb_supervisor__metrics(d->sup, cfg, f);

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
	xlb_counters__free(&c);
	return text;
}
