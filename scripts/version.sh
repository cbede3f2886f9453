#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
# Prints xlb's version, the one string behind `xlbd --version`,
# `xlbctl --version`, `xlb-decap --version`, the API's status and the
# xlb_build_info metric. The Makefile runs it unless XLB_VERSION is given
# (debian/rules gives the package's version). In order:
#   1. `git describe` of a release tag vX.Y.Z, without the v
#      (1.2.0, or 1.2.0-3-gabc1234 three commits later; -dirty if edited);
#   2. no tag yet: the upstream version at the head of debian/changelog,
#      plus +g<commit> (and .dirty) inside a git checkout;
#   3. neither: 0.
cd "$(dirname "$0")/.." || exit 1
if v=$(git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null); then
	echo "${v#v}"
	exit 0
fi
# "xlb (0.1.0-1) unstable; urgency=medium" -> 0.1.0
v=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog 2>/dev/null)
v=${v%-*}
v=${v#*:}
[ -n "$v" ] || v=0
if c=$(git rev-parse --short HEAD 2>/dev/null); then
	v="$v+g$c"
	git diff --quiet HEAD -- 2>/dev/null || v="$v.dirty"
fi
echo "$v"
