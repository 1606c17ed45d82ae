#!/usr/bin/env bash
# The certknock demo: builds what it needs, makes a throwaway PKI and walks through a knock.
# Every step prints what it does. Safe to run repeatedly; sends no traffic off this machine.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${CERTKNOCK_DEMO_DIR:-$root/demo-work}"
step() { printf '\n== %s\n' "$*"; }

step "1. Build certknock (Maven wrapper; needs only a JDK 17+)"
(cd "$root" && ./mvnw -B -q package -DskipTests)
"$root/bin/knock-ca" --version | head -n 1
"$root/bin/knock" --version | head -n 1
"$root/bin/knock-server" --version | head -n 1

step "2. A throwaway PKI: root CA, server gw1.demo.test, client alice granted tcp/22 and tcp/8080-8081"
"$root/certificates/make-demo-pki.sh" "$work/pki" >/dev/null
echo "made in $work/pki: ca.pem, server.p12, server.pem, alice.p12, crl.der (bundle password in bundle-password.txt)"

step "3. Any standard tool accepts these certificates: openssl verify with the CRL"
(cd "$work/pki" && openssl verify -CAfile ca.pem -crl_check -CRLfile crl.pem alice.pem server.pem)

step "4. Alice's certificate carries her port grants in the certknock extension (DER, hex)"
(cd "$work/pki" && openssl asn1parse -in alice.pem | grep -A1 '2.25.145796974053061458932107102370891577014.1' \
  | tail -n 1 | sed 's/.*\[HEX DUMP\]:/  /')

step "Done"
echo "The knock itself, the server and the firewall join this demo as they are built (README.md, 'Status')."
