/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/* forward: gue and gue_port in the configuration model: defaults, the
 * clashes that are refused, and the round trip through export.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "userspace/lib/config.h"

static struct xlb_config *load(const char *text, char *err, size_t errlen)
{
	struct xlb_config *c = NULL;

	if (xlb_config__load_string(text, strlen(text), &c, err, errlen))
		return NULL;
	return c;
}

static void test_defaults_and_round_trip(void **state)
{
	char err[512] = "", *text;
	struct xlb_config *a, *b;

	(void)state;
	a = load("vips:\n"
		 "  - {vip: \"198.18.1.100:80/tcp\", forward: gue}\n"
		 "  - {vip: \"198.18.1.101:80/tcp\", forward: gue, gue_port: 6080,\n"
		 "     backends: [{address: \"2001:2::11\"}]}\n" /* 4-in-6 */
		 "  - {vip: \"198.18.1.102:19523/udp\", forward: ipip}\n",
		 err, sizeof(err));
	if (!a)
		fail_msg("%s", err);
	assert_int_equal(a->vips[0].forward, XLB_FWD_GUE);
	assert_int_equal(a->vips[0].gue_port, 19523);
	assert_int_equal(a->vips[1].gue_port, 6080);
	/* gue_port is kept, unused, by other modes: an ipip VIP on 19523 is fine */
	assert_int_equal(a->vips[2].gue_port, 19523);
	assert_string_equal(xlb_config__forward_name(XLB_FWD_GUE), "gue");
	assert_int_equal(xlb_config__to_string(a, &text), 0);
	assert_non_null(strstr(text, "forward: gue"));
	assert_non_null(strstr(text, "gue_port: 6080"));
	b = load(text, err, sizeof(err));
	if (!b)
		fail_msg("reloading the export: %s", err);
	assert_int_equal(b->vips[1].forward, XLB_FWD_GUE);
	assert_int_equal(b->vips[1].gue_port, 6080);
	free(text);
	xlb_config__free(a);
	xlb_config__free(b);
	/* JSON, as the API takes it */
	a = load("{\"vips\": [{\"vip\": \"[2001:2::100]:443/tcp\", \"forward\": \"gue\", "
		 "\"gue_port\": 7000}]}",
		 err, sizeof(err));
	if (!a)
		fail_msg("%s", err);
	assert_int_equal(a->vips[0].gue_port, 7000);
	xlb_config__free(a);
}

static void test_clashes_refused(void **state)
{
	static const struct {
		const char *text, *expect;
	} rows[] = {
		{ "vips: [{vip: \"198.18.1.100:80/tcp\", forward: gue, gue_port: 0}]",
		  "gue_port 0 out of range 1..65535" },
		{ "vips: [{vip: \"198.18.1.100:80/tcp\", forward: gue, gue_port: 70000}]",
		  "gue_port 70000 out of range" },
		{ "vips: [{vip: \"198.18.1.100:6080/udp\", forward: gue, gue_port: 6080}]",
		  "gue_port 6080 is the VIP's own port" },
		{ "vips: [{vip: \"198.18.1.100:6080/tcp\", forward: gue, gue_port: 6080}]",
		  "gue_port 6080 is the VIP's own port" },
		{ "vips: [{vip: \"198.18.1.100:53/udp\", forward: gue, gue_port: 5353,\n"
		  "        health_check: {type: udp, port: 5353}}]",
		  "is the UDP health check's port" },
		{ "vips:\n"
		  "  - {vip: \"198.18.1.100:80/tcp\", forward: gue}\n"
		  "  - {vip: \"198.18.1.101:19523/udp\", forward: l2dsr}\n",
		  "l2dsr VIP 198.18.1.101:19523/udp sends it to backends unencapsulated" },
		{ "vips:\n"
		  "  - {vip: \"198.18.1.100:80/tcp\", forward: gue}\n"
		  "  - {vip: \"198.18.1.101:0/udp\", forward: l2dsr}\n",
		  "l2dsr VIP 198.18.1.101:0/udp" },
		{ "vips: [{vip: \"198.18.1.100:80/tcp\", forward: guee}]",
		  "expected ipip, l2dsr or gue" },
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct xlb_config *c;

		err[0] = 0;
		c = load(rows[i].text, err, sizeof(err));
		if (c)
			fail_msg("row %zu loaded: %s", i, rows[i].text);
		if (!strstr(err, rows[i].expect))
			fail_msg("row %zu: expected \"%s\" in \"%s\"", i, rows[i].expect, err);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_round_trip),
		cmocka_unit_test(test_clashes_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
