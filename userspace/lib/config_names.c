/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * The words of each enum of the configuration, the one source of them for
 * the YAML, the API and xlbctl.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "userspace/lib/config_int.h"

_Static_assert(XLB_CONFIG_ALGO_MAGLEV == (int)XLB_ALGO_MAGLEV,
	       "config and data-path algorithm numbers agree");
_Static_assert(XLB_CONFIG_ALGO_SOURCE_HASH == (int)XLB_ALGO_SOURCE_HASH,
	       "config and data-path algorithm numbers agree");

/* clang-format off */
const cyaml_strval_t algo_names[] = {
	{ "maglev", XLB_CONFIG_ALGO_MAGLEV },
	{ "source-hash", XLB_CONFIG_ALGO_SOURCE_HASH },
	{ "wrr", XLB_CONFIG_ALGO_WRR },
	{ "rr", XLB_CONFIG_ALGO_RR },
	{ "lc", XLB_CONFIG_ALGO_LC },
};
/* clang-format on */

const cyaml_strval_t source_algo_names[] = {
    {"token-bucket", XLB_CONFIG_SRC_TOKEN_BUCKET},
    {"sliding-window", XLB_CONFIG_SRC_SLIDING_WINDOW},
};

const cyaml_strval_t forward_names[] = {
    {"ipip", XLB_FWD_IPIP},
    {"l2dsr", XLB_FWD_L2DSR},
    {"gue", XLB_FWD_GUE},
};

const cyaml_strval_t hc_type_names[] = {
    {"none", XLB_CONFIG_HC_NONE}, {"tcp", XLB_CONFIG_HC_TCP},	  {"http", XLB_CONFIG_HC_HTTP},
    {"udp", XLB_CONFIG_HC_UDP},	  {"https", XLB_CONFIG_HC_HTTPS},
};

const cyaml_strval_t xdp_mode_names[] = {
    {"native", XLB_CONFIG_XDP_NATIVE},
    {"generic", XLB_CONFIG_XDP_GENERIC},
};

/*
 * libcyaml's own boolean takes any unknown word as true ("drain: flase"
 * would drain), so booleans load as a strict enum of YAML 1.1's words.
 */
const cyaml_strval_t bool_names[] = {
    {"true", 1}, {"false", 0}, {"yes", 1}, {"no", 0}, {"on", 1}, {"off", 0},
};

const char *strval_name(const cyaml_strval_t *t, uint32_t n, int v)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (t[i].val == v)
			return t[i].str;
	return "?";
}

static int strval_parse(const cyaml_strval_t *t, uint32_t n, const char *s, int *v)
{
	uint32_t i;

	for (i = 0; s && i < n; i++) {
		if (!strcmp(t[i].str, s)) {
			*v = (int)t[i].val;
			return 0;
		}
	}
	return -EINVAL;
}

/* "a, b or c" for error messages */
void strval_list(const cyaml_strval_t *t, uint32_t n, char *buf, size_t len)
{
	size_t off = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i == 0	     ? ""
					: i == n - 1 ? " or "
						     : ", ",
					t[i].str);
}

const char *xlb_config__algo_name(enum xlb_config_algo a)
{
	return strval_name(algo_names, N(algo_names), (int)a);
}

int xlb_config__algo_parse(const char *s, enum xlb_config_algo *out)
{
	int v, ret = strval_parse(algo_names, N(algo_names), s, &v);

	if (!ret)
		*out = (enum xlb_config_algo)v;
	return ret;
}

const char *xlb_config__forward_name(enum xlb_forward f)
{
	return strval_name(forward_names, N(forward_names), (int)f);
}

int xlb_config__forward_parse(const char *s, enum xlb_forward *out)
{
	int v, ret = strval_parse(forward_names, N(forward_names), s, &v);

	if (!ret)
		*out = (enum xlb_forward)v;
	return ret;
}

const char *xlb_config__hc_type_name(enum xlb_config_hc_type t)
{
	return strval_name(hc_type_names, N(hc_type_names), (int)t);
}

int xlb_config__hc_type_parse(const char *s, enum xlb_config_hc_type *out)
{
	int v, ret = strval_parse(hc_type_names, N(hc_type_names), s, &v);

	if (!ret)
		*out = (enum xlb_config_hc_type)v;
	return ret;
}

const char *xlb_config__xdp_mode_name(enum xlb_config_xdp_mode m)
{
	return strval_name(xdp_mode_names, N(xdp_mode_names), (int)m);
}

int xlb_config__xdp_mode_parse(const char *s, enum xlb_config_xdp_mode *out)
{
	int v, ret = strval_parse(xdp_mode_names, N(xdp_mode_names), s, &v);

	if (!ret)
		*out = (enum xlb_config_xdp_mode)v;
	return ret;
}
