#!/usr/bin/env bash
# Makes a throwaway demo PKI with the openssl CLI: a P-256 root CA, a server certificate for
# gw1.demo.test with a P-256 knock key, a client certificate for alice carrying certknock port
# grants, PKCS#12 bundles and a CRL. Everything goes to certificates/demo/ (not committed): these keys
# protect nothing and are made anew each run. Real deployments use knock-ca (docs/GRANT-EXTENSION.md
# shows how any existing CA can issue certknock certificates instead).
#
# Usage: certificates/make-demo-pki.sh [OUTPUT_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/demo}"
arc=2.25.145796974053061458932107102370891577014
rm -rf "$out"
mkdir -p "$out"
cd "$out"
umask 077

# Bundle password: a file, never argv (openssl reads it with file:).
head -c 18 /dev/urandom | base64 > bundle-password.txt

cat > openssl.cnf <<CNF
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = certknock demo root
[ ca_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyAgreement
extendedKeyUsage = $arc.3
subjectAltName = DNS:gw1.demo.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = $arc.2
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
$arc.1 = ASN1:SEQUENCE:certknock_grants
[ certknock_grants ]
grants = SEQUENCE:grant_list
maxOpenSeconds = IMPLICIT:0,INTEGER:300
servers = IMPLICIT:1,SEQUENCE:server_list
[ grant_list ]
ssh = SEQUENCE:grant_ssh
web = SEQUENCE:grant_web
[ grant_ssh ]
protocol = ENUMERATED:6
firstPort = INTEGER:22
[ grant_web ]
protocol = ENUMERATED:6
firstPort = INTEGER:8080
lastPort = INTEGER:8081
[ server_list ]
gw1 = UTF8String:gw1.demo.test
[ ca ]
default_ca = demo_ca
[ demo_ca ]
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 7
crl_extensions = crl_ext
[ crl_ext ]
authorityKeyIdentifier = keyid
CNF
touch index.txt
echo 01 > crlnumber

openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
openssl req -new -x509 -key ca.key -days 30 -config openssl.cnf -extensions ca_ext -out ca.pem

issue() { # name subject extensions
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key" 2>/dev/null
  openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "0x$(openssl rand -hex 16 | sed 's/^./7/')" \
    -days 7 -sha256 -extfile openssl.cnf -extensions "$3" -out "$1.pem" 2>/dev/null
  openssl pkcs12 -export -inkey "$1.key" -in "$1.pem" -certfile ca.pem -name "$1" \
    -passout file:bundle-password.txt -out "$1.p12"
  rm "$1.csr"
}
issue server "/CN=gw1.demo.test" server_ext
issue alice "/CN=alice" client_ext

openssl ca -config openssl.cnf -gencrl -keyfile ca.key -cert ca.pem -out crl.pem 2>/dev/null
openssl crl -in crl.pem -outform DER -out crl.der

chmod 644 ./*.pem crl.der
echo "demo PKI in $out:"
ls -1 "$out"
