#!/usr/bin/env bash
# CI for the Debian packages (run by .ci/run after the test command, as root on a Debian machine): builds them
# through Maven from the jars the test run made, runs lintian (errors and warnings fail; packaging/deb/
# lintian-overrides explains the overridden tags), installs them with dpkg -i, checks the installed programs, the
# shipped configuration (refused while its files are missing, accepted once they are made as docs/DEPLOYMENT.md
# says), the units (systemd-analyze verify), the CRL unit's command line, log rotation, man pages and completion,
# and purges them again. Leaves the machine as it found it, apart from the apt packages it installs.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
start=$(date +%s)
step() { printf '== deb: %s (%ss)\n' "$*" "$(($(date +%s) - start))"; }
fail() { echo "deb: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "run as root (dpkg -i)"
for p in certknock-server certknock-client certknock-ca; do
  if dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q installed; then
    fail "$p is already installed here: this test installs and purges it; remove it first (dpkg --purge $p)"
  fi
done

step "apt-get install the build tools (lintian, asciidoctor) and the packages' dependencies"
# Java: the JDK 17 the build uses provides java17-runtime-headless. logrotate is the server's Recommends; man-db
# renders the man page below.
apt-get install -y -qq --no-install-recommends lintian asciidoctor man-db nftables libpcap0.8 libsystemd0 systemd logrotate \
  >/dev/null

step "build (./mvnw -Pdeb -pl packaging package)"
rm -rf packaging/target
./mvnw -B -q -Pdeb -pl packaging package
shopt -s nullglob
debs=(packaging/target/*.deb)
[ ${#debs[@]} = 3 ] || fail "expected 3 packages in packaging/target, found ${#debs[@]}"

step "lintian"
lintian --fail-on error,warning --display-info "${debs[@]}"

work=$(mktemp -d)
cleanup() {
  local rc=$?
  dpkg --purge certknock-server certknock-client certknock-ca >/dev/null 2>&1 || true
  rm -f /etc/certknock/server.p12 /etc/certknock/server.pass /etc/certknock/ca.pem
  rmdir /etc/certknock 2>/dev/null || true
  rm -rf -- "$work"
  exit "$rc"
}
trap cleanup EXIT

step "dpkg -i"
dpkg -i "${debs[@]}" >/dev/null
version=$(dpkg-query -W -f '${Version}' certknock-client)
version=${version%-1}
version=${version//\~/-}   # the Maven version again: 0.1.0~SNAPSHOT-1 is 0.1.0-SNAPSHOT

step "the programs"
export CERTKNOCK_CDS=off HOME="$work/home"
mkdir -p "$HOME"
knock --version
knock --version | grep -qxF "knock $version" || fail "knock --version does not say knock $version"
knock-server --version >/dev/null
knock-ca --version >/dev/null
# The client launcher's class-data sharing archive, made at first run in the user's cache (bin/lib/cds.sh).
CERTKNOCK_CDS=now knock --version >/dev/null
ls "$HOME"/.cache/certknock/cds/knock-*.jsa >/dev/null || fail "the knock launcher made no CDS archive"
man -l /usr/share/man/man1/knock.1.gz 2>&1 | grep -q 'knock' || fail "man page knock(1) does not render"
bash -c '. /usr/share/bash-completion/completions/knock && complete -p knock' >/dev/null \
  || fail "the knock completion does not register"

step "the shipped configuration: refused while its files are missing"
if out=$(knock-server check-config /etc/certknock/config.yaml 2>&1); then
  fail "check-config accepted the shipped configuration before the server bundle exists: $out"
fi
printf '%s\n' "$out" | grep -qE '/etc/certknock/config.yaml:[0-9]+:[0-9]+: .*/etc/certknock/server\.(p12|pass)' \
  || fail "check-config did not name the missing file with file:line:column: $out"
printf '%s\n' "$out" | head -n 2

step "configure as docs/DEPLOYMENT.md says, then check-config as root and as the certknock user"
[ "$(stat -c '%U:%G %a' /etc/certknock)" = "root:certknock 750" ] || fail "/etc/certknock is $(stat -c '%U:%G %a' /etc/certknock)"
head -c 18 /dev/urandom | base64 >"$work/ca.pass"
head -c 18 /dev/urandom | base64 >"$work/server.pass"
# The CA (certknock-ca, usually on another host) makes the server bundle; the server gets it, its password and
# the CA certificate, readable by root and the certknock group only.
knock-ca init --dir "$work/ca" --name 'CI certknock CA' --crl-url http://ca.example.test/certknock.crl \
  --ca-password-file "$work/ca.pass" >/dev/null
knock-ca issue-server --dir "$work/ca" gw1.example.test --out "$work/gw1.p12" \
  --ca-password-file "$work/ca.pass" --bundle-password-file "$work/server.pass" >/dev/null
install -m 0640 -o root -g certknock "$work/gw1.p12" /etc/certknock/server.p12
install -m 0640 -o root -g certknock "$work/server.pass" /etc/certknock/server.pass
install -m 0640 -o root -g certknock "$work/ca/ca.pem" /etc/certknock/ca.pem
knock-server check-config /etc/certknock/config.yaml
runuser -u certknock -- knock-server check-config /etc/certknock/config.yaml >/dev/null

step "systemd-analyze verify"
systemd-analyze verify /lib/systemd/system/certknock-server.service /lib/systemd/system/certknock-crl.service \
  /lib/systemd/system/certknock-crl.timer

step "the CRL unit's command line, as systemd would run it (\${...} from /etc/default/certknock-crl, %d)"
mkdir -p "$work/credentials"
cp "$work/ca.pass" "$work/credentials/ca-password"
exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/certknock-crl.service)
exec_start=${exec_start//'${CERTKNOCK_CA_DIR}'/$work/ca}
exec_start=${exec_start//'${CERTKNOCK_CRL_PUBLISH_DIR}'/$work/publish}
exec_start=${exec_start//'%d'/$work/credentials}
case $exec_start in *'$'* | *%*) fail "unexpanded variable or specifier in ExecStart: $exec_start" ;; esac
grep -q '^CERTKNOCK_CA_DIR=/' /etc/default/certknock-crl && grep -q '^CERTKNOCK_CRL_PUBLISH_DIR=/' /etc/default/certknock-crl \
  || fail "/etc/default/certknock-crl does not set both directories"
read -r -a argv <<<"$exec_start"
"${argv[@]}"
[ -s "$work/publish/certknock.crl" ] && [ -s "$work/publish/certknock.crl.pem" ] || fail "no CRL in the publish directory"

step "log rotation (a forced run with a throwaway state file)"
echo '{"event":"ci"}' >/var/log/certknock/audit.jsonl
chown certknock:certknock /var/log/certknock/audit.jsonl
logrotate -f -s "$work/logrotate.state" /etc/logrotate.d/certknock-server
[ -s /var/log/certknock/audit.jsonl.1 ] || fail "logrotate did not rotate audit.jsonl"
[ "$(stat -c '%U %a' /var/log/certknock/audit.jsonl)" = "certknock 600" ] || fail "the new audit.jsonl is not certknock's, 0600"

step "purge"
rm -f /etc/certknock/server.p12 /etc/certknock/server.pass /etc/certknock/ca.pem
dpkg --purge certknock-server certknock-client certknock-ca >/dev/null
for path in /etc/certknock /var/lib/certknock /var/log/certknock /usr/bin/knock /lib/systemd/system/certknock-crl.timer; do
  [ ! -e "$path" ] || fail "$path is still there after the purge"
done
dpkg-statoverride --list /etc/certknock >/dev/null 2>&1 && fail "the /etc/certknock stat override is still there"
step "done"
