#!/usr/bin/env bash
# The certknock demo: builds what it needs, makes a throwaway PKI with knock-ca, runs knock-server on
# loopback, knocks with knock, then revokes the certificate and shows the next knock refused. Every step
# prints what it does. Sends traffic only to 127.0.0.1. Safe to run repeatedly.
#
# This is the unprivileged story (UDP socket capture, `log` firewall backend: grants are recorded, not
# enforced). The network-edge release adds pcap capture and nftables in a network namespace.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${CERTKNOCK_DEMO_DIR:-$root/demo-work}"
port="${CERTKNOCK_DEMO_PORT:-62201}"
step() { printf '\n== %s\n' "$*"; }
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

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
knock-ca issue-server --dir ca gw1.demo.test --out gw1.p12 --ca-password-env CA_PASS --out-password-file bundle.pass \
  | sed 's/^/   /'
knock-ca issue-client --dir ca alice --grant tcp/22 --grant tcp/8080-8081 --max-open 30 --server gw1.demo.test \
  --days 30 --out alice.p12 --ca-password-env CA_PASS --out-password-file bundle.pass | sed 's/^/   /'
knock-ca crl --dir ca --ca-password-env CA_PASS | sed 's/^/   /'

step "3. The server's configuration, checked before it starts"
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
  address: 127.0.0.1
  port: $port
firewall:
  backend: log
logging:
  audit: audit.jsonl
CFG
knock-server check-config config.yaml | sed 's/^/   /'

step "4. knock-server starts on udp 127.0.0.1:$port (log: $work/server.log)"
knock-server run --config config.yaml > server.log 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "started" server.log && break; sleep 0.2; done
grep -q "started" server.log || { echo "the server did not start:"; cat server.log; exit 1; }
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

step "Done"
echo "   Everything is in $work (server.log, audit.jsonl, the CA in ca/)."
