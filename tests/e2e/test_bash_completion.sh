#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only OR BSD-2-Clause
#
# contrib/bash-completion/xlbctl: it parses, and its function completes
# what it is asked for. Objects, verbs and options come from the real
# build/xlbctl --help (every object and verb of its table must be offered);
# VIPs and backends come from a stand-in xlbctl whose `-j vip list` prints a
# fixed answer, so no xlbd is needed.
set -uo pipefail
source "$(dirname "$0")/lib.sh"

COMPLETION=contrib/bash-completion/xlbctl
require_build build/xlbctl
bash -n "$COMPLETION" || fail "$COMPLETION: syntax error"
mkdir -p "$XLBT_RUN" || fail "cannot create $XLBT_RUN" # removed by lib.sh's trap

FAKE=$XLBT_RUN/xlbctl
cat >"$FAKE" <<SH
#!/usr/bin/env bash
case "\$*" in
*"-j vip list") echo '{"vips":[{"vip":"198.18.1.100:80/tcp","algorithm":"maglev","backends":[{"address":"198.18.0.11","weight":100},{"address":"198.18.0.12","weight":100}]},{"vip":"[2001:2::100]:53/udp","backends":[{"address":"2001:2::11","weight":100}]}]}' ;;
*) exec "$XLBT_ROOT/build/xlbctl" "\$@" ;;
esac
SH
chmod +x "$FAKE"

# shellcheck source=contrib/bash-completion/xlbctl
source "$COMPLETION"
complete -p xlbctl >/dev/null || fail "the file registers no completion for xlbctl"
COMP_WORDBREAKS=$' \t\n"'"'"'><=;|&(:'
# complete LINE: the candidates, sorted, on one line
complete_line() {
	COMP_LINE=$1
	COMP_POINT=${#1}
	read -ra COMP_WORDS <<<"$1"
	COMP_CWORD=${#COMP_WORDS[@]}
	COMPREPLY=()
	_xlbctl
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {
	local got
	got=$(complete_line "$1")
	[ "$got" = "$2" ] || fail "completing '$1': got '$got', want '$2'"
}

# Every object and verb xlbctl has is offered.
while read -r obj verb; do
	complete_line "$FAKE " | grep -qw -- "$obj" || fail "object '$obj' not offered"
	[[ $verb =~ ^[a-z]+$ ]] || continue
	complete_line "$FAKE $obj " | grep -qw -- "$verb" || fail "'$obj $verb' not offered"
done < <(build/xlbctl --help | sed -n 's/^  xlbctl //p' | awk '{ print $1, $2 }')

expect "$FAKE v" "vip"
expect "$FAKE vip " "--help add del list show"
expect "$FAKE announce " "drain undrain"
expect "$FAKE --" "--help --json --socket --version"
expect "$FAKE vip add 198.18.1.1:80/tcp --al" "--algo"
expect "$FAKE vip add 198.18.1.1:80/tcp --algo " "lc maglev rr source-hash wrr"
expect "$FAKE vip add 198.18.1.1:80/tcp --forward " "gue ipip l2dsr"
expect "$FAKE backend set V A --" "--drain --help --json --socket --undrain --weight"
# VIPs and backends from xlbd's answer; bash replaces the word after its last ':'
expect "$FAKE vip show " "198.18.1.100:80/tcp [2001:2::100]:53/udp"
expect "$FAKE vip show 198" "198.18.1.100:80/tcp"
expect "$FAKE vip show 198.18.1.100:" "80/tcp"
expect "$FAKE -j backend del 198.18.1.100:80/tcp " "198.18.0.11 198.18.0.12"
expect "$FAKE backend set [2001:2::100]:53/udp --weight 5 " "2001:2::11"
expect "$FAKE health " "198.18.1.100:80/tcp [2001:2::100]:53/udp"
echo "bash completion: objects, verbs, options, values, VIPs and backends complete"
