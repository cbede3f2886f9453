#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Install the Debian packages xlb needs to build, test, benchmark and demo.
# The one list of packages lives here; idempotent and quiet when all present.
set -euo pipefail

PACKAGES=(
	# build: data path and skeletons
	make gcc clang llvm libbpf-dev libxdp-dev libelf-dev zlib1g-dev bpftool pkg-config
	# build: userspace libraries
	libevent-dev libcurl4-openssl-dev libjansson-dev libcyaml-dev libmnl-dev
	# tests
	libcmocka-dev libclang-rt-14-dev iproute2 ethtool curl python3 netsniff-ng xdp-tools nftables
	# tests: a certificate for the https check's server
	openssl
	# tests: the systemd unit (systemd-analyze; setpriv, prlimit)
	systemd util-linux
	# tests: the man pages render without warnings (groff, man)
	groff-base man-db
	# the Debian package (make deb, make test-deb)
	debhelper lintian
	# the fleet tests and demo: BGP + BFD between the router and the xlb hosts
	bird2
	# metrics checks
	prometheus
	# make valgrind; the benchmarks' optional profiles (BENCH_PERF)
	valgrind linux-perf
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run 'make deps' as root)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
