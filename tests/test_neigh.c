/* SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause */
/*
 * xlb_neigh__* against the real kernel, in a private network namespace that
 * vanishes with the process (nothing to clean up on the host). Needs root.
 *
 *   this process's netns               peer netns (a child process)
 *   xt0 198.18.0.1/24 2001:2::1/64 --- xt1 198.18.0.2/24 198.18.0.3/24
 *                                          2001:2::2/64
 *       02:00:00:00:00:01                  02:00:00:00:00:02
 *   xt2 198.18.7.1/24 --- xt3
 *
 * The peer answers ARP/ND for real; 198.18.0.77 nobody answers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "userspace/lib/neigh.h"

#define SKIP 77
#define TIMEOUT_MS 300
#define REAL_TIMEOUT_MS 5000 /* only awaited in full when a resolution fails */

static const __u8 xt0_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const __u8 xt1_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const __u8 gw_mac[6] = { 0x02, 0, 0, 0, 0, 0x09 };

static pid_t peer_pid = -1;
static int peer_fd = -1; /* the peer exits when this closes */
static int xt0;

__attribute__((format(printf, 1, 2)))
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc != 0)
		fprintf(stderr, "failed (%d): %s\n", rc, cmd);
	return rc;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * A child in its own netns holds xt1, so ARP/ND from xt0 gets real answers.
 * It configures xt1 once the parent has moved it in, then waits for EOF.
 */
static int peer_start(void)
{
	int to_child[2], to_parent[2];
	char c = 0;

	if (pipe(to_child) || pipe(to_parent))
		return -1;
	peer_pid = fork();
	if (peer_pid < 0)
		return -1;
	if (peer_pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET))
			_exit(1);
		if (write(to_parent[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1)
			_exit(1);
		c = sh("ip link set lo up") || sh("ip link set xt1 address 02:00:00:00:00:02") ||
		    sh("ip addr add 198.18.0.2/24 dev xt1") ||
		    sh("ip addr add 198.18.0.3/24 dev xt1") ||
		    sh("ip addr add 2001:2::2/64 dev xt1 nodad") || sh("ip link set xt1 up");
		if (write(to_parent[1], &c, 1) != 1)
			_exit(1);
		while (read(to_child[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	peer_fd = to_child[1];
	if (read(to_parent[0], &c, 1) != 1 || sh("ip link set xt1 netns %d", (int)peer_pid) ||
	    write(peer_fd, &c, 1) != 1 || read(to_parent[0], &c, 1) != 1 || c != 0) {
		close(to_parent[0]);
		return -1;
	}
	close(to_parent[0]);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	if (sh("ip link set lo up") ||
	    sh("ip link add xt0 type veth peer name xt1") ||
	    sh("ip link set xt0 address 02:00:00:00:00:01") ||
	    sh("ip addr add 198.18.0.1/24 dev xt0") ||
	    sh("ip addr add 2001:2::1/64 dev xt0 nodad") || sh("ip link set xt0 up") ||
	    sh("ip link add xt2 type veth peer name xt3") ||
	    sh("ip addr add 198.18.7.1/24 dev xt2") || sh("ip link set xt2 up") ||
	    sh("ip link set xt3 up") ||
	    sh("ip neigh add 198.18.0.9 lladdr 02:00:00:00:00:09 dev xt0 nud permanent") ||
	    sh("ip neigh add 2001:2::9 lladdr 02:00:00:00:00:09 dev xt0 nud permanent") ||
	    sh("ip route add 198.18.5.0/24 via 198.18.0.9") ||
	    sh("ip route add 2001:2:5::/64 via 2001:2::9") ||
	    sh("ip route add blackhole 198.18.9.0/24") ||
	    sh("ip route add unreachable 198.18.10.0/24"))
		return -1;
	if (peer_start())
		return -1;
	/*
	 * The carrier is on once xt1 is up, but the kernel's link watch marks
	 * xt0 UP and gives it its qdisc a moment later (up to a second under
	 * load): until then a solicitation is dropped before the wire, and a
	 * resolution can run out of time (seen once in CI).
	 */
	if (sh("for i in $(seq 100); do ip -o link show xt0 | grep -q 'state UP' && exit 0; "
	       "sleep 0.05; done; exit 1"))
		return -1;
	xt0 = if_nametoindex("xt0");
	return xt0 > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (peer_fd >= 0)
		close(peer_fd);
	if (peer_pid > 0)
		waitpid(peer_pid, NULL, 0);
	return 0;
}

static int resolve(int ifindex, const char *addr, bool on_link_only, int timeout_ms,
		   __u8 mac[6], char *err, size_t errlen)
{
	int family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	__u8 bytes[16];

	assert_int_equal(inet_pton(family, addr, bytes), 1);
	return xlb_neigh__resolve(ifindex, family, bytes, on_link_only, timeout_ms, mac, err,
				  errlen);
}

static void test_permanent(void **state)
{
	static const char *const addrs[] = { "198.18.0.9", "2001:2::9" };
	char err[256];
	__u8 mac[6];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		memset(mac, 0, sizeof(mac));
		assert_int_equal(resolve(xt0, addrs[i], true, TIMEOUT_MS, mac, err, sizeof(err)), 0);
		assert_memory_equal(mac, gw_mac, 6);
		assert_string_equal(err, "");
	}
}

static void test_real_resolution(void **state)
{
	static const char *const addrs[] = { "198.18.0.2", "2001:2::2" };
	char err[256];
	__u8 mac[6];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		int ret;

		memset(mac, 0, sizeof(mac));
		ret = resolve(xt0, addrs[i], true, REAL_TIMEOUT_MS, mac, err, sizeof(err));
		if (ret)
			fail_msg("%s: %d (%s)", addrs[i], ret, err);
		assert_memory_equal(mac, xt1_mac, 6);
	}
}

/* A FAILED entry is resolved again; a STALE one is used and re-probed. */
static void test_failed_and_stale(void **state)
{
	char err[256];
	__u8 mac[6];

	(void)state;
	assert_int_equal(sh("ip neigh add 198.18.0.3 dev xt0 nud failed"), 0);
	assert_int_equal(resolve(xt0, "198.18.0.3", true, REAL_TIMEOUT_MS, mac, err, sizeof(err)),
			 0);
	assert_memory_equal(mac, xt1_mac, 6);

	assert_int_equal(sh("ip neigh change 198.18.0.3 dev xt0 lladdr 02:00:00:00:00:33 nud stale"),
			 0);
	assert_int_equal(resolve(xt0, "198.18.0.3", true, TIMEOUT_MS, mac, err, sizeof(err)), 0);
	assert_memory_equal(mac, ((__u8[6]){ 0x02, 0, 0, 0, 0, 0x33 }), 6);
	assert_int_equal(sh("ip neigh show 198.18.0.3 dev xt0 | grep -q DELAY"), 0);
}

static void test_gateway(void **state)
{
	static const char *const dsts[] = { "198.18.5.5", "2001:2:5::5" };
	static const char *const gws[] = { "198.18.0.9", "2001:2::9" };
	char err[256];
	__u8 mac[6];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		memset(mac, 0, sizeof(mac));
		assert_int_equal(resolve(xt0, dsts[i], false, TIMEOUT_MS, mac, err, sizeof(err)), 0);
		assert_memory_equal(mac, gw_mac, 6);

		memset(mac, 0, sizeof(mac));
		assert_int_equal(resolve(xt0, dsts[i], true, TIMEOUT_MS, mac, err, sizeof(err)),
				 -EHOSTUNREACH);
		assert_non_null(strstr(err, gws[i]));
		assert_non_null(strstr(err, "not on-link on xt0"));
		assert_memory_not_equal(mac, gw_mac, 6);
	}
}

static void test_unanswered(void **state)
{
	char err[256];
	long long t0, dt;
	__u8 mac[6];

	(void)state;
	t0 = now_ms();
	assert_int_equal(resolve(xt0, "198.18.0.77", true, TIMEOUT_MS, mac, err, sizeof(err)),
			 -ETIMEDOUT);
	dt = now_ms() - t0;
	assert_true(dt >= TIMEOUT_MS);
	assert_true(dt < TIMEOUT_MS + 700);
	assert_non_null(strstr(err, "198.18.0.77"));

	/* timeout 0: start resolution, do not wait for it */
	t0 = now_ms();
	assert_int_equal(resolve(xt0, "2001:2::77", true, 0, mac, err, sizeof(err)), -ETIMEDOUT);
	assert_true(now_ms() - t0 < 100);
	assert_non_null(strstr(err, "2001:2::77"));
}

static void test_other_interface(void **state)
{
	char err[256];
	__u8 mac[6];

	(void)state;
	assert_int_equal(resolve(xt0, "198.18.7.5", false, TIMEOUT_MS, mac, err, sizeof(err)),
			 -ENETUNREACH);
	assert_non_null(strstr(err, "xt2"));
	/* no route at all */
	assert_int_equal(resolve(xt0, "198.19.9.9", false, TIMEOUT_MS, mac, err, sizeof(err)),
			 -ENETUNREACH);
	assert_non_null(strstr(err, "198.19.9.9"));
	assert_int_equal(resolve(xt0, "198.18.9.1", false, TIMEOUT_MS, mac, err, sizeof(err)),
			 -ENETUNREACH);
	assert_non_null(strstr(err, "blackhole"));
	assert_int_equal(resolve(xt0, "198.18.10.1", false, TIMEOUT_MS, mac, err, sizeof(err)),
			 -ENETUNREACH);
	/* a local address leaves through lo */
	assert_int_equal(resolve(xt0, "198.18.0.1", false, TIMEOUT_MS, mac, err, sizeof(err)),
			 -ENETUNREACH);
}

static void test_bad_args(void **state)
{
	__u8 addr[16] = {}, mac[6];
	char err[256];

	(void)state;
	assert_int_equal(xlb_neigh__resolve(xt0, 12345, addr, false, 0, mac, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(xlb_neigh__resolve(0, AF_INET, addr, false, 0, mac, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(xlb_neigh__resolve(xt0, AF_INET, addr, false, -1, mac, NULL, 0),
			 -EINVAL);
	assert_int_equal(xlb_neigh__if_mac(999999, mac, err, sizeof(err)), -ENODEV);
}

static void test_if_mac(void **state)
{
	char err[256];
	__u8 mac[6] = {};

	(void)state;
	assert_int_equal(xlb_neigh__if_mac(xt0, mac, err, sizeof(err)), 0);
	assert_memory_equal(mac, xt0_mac, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_permanent),
		cmocka_unit_test(test_real_resolution),
		cmocka_unit_test(test_failed_and_stale),
		cmocka_unit_test(test_gateway),
		cmocka_unit_test(test_unanswered),
		cmocka_unit_test(test_other_interface),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_if_mac),
	};

	if (geteuid() != 0) {
		printf("skipped: needs root (network namespaces)\n");
		return SKIP;
	}
	/* Everything below, and every `ip` it runs, lives in this netns. */
	if (unshare(CLONE_NEWNET)) {
		printf("skipped: unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return SKIP;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
