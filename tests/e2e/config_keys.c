/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * Prints every configuration key, one full path a line ("vips[].rate_limit.pps"),
 * from the table that declares them (userspace/lib/config_keys.h), for
 * tests/e2e/test_manpages.sh to hold man/xlb.yaml.5 to. Built by that test.
 *
 * The table's rows name a section (CFG_<SECTION>_KEYS) but not where the
 * section sits in the YAML; that is the one thing said here, and a section
 * the table gains without a path here fails the count check below.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "userspace/lib/config_keys.h"

/* Each row kind prints "<path><key>"; the rest of a row is not needed. */
#define K_STR(T, key, ...) puts(T #key);
#define K_ENUM K_STR
#define K_ENUMN K_STR
#define K_U32 K_STR
#define K_U32W K_STR
#define K_DBL K_STR
#define K_BOOL K_STR

/* ... and counts one. */
#define N_STR(T, key, ...) +1
#define N_ENUM N_STR
#define N_ENUMN N_STR
#define N_U32 N_STR
#define N_U32W N_STR
#define N_DBL N_STR
#define N_BOOL N_STR

int main(void)
{
	int all = 0 CFG_ALL_KEYS(N, _), printed = 0
		CFG_INTERFACE_KEYS(N, _) CFG_METRICS_KEYS(N, _) CFG_CONNTRACK_KEYS(N, _)
		CFG_ANNOUNCE_KEYS(N, _) CFG_VIP_KEYS(N, _) CFG_RATE_LIMIT_KEYS(N, _)
		CFG_HEALTH_CHECK_KEYS(N, _) CFG_CIRCUIT_BREAKER_KEYS(N, _)
		CFG_PASSIVE_KEYS(N, _) CFG_BACKEND_KEYS(N, _);

	if (printed != all) {
		fprintf(stderr, "config_keys.h has %d keys, this dump knows the sections of %d: "
				"give the new section its path in tests/e2e/config_keys.c\n",
			all, printed);
		return 1;
	}
	CFG_INTERFACE_KEYS(K, "interfaces[].")
	CFG_METRICS_KEYS(K, "metrics.")
	CFG_CONNTRACK_KEYS(K, "conntrack.")
	CFG_ANNOUNCE_KEYS(K, "announce.")
	CFG_VIP_KEYS(K, "vips[].")
	CFG_RATE_LIMIT_KEYS(K, "vips[].rate_limit.")
	CFG_HEALTH_CHECK_KEYS(K, "vips[].health_check.")
	CFG_CIRCUIT_BREAKER_KEYS(K, "vips[].circuit_breaker.")
	CFG_PASSIVE_KEYS(K, "vips[].passive.")
	CFG_BACKEND_KEYS(K, "vips[].backends[].")
	return 0;
}
