#!/usr/bin/env bash
# bench/compare.sh: voicewall against `nft -f` of the same compiled text, on
# this machine, in network namespaces this script creates and deletes.
#
#   sudo bench/compare.sh [ENTRIES...]      # default: 100000 1000000
#   RUNS=5 sudo bench/compare.sh 100000
#
# For each blocklist size it times (median of RUNS whole-process runs: wall
# seconds, CPU seconds (user + system: on a busy machine the wall time
# includes waiting for a core) and peak RSS):
#   nft -f        the compiled nftables.nft into a fresh namespace (the anchor)
#   compile       voicewall compile --target nftables
#   apply         voicewall apply --auto-approve into a fresh namespace
#   plan (no-op)  voicewall plan --detailed-exitcode on the applied namespace
#   plan (foreign) the same after a fail2ban-like tool changed its own table
#                 (table inet f2b, a set, a rule, then one `add element`):
#                 must exit 0 (nothing to change, nothing sent)
#   refresh       the refresh timer's run with fail2ban active: another ban,
#                 then apply after 1,000 blocklist changes (500 removed, 500
#                 added), end to end
# and prints each voicewall figure as a ratio of the nft -f median.
# Never touches the root namespace's ruleset, links or sysctls.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/compare.sh needs root (network namespaces)" >&2; exit 1; }
command -v nft >/dev/null || { echo "needs nft (apt-get install nftables)" >&2; exit 1; }

RUNS=${RUNS:-5}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(100000 1000000)
work=$(mktemp -d /tmp/voicewall-bench.XXXXXX)
prefix="vwbench-$$"
cleanup() {
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$prefix-" || true); do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/voicewall" ./cmd/voicewall
go build -o "$work/writepolicy" ./internal/bench/cmd/writepolicy
go build -o "$work/f2b" ./internal/bench/cmd/f2b
vw="$work/voicewall"
nsn=0
# newns: a namespace shaped like the bench policy's gateway: eth0 (WAN),
# eth1 (LAN), both veth pairs inside it, and eth1.20 for the voice VLAN
# (a macvlan stand-in, since
# kernels without 802.1Q refuse real VLAN links; voicewall verifies it).
newns() {
  nsn=$((nsn+1)); local ns="$prefix-$nsn"
  ip netns add "$ns"
  ip -n "$ns" link add eth0 type veth peer name eth0p
  ip -n "$ns" link add eth1 type veth peer name eth1p
  ip -n "$ns" link add eth1.20 link eth1 type macvlan mode bridge
  for l in lo eth0 eth0p eth1 eth1p eth1.20; do ip -n "$ns" link set "$l" up; done
  echo "$ns"
}
delns() { ip netns del "$1"; }

# timeit FILE CMD...: run once, append "wall rss_kb user sys" to FILE. The command
# must exit 0 (a plan that finds changes exits 2: a failure here).
timeit() {
  local out=$1; shift
  /usr/bin/time -f "%e %M %U %S" -o "$work/t" "$@" >/dev/null 2>"$work/err" || {
    echo "failed ($?): $*" >&2; cat "$work/err" >&2; exit 1
  }
  tail -1 "$work/t" >> "$out"
}
# f2b NS init|ban ADDR: what fail2ban does to the ruleset, in its own table
# only (through netlink: nft itself would first dump table inet voicewall's
# sets for its cache, which takes minutes at 1,000,000 entries).
f2b() { "$work/f2b" "$@"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$1" '{print $c}' "$2"; }

printf '%-10s %-14s %10s %10s %10s %10s\n' entries work "median s" "x nft -f" "cpu s" "rss MB"
for n in "${SIZES[@]}"; do
  d="$work/p$n"; mkdir -p "$d"
  "$work/writepolicy" "$d" "$n"
  "$vw" compile "$d" --target nftables -o "$d/out" 2>/dev/null
  for k in nft compile apply plan foreign delta; do : > "$work/$k.$n"; done
  for r in $(seq "$RUNS"); do
    ns=$(newns); timeit "$work/nft.$n" ip netns exec "$ns" nft -f "$d/out/nftables.nft"; delns "$ns"
    timeit "$work/compile.$n" "$vw" compile "$d" --target nftables
    ns=$(newns)
    timeit "$work/apply.$n" "$vw" apply "$d" --netns "$ns" --auto-approve
    timeit "$work/plan.$n" "$vw" plan "$d" --netns "$ns" --detailed-exitcode
    f2b "$ns" init
    f2b "$ns" ban "198.51.100.$r"
    timeit "$work/foreign.$n" "$vw" plan "$d" --netns "$ns" --detailed-exitcode
    # Refresh with fail2ban active: another ban, then the lists move 500
    # entries to new addresses: 500 removed + 500 added = 1,000 changes.
    f2b "$ns" ban "198.51.100.$((r + 100))"
    cp "$d/blocklist.txt" "$d/blocklist.orig"
    awk 'NR<=501 && /^[0-9]/ {sub(/^11\./, "12.")} {print}' "$d/blocklist.orig" > "$d/blocklist.txt"
    timeit "$work/delta.$n" "$vw" apply "$d" --netns "$ns" --auto-approve
    mv "$d/blocklist.orig" "$d/blocklist.txt"
    delns "$ns"
  done
  base=$(col 1 "$work/nft.$n" | median)
  for k in nft compile apply plan foreign delta; do
    m=$(col 1 "$work/$k.$n" | median)
    rss=$(col 2 "$work/$k.$n" | median)
    cpu=$(awk '{print $3 + $4}' "$work/$k.$n" | median)
    ratio=$(awk -v a="$m" -v b="$base" 'BEGIN {printf "%.2f", (b > 0 ? a/b : 0)}')
    label=$k; [ "$k" = plan ] && label="plan (no-op)"; [ "$k" = foreign ] && label="plan (foreign)"; [ "$k" = delta ] && label="refresh +-1k"; [ "$k" = nft ] && label="nft -f"
    printf '%-10s %-14s %10s %10s %10s %10.0f\n' "$n" "$label" "$m" "$ratio" "$cpu" "$(awk -v k="$rss" 'BEGIN{print k/1024}')"
  done
done
echo
echo "goals: compile <= 0.2x at 100k; apply <= 0.6x at 100k; plan (foreign) <= 0.25x at 100k and 1M"
echo "(exit 0: nothing to change, nothing sent); refresh +-1k at 1M with fail2ban active <= 1 s."
