#!/usr/bin/env bash
# Regenerates the class lists the launchers' CDS archives are made from (bin/lib/cds.sh):
#   knock-client-cli/src/main/cds/knock.classlist   and   ca-tools/src/main/cds/knock-ca.classlist
# by running the built jars on typical commands with -XX:DumpLoadedClassList, in a throwaway directory, and
# merging the lists (first occurrence kept). Run it after changes that load other classes at start-up, then commit
# the lists; a class missing from a list is only loaded the slow way, never an error (KnockLauncherIT checks the
# list still covers a dry run). Sends nothing but two knocks to 127.0.0.1 port 1 (nothing listens there) and
# tries TCP port 1 there for a second (ssh-proxy).
# Build first: ./mvnw -q -o package -DskipTests -pl knock-client-cli,ca-tools -am
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/certknock-classlist.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
export CERTKNOCK_CDS=off HOME="$work/home" XDG_CACHE_HOME="$work/home/.cache" CERTKNOCK_TARGETS="$work/targets.yaml"
mkdir -p "$HOME"
cd "$work"
umask 077
n=0
# run TOOL ARGS...: one JVM whose loaded classes go to the next numbered list.
run() {
  local tool=$1
  shift
  n=$((n + 1))
  if ! CERTKNOCK_JAVA_OPTS="-XX:DumpLoadedClassList=$work/$tool.$(printf '%02d' "$n").lst" \
      "$root/bin/$tool" "$@" >"$work/out" 2>&1; then
    echo "make-classlists: $tool $* failed:" >&2
    cat "$work/out" >&2
    exit 1
  fi
}
# run_expect CODE TOOL ARGS...: as run, for a command that is to end with exit code CODE.
run_expect() {
  local code=$1 tool=$2 rc=0
  shift 2
  n=$((n + 1))
  CERTKNOCK_JAVA_OPTS="-XX:DumpLoadedClassList=$work/$tool.$(printf '%02d' "$n").lst" \
    "$root/bin/$tool" "$@" >"$work/out" 2>&1 </dev/null || rc=$?
  if [ "$rc" != "$code" ]; then
    echo "make-classlists: $tool $* exited $rc, not $code:" >&2
    cat "$work/out" >&2
    exit 1
  fi
}
# merge TOOL OUT: the numbered lists of TOOL, in order, each line once, under a header.
merge() {
  {
    printf '# %s\n' "Classes the launcher's CDS archive for $1 holds (bin/lib/cds.sh); made by bin/lib/make-classlists.sh" \
      "with $(java -version 2>&1 | head -n 1 | tr -d '"'). Commit after regenerating."
    cat "$work/$1".*.lst | grep -v '^#' | awk '!seen[$0]++'
  } >"$2"
  printf '%s: %s lines\n' "$2" "$(grep -vc '^#' "$2")"
}

printf 'ca password\n' >ca.pass
printf 'bundle password\n' >bundle.pass
run knock-ca --help
run knock-ca --version
run knock-ca init --dir ca --name 'classlist CA' --crl-url http://ca.example.test/c.crl --ca-password-file ca.pass
run knock-ca issue-server --dir ca gw1.example.test --ip 127.0.0.1 --out gw1.p12 --ca-password-file ca.pass \
  --bundle-password-file bundle.pass
run knock-ca issue-client --dir ca alice --grant tcp/22 --grant tcp/1 --max-open 300 --days 30 --out alice.p12 \
  --ca-password-file ca.pass --bundle-password-file bundle.pass
run knock-ca crl --dir ca --ca-password-file ca.pass
run knock-ca list --dir ca
run knock-ca inspect alice.pem

files=(--bundle alice.p12 --server-cert gw1.pem --password-file bundle.pass)
run knock --help
run knock --version
run knock 127.0.0.1 tcp/22 "${files[@]}" --dry-run
run knock 127.0.0.1 tcp/22 "${files[@]}" --dry-run -v --save-packet knock.bin
run knock target add gw1 --host 127.0.0.1 --grant tcp/22 --bundle alice.p12 --server-cert gw1.pem
run knock target list
run knock gw1 --dry-run --password-file bundle.pass
run knock 127.0.0.1 tcp/22 "${files[@]}" --knock-port 1 --reply-timeout 0.2
# ssh's ProxyCommand: knocks (127.0.0.1 port 1 again; alice is granted tcp/1 for it), then waits a second for
# TCP port 1, which refuses: exit 10.
run_expect 10 knock ssh-proxy 127.0.0.1 1 "${files[@]}" --knock-port 1 --reply-timeout 0.2 --timeout 1
# A certificate that expires within a day: the warning's classes (and string concatenations) too.
run knock-ca issue-client --dir ca carol --grant tcp/22 --days 1 --out carol.p12 \
  --ca-password-file ca.pass --bundle-password-file bundle.pass
run knock 127.0.0.1 tcp/22 --bundle carol.p12 --server-cert gw1.pem --password-file bundle.pass --dry-run

merge knock-ca "$root/ca-tools/src/main/cds/knock-ca.classlist"
merge knock "$root/knock-client-cli/src/main/cds/knock.classlist"
