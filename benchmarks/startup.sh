#!/usr/bin/env bash
# Start-up time of the knock client (bin/knock), with hyperfine: knock --help, knock --version and a dry-run
# knock, each three ways: the launcher with its CDS archive, the launcher without it (CERTKNOCK_CDS=off: its
# JVM options only), and "before", the launcher's old command line (java -jar, no archive, default JIT); and
# knock-ca inspect with and without its archive. Beside them the same run's floors: a bare `java -version`
# (the JVM's own start) and, when installed, fwknop's C client (`fwknop --help`).
# Not run by CI. Sends nothing: the dry run seals a knock for 127.0.0.1 and sends no packet.
#
#   benchmarks/startup.sh                 # 5 warm-up runs, 30 timed runs per command
#   benchmarks/startup.sh -r 50           # -w/--warmup and -r/--runs replace the defaults (-m/-M replace -r);
#                                         # other hyperfine options are passed on
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java benchmarks/startup.sh   # another JDK (the launchers take JAVA)
#
# Needs hyperfine (apt-get install -y hyperfine; fwknop-client optional) and the built jars
# (./mvnw -q -o package -DskipTests -pl knock-client-cli,ca-tools -am). Makes a throwaway PKI with bin/knock-ca
# and its own cache directory (so the archive is made fresh for this jar and JDK), both deleted at the end.
# Writes benchmarks/results/startup-<UTC time>.json (hyperfine --export-json) and .log (machine, JDK, load).
# The figures mean something only on a quiet machine: on a shared one, take the lock other heavy jobs take
# (flock /tmp/mvn.lock benchmarks/startup.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v hyperfine >/dev/null || { echo "startup.sh: needs hyperfine (apt-get install -y hyperfine)" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/certknock-startup.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
results="$root/benchmarks/results"
mkdir -p "$results"
stamp="$(date -u +%Y-%m-%dT%H%M%SZ)"
json="$results/startup-$stamp.json"
log="$results/startup-$stamp.log"

export HOME="$work/home" XDG_CACHE_HOME="$work/cache" CERTKNOCK_TARGETS="$work/targets.yaml"
unset CERTKNOCK_JAVA_OPTS CERTKNOCK_CDS
mkdir -p "$HOME"
cd "$work"
umask 077
printf 'ca password\n' >ca.pass
printf 'bundle password\n' >bundle.pass
kca() { CERTKNOCK_CDS=off "$root/bin/knock-ca" "$@" >/dev/null; }
kca init --dir ca --name 'startup benchmark CA' --crl-url http://ca.example.test/c.crl --ca-password-file ca.pass
kca issue-server --dir ca gw1.example.test --ip 127.0.0.1 --out gw1.p12 --ca-password-file ca.pass --bundle-password-file bundle.pass
kca issue-client --dir ca alice --grant tcp/22 --max-open 300 --days 1 --out alice.p12 \
  --ca-password-file ca.pass --bundle-password-file bundle.pass

knock="$root/bin/knock"
dry="$knock 127.0.0.1 tcp/22 --bundle alice.p12 --server-cert gw1.pem --password-file bundle.pass --dry-run"
jar=$(ls "$root"/knock-client-cli/target/knock-client-cli-*-all.jar | head -n 1)
cajar=$(ls "$root"/ca-tools/target/ca-tools-*-all.jar | head -n 1)
java=${JAVA:-java}
before="$java -jar $jar"
drybefore="$before 127.0.0.1 tcp/22 --bundle alice.p12 --server-cert gw1.pem --password-file bundle.pass --dry-run"
# The archives, made now (once) in the foreground; then the timed runs find them.
CERTKNOCK_CDS=now "$knock" --version >/dev/null
CERTKNOCK_CDS=now "$root/bin/knock-ca" --version >/dev/null
ls "$XDG_CACHE_HOME"/certknock/cds/knock-*.jsa "$XDG_CACHE_HOME"/certknock/cds/knock-ca-*.jsa >/dev/null \
  || { echo "startup.sh: no archive was made" >&2; exit 1; }
$dry | grep -q '^dry run, nothing sent' || { echo "startup.sh: the dry run failed: $($dry 2>&1)" >&2; exit 1; }

{
  echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "kernel:  $(uname -srm)"
  echo "cores:   $(nproc)"
  echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
  echo "java:    $("$java" -version 2>&1 | head -n 2 | tail -n 1)"
  echo "git:     $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (start)"
} | tee "$log"

peer=()
if command -v fwknop >/dev/null; then
  peer=(-n 'fwknop --help (C client, peer floor)' 'fwknop --help')
fi
# The defaults (-w 5 -r 30), replaced by the same option given here (hyperfine refuses an option given twice);
# -m/--min-runs or -M/--max-runs replace -r (hyperfine refuses them beside it). Everything else is passed on.
warmup=(-w 5) runs=(-r 30) opts=()
while [ $# -gt 0 ]; do
  case $1 in
    -w | --warmup) [ $# -ge 2 ] || { echo "startup.sh: $1 needs a value" >&2; exit 2; }; warmup=("$1" "$2"); shift 2 ;;
    --warmup=*) warmup=("$1"); shift ;;
    -r | --runs) [ $# -ge 2 ] || { echo "startup.sh: $1 needs a value" >&2; exit 2; }; runs=("$1" "$2"); shift 2 ;;
    --runs=*) runs=("$1"); shift ;;
    -m | --min-runs | -M | --max-runs | --min-runs=* | --max-runs=*) runs=(); opts+=("$1"); shift ;;
    *) opts+=("$1"); shift ;;
  esac
done
hyperfine -N "${warmup[@]}" ${runs[@]+"${runs[@]}"} --export-json "$json" ${opts[@]+"${opts[@]}"} \
  -n 'java -version (JVM floor)' "$java -version" \
  ${peer[@]+"${peer[@]}"} \
  -n 'knock --help, archive' "$knock --help" \
  -n 'knock --help, no archive' "env CERTKNOCK_CDS=off $knock --help" \
  -n 'knock --help, before' "$before --help" \
  -n 'knock --version, archive' "$knock --version" \
  -n 'knock --version, no archive' "env CERTKNOCK_CDS=off $knock --version" \
  -n 'knock --version, before' "$before --version" \
  -n 'knock dry run, archive' "$dry" \
  -n 'knock dry run, no archive' "env CERTKNOCK_CDS=off $dry" \
  -n 'knock dry run, before' "$drybefore" \
  -n 'knock-ca inspect, archive' "$root/bin/knock-ca inspect alice.pem" \
  -n 'knock-ca inspect, before' "$java -jar $cajar inspect alice.pem" 2>&1 | tee -a "$log"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (end)" | tee -a "$log"
echo "wrote $json and $log"
