#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Builds the Debian package (dpkg-buildpackage -us -uc -b) into OUTDIR
# (default build/deb) and runs lintian on it: an error fails, warnings are
# kept in OUTDIR/lintian.txt. `make deb` runs it.
#
# dpkg-buildpackage writes next to the source tree and into debian/, so it
# builds a temporary copy of the tree (the files git knows, edits included;
# not build/), removed on every exit. The commit the binaries report is the
# tree's (XLB_COMMIT); their version is debian/changelog's.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "${1:-build/deb}" && cd "${1:-build/deb}" && pwd)

tmp=$(mktemp -d /tmp/xlb-deb.XXXXXX)
trap 'rm -rf --one-file-system "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

src=$tmp/xlb
mkdir "$src"
git ls-files -z --cached --others --exclude-standard |
	tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$src"
XLB_COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || XLB_COMMIT="$XLB_COMMIT-dirty"
export XLB_COMMIT

echo "deb: building in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
	exit 1
}
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$tmp"/*.deb "$tmp"/*.changes "$tmp"/*.buildinfo "$out"/
deb=$(ls "$out"/xlb_*.deb)
echo "deb: $deb"

if command -v lintian >/dev/null; then
	# lintian exits non-zero on errors (by default, and on nothing milder)
	rc=0
	lintian --display-info "$out"/*.changes >"$out/lintian.txt" 2>&1 || rc=$?
	grep -v 'running with root privileges' "$out/lintian.txt" | sed 's/^/  lintian: /'
	[ $rc = 0 ] || { echo "deb: lintian reports errors" >&2; exit 1; }
	echo "deb: lintian: $(grep -c '^E:' "$out/lintian.txt") errors, $(grep -c '^W:' "$out/lintian.txt") warnings"
else
	echo "deb: lintian is not installed, not run"
fi
