#!/usr/bin/env bash
# The cost of one grant in the nftables backend as open elements grow from 0 to 100,000, through the writer the
# server uses (in-process: grants over a netlink socket of its own, docs/DESIGN.md D38; it prints the path it took
# as "# writer: ..."), in a network namespace of its own (deleted at the end, also after a failure). No packet is sent:
# the elements are set entries only (addresses of the benchmarking range 198.18.0.0/15).
#
#   sudo benchmarks/netns/open-cost.sh                    single-port grants, 0 / 1k / 10k / 100k open
#   sudo benchmarks/netns/open-cost.sh ranges=true        port-range grants
#   sudo benchmarks/netns/open-cost.sh sizes=0,20000 probe=500
#   sudo benchmarks/netns/open-cost.sh warmup=0             no warm-up: the figure at 0 includes the JIT's first calls
# Before the first checkpoint, 2000 opens (warmup=N) go to a table of their own, emptied after.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
[ "$(id -u)" = 0 ] || { echo "benchmarks/netns/open-cost.sh: needs root (a network namespace)" >&2; exit 1; }
command -v nft >/dev/null || { echo "benchmarks/netns/open-cost.sh: nft is missing (apt-get install nftables)" >&2; exit 1; }
if ! compgen -G "$root/benchmarks/target/benchmarks-*-all.jar" >/dev/null; then
  (cd "$root" && ./mvnw -B -q package -DskipTests)
fi
jar=$(compgen -G "$root/benchmarks/target/benchmarks-*-all.jar" | head -n 1)
ns="ckb-cost-$$"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
ip netns add "$ns"
echo "# nftables open cost, $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -sr), $(nproc) cores, $(nft --version)" >&2
ip netns exec "$ns" "$java" -Dlogback.configurationFile="$here/logback-warn.xml" \
  -cp "$jar" dev.certknock.benchmarks.netns.NftOpenCostBench "$@"
