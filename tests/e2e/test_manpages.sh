#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# The man pages (man/) against the code they describe, both ways: a CLI
# verb, an option or a configuration key that the code has and its page
# lacks fails, and so does one the page documents that the code no longer
# has. The code's lists come from the code itself, never from a copy:
#   xlbctl verbs      `xlbctl --help`, which prints cmds[]
#   xlb-decap verbs   `xlb-decap --help`
#   options           each program's option tables and getopt strings in its
#                     source, and every option its --help output names
#   config keys       tests/e2e/config_keys.c, built here from
#                     userspace/lib/config_keys.h (the table every key is
#                     declared in; `config export` would miss the keys it
#                     never writes, such as payload and response)
# In a page, a command or option is the tag of a .TP entry, a key the .B tag
# of a .TP entry in xlb.yaml.5, spelled as its full path. Every page must
# also render without a warning (groff -ww, man --warnings).
set -uo pipefail
source "$(dirname "$0")/lib.sh"

require_cmd groff man "${CC:-cc}"
require_build build/xlbd build/xlbctl build/xlb-decap
mkdir -p "$XLBT_RUN" || fail "cannot create $XLBT_RUN" # removed by lib.sh's trap

errors=0
bad() { echo "FAIL: $*" >&2; errors=$((errors + 1)); }

# The tags of a page's .TP entries, as text: font escapes gone, \- as -.
tags() {
	awk 'prev == ".TP" { print } { prev = $0 }' "$1" |
		sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/^\.[BIR]* //' -e 's/"//g'
}
# The options named in a text: --long ones and -x ones.
options() {
	local text
	text=$(cat)
	grep -oE -- '--[a-z][a-z-]*' <<<"$text"
	grep -oE -- '(^|[^a-zA-Z0-9-])-[a-zA-Z]([^a-zA-Z0-9-]|$)' <<<"$text" | grep -oE -- '-[a-zA-Z]'
}
# The options a C source declares: its struct option tables and getopt strings.
src_options() {
	grep -oE '\{ *"[a-z][a-z-]*", *(no|required|optional)_argument' "$1" |
		sed -E 's/\{ *"([^"]*)".*/--\1/'
	grep -oE 'getopt_long\([a-z]+, *[a-z]+, *"[^"]*"' "$1" | sed -E 's/.*"(.*)"/\1/' |
		tr -d ':+' | grep -o . | sed 's/^/-/'
}
# xlbctl's "OBJECT [VERB]" from lines "xlbctl OBJECT [VERB] ARGS..."
verbs() { sed -n 's/^ *xlbctl //p' | awk '{ v = $1; if ($2 ~ /^[a-z]+$/) v = v " " $2; print v }'; }
# Both ways: $1 what, $2 file of the code's, $3 file of the page's.
same() {
	local only
	only=$(comm -23 <(sort -u "$2") <(sort -u "$3"))
	[ -z "$only" ] || bad "$1 in the code but not in its page: $(tr "\n" " " <<<"$only")"
	only=$(comm -13 <(sort -u "$2") <(sort -u "$3"))
	[ -z "$only" ] || bad "$1 in the page but not in the code: $(tr "\n" " " <<<"$only")"
}

T=$XLBT_RUN
for page in man/*.[58]; do
	out=$(groff -ww -man -z "$page" 2>&1)
	[ -z "$out" ] || bad "groff -ww $page: $out"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat man --warnings -l "$page" 2>&1 >/dev/null)
	[ -z "$out" ] || bad "man --warnings -l $page: $out"
done

# Options of the three programs.
for prog in xlbd xlbctl xlb-decap; do
	{ src_options "userspace/$prog/$prog.c"; "build/$prog" --help | options; } >"$T/$prog.code"
	tags "man/$prog.8" | options >"$T/$prog.page"
	same "$prog options" "$T/$prog.code" "$T/$prog.page"
done

# xlbctl's commands and xlb-decap's.
build/xlbctl --help | verbs >"$T/xlbctl.verbs.code"
tags man/xlbctl.8 | grep '^xlbctl ' | verbs >"$T/xlbctl.verbs.page"
[ -s "$T/xlbctl.verbs.code" ] || bad "xlbctl --help lists no command"
same "xlbctl commands" "$T/xlbctl.verbs.code" "$T/xlbctl.verbs.page"
build/xlb-decap --help | sed -nE 's/^  ([a-z]+) IFACE.*/\1/p' >"$T/decap.verbs.code"
tags man/xlb-decap.8 | sed -nE 's/^([a-z]+) IFACE.*/\1/p' >"$T/decap.verbs.page"
[ -s "$T/decap.verbs.code" ] || bad "xlb-decap --help lists no command"
same "xlb-decap commands" "$T/decap.verbs.code" "$T/decap.verbs.page"

# Configuration keys, and a .SS section for each mapping or sequence holding them.
"${CC:-cc}" -std=gnu11 -Wall -Wextra -Werror -I. tests/e2e/config_keys.c -o "$T/config_keys" ||
	fail "tests/e2e/config_keys.c does not build"
"$T/config_keys" >"$T/keys.code" || fail "config_keys failed"
tags man/xlb.yaml.5 | grep -E '^[a-z][a-z0-9_]*(\[\])?(\.[a-z][a-z0-9_]*(\[\])?)*$' >"$T/keys.page"
same "config keys" "$T/keys.code" "$T/keys.page"
sed -E 's/\.[a-z][a-z0-9_]*$//; s/\[\]//g; s/\./\n/g' "$T/keys.code" | grep . >"$T/sections.code"
sed -n 's/^\.SS //p' man/xlb.yaml.5 | tr -d '"' >"$T/sections.page"
only=$(comm -23 <(sort -u "$T/sections.code") <(sort -u "$T/sections.page"))
[ -z "$only" ] || bad "xlb.yaml.5 has no .SS section for: $(tr "\n" " " <<<"$only")"

[ $errors = 0 ] || exit 1
echo "man pages: $(ls man/*.[58] | wc -l) pages render cleanly;" \
	"$(sort -u "$T/xlbctl.verbs.code" | wc -l) xlbctl commands," \
	"$(sort -u "$T/keys.code" | wc -l) config keys and every option match the code"
