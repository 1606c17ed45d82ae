#!/usr/bin/env bash
# The certknock demo: builds what it needs, makes a throwaway PKI with knock-ca, runs knock-server, knocks
# with knock, then revokes the certificate and shows the open grant closed and the next knock refused.
# Every step prints what it does. Safe to run repeatedly.
#
# As root with ip, nft, python3 and libpcap, the story runs for real: knock-server in its own network
# namespace with pcap capture and nftables, a TCP service behind it, and a client in a second namespace
# (TEST-NET addresses that exist only inside these namespaces, deleted afterwards). Otherwise it runs on
# loopback without privileges: UDP socket capture and the `log` backend (grants recorded, not enforced).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${CERTKNOCK_DEMO_DIR:-$root/demo-work}"
port="${CERTKNOCK_DEMO_PORT:-62201}"
step() { printf '\n== %s\n' "$*"; }
server_pid=""
service_pid=""
netns_created=""
cleanup() {
  for pid in $server_pid $service_pid; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$netns_created" ]; then
    ip netns del ck-demo-srv 2>/dev/null || true
    ip netns del ck-demo-cli 2>/dev/null || true
  fi
}
trap cleanup EXIT

netns_ready() {
  command -v ip >/dev/null && command -v nft >/dev/null && command -v python3 >/dev/null \
    && ldconfig -p 2>/dev/null | grep libpcap >/dev/null
}
if [ "$(id -u)" = 0 ] && [ "${CERTKNOCK_DEMO_LOOPBACK:-}" != 1 ] && ! netns_ready && command -v apt-get >/dev/null; then
  step "0. Root without nftables/libpcap: installing them with apt-get (CERTKNOCK_DEMO_LOOPBACK=1 skips this)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables iproute2 libpcap0.8 python3 \
    >/dev/null
fi
step "1. Build certknock (Maven wrapper; needs only a JDK 17+)"
(cd "$root" && ./mvnw -B -q package -DskipTests)
export PATH="$root/bin:$PATH"

step "2. The security team makes a CA, a server certificate and a client certificate (knock-ca)"
rm -rf "$work" && mkdir -p "$work" && cd "$work"
umask 077
head -c 18 /dev/urandom | base64 > ca.pass
head -c 18 /dev/urandom | base64 > bundle.pass
export CA_PASS="$(cat ca.pass)"
knock-ca init --dir ca --name 'certknock demo CA' --crl-url http://ca.demo.test/certknock.crl \
  --ca-password-file ca.pass | sed 's/^/   /'
knock-ca issue-server --dir ca gw1.demo.test --ip 127.0.0.1 --ip 192.0.2.1 --out gw1.p12 --ca-password-env CA_PASS --bundle-password-file bundle.pass \
  | sed 's/^/   /'
knock-ca issue-client --dir ca alice --grant tcp/22 --grant tcp/8080-8081 --max-open 30 --server gw1.demo.test \
  --days 30 --out alice.p12 --ca-password-env CA_PASS --bundle-password-file bundle.pass | sed 's/^/   /'
knock-ca crl --dir ca --ca-password-env CA_PASS | sed 's/^/   /'

# The server's configuration; $1 is the capture section's body, $2 the firewall backend.
write_config() {
cat > config.yaml <<CFG
server:
  name: gw1.demo.test
  identities:
    - bundle: gw1.p12
      passwordFile: bundle.pass
trust:
  anchors: [ca/ca.pem]
crl:
  sources:
    - url: file:ca/publish/certknock.crl
  refreshInterval: 2s
  cacheDir: crl-cache
knock:
  replayJournal: replay.journal
protect: [tcp/22, tcp/8080-8081]
capture:
$1
firewall:
  backend: $2
logging:
  audit: audit.jsonl
CFG
knock-server check-config config.yaml | sed 's/^/   /'
}

loopback_story() {
step "3. The server's configuration, checked before it starts"
write_config "  address: 127.0.0.1
  port: $port" log

step "4. knock-server starts on udp 127.0.0.1:$port (log: $work/server.log)"
knock-server run --config config.yaml > server.log 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "started" server.log && break; sleep 0.2; done
grep -q "started" server.log || { echo "the server did not start:"; cat server.log; exit 1; }
# CRLs are fetched in the background after start-up: wait for the first one before knocking
for _ in $(seq 1 100); do grep -q "CRL accepted" server.log && break; sleep 0.1; done
sed 's/^/   /' server.log

step "5. Alice knocks for tcp/22 (one signed, encrypted UDP datagram; the server answers nothing)"
knock 127.0.0.1 tcp/22 --knock-port "$port" --bundle alice.p12 --server-cert gw1.pem --password-file bundle.pass \
  --duration 20 --save-packet knock.bin --verbose | sed 's/^/   /'
for _ in $(seq 1 50); do grep -q GRANT server.log && break; sleep 0.1; done
echo "   server log:"; grep "GRANT" server.log | sed 's/^/   /'

step "6. The same datagram again (a replay): refused, silently"
python3 - "$port" <<'PY' 2>/dev/null || bash -c "cat knock.bin > /dev/udp/127.0.0.1/$port"
import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(open("knock.bin", "rb").read(), ("127.0.0.1", int(sys.argv[1])))
PY
sleep 1
grep '"reason":"REPLAY"' audit.jsonl | tail -n 1 | sed 's/^/   audit: /'

step "7. The security team revokes alice and publishes a new CRL; the server picks it up on schedule"
knock-ca revoke --dir ca --cert alice.pem --reason keyCompromise | sed 's/^/   /'
knock-ca crl --dir ca --ca-password-env CA_PASS | sed 's/^/   /'
for _ in $(seq 1 50); do grep -q '"why":"revoked"' audit.jsonl && break; sleep 0.2; done
grep '"event":"crl-accepted"' audit.jsonl | tail -n 1 | sed 's/^/   audit: /'
grep '"why":"revoked"' audit.jsonl | tail -n 1 | sed 's/^/   audit: /'

step "8. Alice knocks again: refused (REVOKED), and the server still answers nothing"
knock 127.0.0.1 tcp/22 --knock-port "$port" --bundle alice.p12 --server-cert gw1.pem --password-file bundle.pass \
  --save-packet knock2.bin | sed 's/^/   /'
for _ in $(seq 1 50); do grep -q '"reason":"REVOKED"' audit.jsonl && break; sleep 0.1; done
grep '"reason":"REVOKED"' audit.jsonl | tail -n 1 | sed 's/^/   audit: /'

step "9. The admin asks why: knock-server verify"
CERTKNOCK_LOG_LEVEL=WARN knock-server verify --config config.yaml --source 127.0.0.1 --at packet knock2.bin \
  | sed 's/^/   /' || true

}

netns_story() {
srv=ck-demo-srv; cli=ck-demo-cli
step "3. Two hosts in network namespaces: the server 192.0.2.1 and a client 192.0.2.2 on a veth pair"
ip netns del $srv 2>/dev/null || true; ip netns del $cli 2>/dev/null || true
ip netns add $srv; ip netns add $cli; netns_created=yes
ip link add ck-demo-s netns $srv type veth peer name ck-demo-c netns $cli
ip -n $srv addr add 192.0.2.1/24 dev ck-demo-s; ip -n $cli addr add 192.0.2.2/24 dev ck-demo-c
for ns in $srv $cli; do ip -n $ns link set lo up; done
ip -n $srv link set ck-demo-s up; ip -n $cli link set ck-demo-c up
echo "   made ck-demo-srv and ck-demo-cli (deleted at the end)"

step "4. A web service on the server's tcp/8080, and the server's configuration (pcap + nftables)"
ip netns exec $srv python3 -m http.server 8080 --bind 0.0.0.0 --directory "$work" >/dev/null 2>&1 &
service_pid=$!
write_config "  mode: pcap
  interface: any
  port: $port" nftables

step "5. knock-server starts in the server namespace (log: $work/server.log)"
ip netns exec $srv env PATH="$PATH" knock-server run --config config.yaml > server.log 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "started" server.log && break; sleep 0.2; done
grep -q "started" server.log || { echo "the server did not start:"; cat server.log; exit 1; }
# CRLs are fetched in the background after start-up: wait for the first one before knocking
for _ in $(seq 1 100); do grep -q "CRL accepted" server.log && break; sleep 0.1; done
grep -E "listening|capturing|started" server.log | sed 's/^/   /'
echo "   nftables table inet certknock in the server namespace:"
ip netns exec $srv nft list chain inet certknock input | sed 's/^/     /'

probe() { ip netns exec $cli python3 -c "import socket,sys
try:
    socket.create_connection(('192.0.2.1', 8080), timeout=1).close(); print('reachable')
except OSError as e:
    print('unreachable (%s)' % (e.__class__.__name__)); sys.exit(1)" | sed 's/^/   client -> 192.0.2.1:8080: /'; }

step "6. Before the knock the service is unreachable from the client"
probe || true

step "7. Alice knocks from the client for tcp/8080 and waits until it opens"
ip netns exec $cli env PATH="$PATH" knock 192.0.2.1 tcp/8080 --knock-port "$port" --bundle alice.p12 \
  --server-cert gw1.pem --password-file bundle.pass --duration 8 --wait 15 | sed 's/^/   /'
probe || true
echo "   granted elements (single ports live in allow4_port, ranges in allow4):"; ip netns exec $srv nft list set inet certknock allow4_port | grep -E "elements|192" | sed 's/^/     /'

step "8. The grant expires in the kernel after 8 s; the service is unreachable again"
sleep 9
probe || true

step "9. Alice knocks again for 30 s; the security team revokes her certificate while the grant is open"
ip netns exec $cli env PATH="$PATH" knock 192.0.2.1 tcp/8080 --knock-port "$port" --bundle alice.p12 \
  --server-cert gw1.pem --password-file bundle.pass --duration 30 --wait 15 | sed 's/^/   /'
probe || true
knock-ca revoke --dir ca --cert alice.pem --reason keyCompromise | sed 's/^/   /'
knock-ca crl --dir ca --ca-password-env CA_PASS | grep Published | sed 's/^/   /'

step "10. The server's next CRL refresh closes the open grant at once, long before its 30 s are up"
for _ in $(seq 1 50); do grep -q '"why":"revoked"' audit.jsonl && break; sleep 0.2; done
grep '"event":"crl-accepted"' audit.jsonl | tail -n 1 | sed 's/^/   audit: /'
grep '"why":"revoked"' audit.jsonl | tail -n 1 | sed 's/^/   audit: /'
probe || true

step "11. Alice knocks again: refused (REVOKED); the server answered nothing, so the client only times out"
ip netns exec $cli env PATH="$PATH" knock 192.0.2.1 tcp/8080 --knock-port "$port" --bundle alice.p12 \
  --server-cert gw1.pem --password-file bundle.pass --save-packet knock2.bin --wait 4 2>&1 | tail -n 1 \
  | sed 's/^/   /' || true
for _ in $(seq 1 50); do grep -q '"reason":"REVOKED"' audit.jsonl && break; sleep 0.1; done
grep '"reason":"REVOKED"' audit.jsonl | tail -n 1 | sed 's/^/   audit: /'
probe || true

step "12. The admin asks why: knock-server verify runs the saved datagram through the pipeline (no firewall)"
CERTKNOCK_LOG_LEVEL=WARN knock-server verify --config config.yaml --source 192.0.2.2 --at packet knock2.bin \
  | sed 's/^/   /' || true
}

if [ "$(id -u)" = 0 ] && netns_ready && [ "${CERTKNOCK_DEMO_LOOPBACK:-}" != 1 ]; then
  netns_story
else
  echo; echo "(not root, or ip/nft/python3/libpcap missing: the loopback story, with grants recorded but not enforced)"
  loopback_story
fi

step "Done"
echo "   Everything is in $work (server.log, audit.jsonl, the CA in ca/)."
