#!/usr/bin/env bash
# End-to-end network benchmark of certknock: knock-server with pcap capture in one network namespace, a sender
# in another, joined by a veth pair, with addresses from the benchmarking range 198.18.0.0/15 (RFC 2544) that
# exist only inside these namespaces. Traffic goes nowhere else. Every phase is bounded in count and time, and
# the namespaces are deleted at the end, also after a failure or Ctrl-C.
#
#   sudo benchmarks/netns/run.sh             all phases, about 2 minutes
#   sudo benchmarks/netns/run.sh --rebuild   rebuild the jars first
#
# Phases, in one run (figures: benchmarks/README.md, "Network benchmark"):
#   1. nftables backend: the first knock after start, then knock->rule latency over 250 knocks from 250 fresh
#      addresses (time from just before sendto to the first 1 ms TCP probe that passes the firewall), right after
#      start (the server's background rehearsal waits these knocks out, D16) and again, from 250 other addresses,
#      once it has finished (each knock listed: knock_ms, and at_ms, when it was sent); each server's start-up time;
#      then (after an untimed warm-up of 3000 knocks from other addresses, the same on both backends)
#      sustained grants/s and server CPU per grant (process and children: nft included) with 3000 distinct
#      pre-sealed knocks from 250 other addresses, one user per address; then the same with the four users
#      taking turns at each address ("nftables-shared": most knocks change the holder of a shared element,
#      which nftables writes as a delete and an add).
#   2. log backend (the pipeline-only ceiling: grants recorded, nothing written to the kernel): the same
#      throughput phase.
#   3. nftables backend with the default limits, under three junk streams, each while 20 valid knocks are
#      timed: random junk from 200 sources at the sender's full rate, well-formed junk (a valid knock with a
#      flipped ciphertext bit) from 200 sources at full rate, and well-formed junk at 100 packets/s sent
#      from the victim's own address (as a spoofer would).
# Results: a table on standard output and benchmarks/results/netns-<UTC time>.json.
set -euo pipefail
# No class-data sharing archive is built in the background by bin/knock-ca during the run (it would take CPU
# from the server while it starts; docs/CLIENT.md section 9).
export CERTKNOCK_CDS=off
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

if [ "$(id -u)" != 0 ]; then
  echo "benchmarks/netns/run.sh: needs root (network namespaces, pcap, nftables)" >&2
  exit 1
fi
for tool in ip nft python3; do
  command -v "$tool" >/dev/null || { echo "benchmarks/netns/run.sh: $tool is missing (apt-get install iproute2 nftables python3)" >&2; exit 1; }
done
ldconfig -p | grep libpcap >/dev/null || { echo "benchmarks/netns/run.sh: libpcap is missing (apt-get install libpcap0.8)" >&2; exit 1; }

if [ "${1:-}" = "--rebuild" ] || ! compgen -G "$root/benchmarks/target/benchmarks-*-all.jar" >/dev/null \
    || ! compgen -G "$root/knock-server/target/knock-server-*-all.jar" >/dev/null; then
  echo "Building (Maven) ..." >&2
  (cd "$root" && ./mvnw -B -q package -DskipTests)
fi
bench_jar=$(compgen -G "$root/benchmarks/target/benchmarks-*-all.jar" | head -n 1)

id=$$
srv="ckb-srv-$id"; cli="ckb-cli-$id"
work=$(mktemp -d /tmp/certknock-netbench.XXXXXX)
server_pid=""; service_pid=""
cleanup() {
  for pid in $server_pid $service_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*" >&2; }

# ---- PKI: one CA, a server certificate, four client certificates (knock-ca) --------------------------------
cd "$work"
umask 077
head -c 18 /dev/urandom | base64 > ca.pass
head -c 18 /dev/urandom | base64 > bundle.pass
export CA_PASS="$(cat ca.pass)"
kca() { "$root/bin/knock-ca" "$@" >/dev/null; }
kca init --dir ca --name 'certknock benchmark CA' --crl-url http://ca.bench.test/certknock.crl --ca-password-file ca.pass
kca issue-server --dir ca gw1.bench.test --ip 198.18.0.1 --out gw1.p12 --ca-password-env CA_PASS --bundle-password-file bundle.pass
bundles=""
for c in 1 2 3 4; do
  kca issue-client --dir ca "user$c" --grant tcp/8080-8099 --max-open 300 --days 1 --out "user$c.p12" \
    --ca-password-env CA_PASS --bundle-password-file bundle.pass
  bundles="${bundles:+$bundles,}$work/user$c.p12"
done
kca crl --dir ca --ca-password-env CA_PASS

# ---- two namespaces, one veth pair, 198.18.0.1 for the server and 781 sender addresses ----------------------
ip netns add "$srv"; ip netns add "$cli"
ip -n "$srv" link set lo up; ip -n "$cli" link set lo up
ip link add ckb-s netns "$srv" type veth peer name ckb-c netns "$cli"
ip -n "$srv" addr add 198.18.0.1/16 dev ckb-s
{
  for i in $(seq 1 250); do echo "addr add 198.18.1.$i/16 dev ckb-c"; done   # latency knocks
  for i in $(seq 1 250); do echo "addr add 198.18.2.$i/16 dev ckb-c"; done   # throughput knocks
  for i in $(seq 1 200); do echo "addr add 198.18.3.$i/16 dev ckb-c"; done   # junk sources
  for i in $(seq 1 80); do echo "addr add 198.18.4.$i/16 dev ckb-c"; done    # knocks during the floods
  echo "addr add 198.18.5.1/16 dev ckb-c"                                     # the spoofed victim
  for i in $(seq 1 250); do echo "addr add 198.18.6.$i/16 dev ckb-c"; done   # latency knocks, past start-up
} | ip -n "$cli" -batch -
ip -n "$srv" link set ckb-s up; ip -n "$cli" link set ckb-c up

# A TCP service on tcp/8080-8099 in the server namespace: accepts and closes.
ip netns exec "$srv" python3 -c '
import selectors, socket
sel = selectors.DefaultSelector()
for port in range(8080, 8100):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(1024); s.setblocking(False); sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        try:
            c, _ = key.fileobj.accept(); c.close()
        except OSError:
            pass
' &
service_pid=$!

# ---- the server -----------------------------------------------------------------------------------------
# $1 scenario name, $2 backend, $3 "bench" (limits out of the way of a throughput measurement: four certificates
# open thousands of elements, far past the default 256 per certificate) or "default"
start_server() {
  local name=$1 backend=$2 limits=$3
  {
    cat <<CFG
server:
  name: gw1.bench.test
  identities:
    - bundle: gw1.p12
      passwordFile: bundle.pass
trust:
  anchors: [ca/ca.pem]
crl:
  sources:
    - url: file:ca/publish/certknock.crl
  cacheDir: crl-cache
knock:
  replayJournal: replay-$name.journal
protect: [tcp/8080-8099]
capture:
  mode: pcap
  interface: ckb-s
  port: 62201
firewall:
  backend: $backend
  onStop: flush
$([ "$limits" = bench ] && printf '  maxElementsPerCertificate: 100000\n')
logging:
  audit: audit-$name.jsonl
  statsInterval: 1h
CFG
    if [ "$limits" = bench ]; then
      cat <<CFG
limits:
  perSourcePerSecond: 1000
  perSourceBurst: 1000
  publicKeyOpsPerSecond: 100000
  queueCapacity: 4096
CFG
    fi
  } > "config-$name.yaml"
  local launched; launched=$(date +%s%N)
  ip netns exec "$srv" "$root/bin/knock-server" run --config "config-$name.yaml" > "server-$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 150); do grep -q "started" "server-$name.log" && break; sleep 0.1; done
  grep -q "started" "server-$name.log" || { say "knock-server ($name) did not start:"; cat "server-$name.log" >&2; exit 1; }
  # Start-up time (launch to the "started" line, seen within 0.1 s) and the rehearsal before readiness (D16).
  say "   knock-server ($name) started within $(( ($(date +%s%N) - launched) / 1000000 )) ms of its launch; $(grep -o "start-up rehearsal: [0-9]* knocks.* in [0-9]* ms" "server-$name.log" | head -n 1)"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

sender() {
  ip netns exec "$cli" "$java" -cp "$bench_jar" dev.certknock.benchmarks.netns.NetnsKnockBench "$@" \
    server=198.18.0.1 knock_port=62201 tcp_port=8080 server_cert="$work/gw1.pem" bundles="$bundles" \
    password_file="$work/bundle.pass"
}

# Sustained throughput is measured after the same untimed warm-up on both backends: 3000 distinct knocks from
# other addresses, so that most of the JIT's compilations (C2 took over a third of the server's CPU in a window
# right after 1000 knocks, seen with perf and -XX:+PrintCompilation) fall outside the timed window of either.
warm_up_throughput() {  # $1 port, $2 scenario name (its audit log tells when every warm-up knock is granted)
  sender throughput sources=198.18.4.1/80 count=3000 port="$1" audit="$work/audit-$2.jsonl" server_pid="$server_pid" \
    >/dev/null 2>&1 || true
}

# The throughput phases start once the server's background rehearsal (docs/DESIGN.md D16: 500 knocks and 5000
# well-formed junk datagrams on throwaway material, at nice 19, right after start, waiting out live knocks) has finished, on both backends:
# a one-off start-up cost, not a grant's. Started during the latency phase and starved by the warm-up, it used to
# run on into phase 1's timed window (knock-rehearsal took 6% of the server's CPU there, seen with perf) and
# charge its CPU to the nftables grants, while phase 2 has no latency phase and was past it.
await_rehearsal() {  # $1 scenario name
  for _ in $(seq 1 600); do grep -q "background rehearsal" "server-$1.log" && return 0; sleep 0.1; done
  say "   (the background rehearsal of $1 did not finish within 60 s; measuring anyway)"
}

results=()
say "== 1. nftables: first knock, latency (250 knocks), throughput (3000 knocks)"
start_server nft nftables bench
results+=("$(sender latency sources=198.18.1.1/250 count=250)")
say "   ${results[-1]}"
await_rehearsal nft
say "   $(grep -o "background rehearsal.*" "server-nft.log" | head -n 1 | cut -c1-220)"
# The same 250 knocks' latency again once the start-up work is over (the background rehearsal, and the JIT's
# compilations of the knock path that it and the knocks above started): the server as it runs from then on.
results+=("$(sender latency sources=198.18.6.1/250 count=250 port=8086 | sed 's/"mode":"latency"/"mode":"latency","after":"rehearsal"/')")
say "   ${results[-1]}"
warm_up_throughput 8085 nft
results+=("$(sender throughput sources=198.18.2.1/250 count=3000 audit="$work/audit-nft.jsonl" server_pid="$server_pid" | sed 's/"mode":"throughput"/"mode":"throughput","backend":"nftables"/')")
say "   ${results[-1]}"
results+=("$(sender throughput sources=198.18.2.1/250 count=3000 port=8083 share=true audit="$work/audit-nft.jsonl" server_pid="$server_pid" | sed 's/"mode":"throughput"/"mode":"throughput","backend":"nftables-shared"/')")
say "   ${results[-1]}"
stop_server

say "== 2. log backend (pipeline-only ceiling): throughput (3000 knocks)"
start_server log log bench
sender latency sources=198.18.1.1/3 count=3 port=8081 >/dev/null 2>&1 || true  # as phase 1's first knocks
await_rehearsal log
warm_up_throughput 8085 log
results+=("$(sender throughput sources=198.18.2.1/250 count=3000 port=8081 audit="$work/audit-log.jsonl" server_pid="$server_pid" | sed 's/"mode":"throughput"/"mode":"throughput","backend":"log"/')")
say "   ${results[-1]}"
stop_server

say "== 3. nftables, default limits: valid knocks during junk floods"
start_server flood nftables default
# The floods hit a server past its background rehearsal (docs/DESIGN.md D16: after start, at nice 19, knocks and
# well-formed junk on throwaway material, so that the JIT compiles what a flood runs before one comes), as any server
# is seconds after start. Phase 1's first knock is timed right after start, while it runs.
for _ in $(seq 1 600); do grep -q "background rehearsal" "server-flood.log" && break; sleep 0.1; done
say "   $(grep -o "background rehearsal.*" "server-flood.log" | head -n 1 | cut -c1-160)"
sender latency sources=198.18.1.1/3 count=3 port=8081 >/dev/null 2>&1 || true  # warm-up: phase 1 times the first knock
results+=("$(sender flood kind=random flood_sources=198.18.3.1/200 victims=198.18.4.1/20 knocks=20 port=8082)")
say "   ${results[-1]}"
results+=("$(sender flood kind=wellformed flood_sources=198.18.3.1/200 victims=198.18.4.21/20 knocks=20 port=8083)")
say "   ${results[-1]}"
results+=("$(sender flood kind=spoofed victims=198.18.5.1/1 knocks=20 port=8084 ports=16 spoofed_rate=100)")
say "   ${results[-1]}"
stop_server
stats=$(grep -E "received [0-9]+, accepted" "server-flood.log" | tail -n 1 || true)

mkdir -p "$root/benchmarks/results"
out="$root/benchmarks/results/netns-$(date -u +%Y%m%dT%H%M%SZ).json"
{
  printf '{"date":"%s","host":"%s","cores":%s,"cpu":"%s","java":"%s","results":[\n' \
    "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" "$(uname -srm)" "$(nproc)" \
    "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" "$("$java" -version 2>&1 | head -n 1 | sed 's/"//g')"
  printf '%s' "${results[0]}"
  for r in "${results[@]:1}"; do printf ',\n%s' "$r"; done
  printf '\n]}\n'
} > "$out"

python3 - "$out" "$stats" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["results"]
lat = next(x for x in r if x["mode"] == "latency" and "after" not in x)
steady = next((x for x in r if x["mode"] == "latency" and "after" in x), None)
tp = {x["backend"]: x for x in r if x["mode"] == "throughput"}
print(f'certknock network benchmark, {d["date"]}, {d["host"]}, {d["cores"]} cores, {d["java"]}')
print(f'knock->rule (nftables, {lat["knocks"]} knocks, {lat["opened"]} opened): first {lat["first_ms"]} ms, '
      f'p50 {lat["p50_ms"]} ms, p90 {lat["p90_ms"]} ms, p99 {lat["p99_ms"]} ms, max {lat["max_ms"]} ms')
if steady:
    print(f'knock->rule after the background rehearsal ({steady["knocks"]} knocks, {steady["opened"]} opened): '
          f'p50 {steady["p50_ms"]} ms, p90 {steady["p90_ms"]} ms, p99 {steady["p99_ms"]} ms, max {steady["max_ms"]} ms')
print(f'{"backend":15} {"sent":>6} {"granted":>8} {"grants/s":>9} {"CPU ms/grant":>13}')
for b in ("nftables", "nftables-shared", "log"):
    x = tp.get(b)
    if x:
        print(f'{b:15} {x["sent"]:>6} {x["granted"]:>8} {x["grants_per_s"]:>9.0f} {x["cpu_ms_per_grant"]:>13.3f}')
if "nftables" in tp and "log" in tp and tp["log"]["grants_per_s"] > 0:
    print(f'nftables / log: grants/s {100 * tp["nftables"]["grants_per_s"] / tp["log"]["grants_per_s"]:.0f}%, '
          f'CPU per grant {tp["nftables"]["cpu_ms_per_grant"] / tp["log"]["cpu_ms_per_grant"]:.2f}x')
if "nftables-shared" in tp and "log" in tp and tp["log"]["grants_per_s"] > 0:
    print(f'nftables-shared / log: grants/s {100 * tp["nftables-shared"]["grants_per_s"] / tp["log"]["grants_per_s"]:.0f}%, '
          f'CPU per grant {tp["nftables-shared"]["cpu_ms_per_grant"] / tp["log"]["cpu_ms_per_grant"]:.2f}x')
for x in r:
    if x["mode"] == "flood":
        print(f'flood {x["kind"]:10} {x["flood_packets"]:>8} junk packets at {x["flood_pps"]:>7.0f}/s from '
              f'{x["flood_sources"]} source(s): {x["opened"]}/{x["knocks"]} valid knocks opened, '
              f'{x["within_50ms"]} within 50 ms, p50 {x["p50_ms"]} ms, max {x["max_ms"]} ms')
if sys.argv[2]:
    print("server (flood phase):", sys.argv[2].strip()[-400:])
print("JSON:", sys.argv[1])
PY
