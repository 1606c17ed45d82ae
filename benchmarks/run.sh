#!/usr/bin/env bash
# Runs the certknock JMH benchmarks with bounded defaults, prints JMH's table and a comparison with
# the crypto ceiling, and keeps the JSON results and the full log in benchmarks/results/.
#
#   benchmarks/run.sh                         everything, about 6 minutes
#   benchmarks/run.sh KnockBenchmark          only benchmarks matching a regular expression
#   benchmarks/run.sh -p keys=P256/P256 -i 5  JMH options; given ones replace the defaults below
#   benchmarks/run.sh --rebuild ...           rebuild the jar first
#
# Pass JMH options as separate words (-f 3, not -f3) so the defaults can step aside.
# Nothing here uses the network: Maven runs offline, and JMH's forked VMs talk to this one over
# loopback only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"

rebuild=false
if [[ "${1:-}" == "--rebuild" ]]; then
    rebuild=true
    shift
fi

find_jar() {
    compgen -G "$here/target/benchmarks-*-all.jar" | head -n 1 || true
}

jar="$(find_jar)"
if [[ -z "$jar" || "$rebuild" == true ]]; then
    echo "Building the benchmark jar (Maven offline) ..." >&2
    if ! (cd "$root" && ./mvnw -B -q -o -pl benchmarks -am package -DskipTests); then
        echo "The offline build failed. If dependencies are missing, fetch them once with:" >&2
        echo "  (cd '$root' && ./mvnw -B -q -pl benchmarks -am package -DskipTests)" >&2
        exit 1
    fi
    jar="$(find_jar)"
    if [[ -z "$jar" ]]; then
        echo "The build succeeded but no benchmarks-*-all.jar was found in $here/target" >&2
        exit 1
    fi
elif [[ -n "$(find "$here/src" "$root/knock-protocol/src/main" "$root/knock-testing/src/main" \
        -newer "$jar" -type f -print -quit)" ]]; then
    echo "Warning: sources changed since $jar was built; run with --rebuild to measure them." >&2
fi

# Defaults, each dropped when the caller gives the same option.
defaults=(-f 1 -wi 2 -w 2s -i 3 -r 3s -t 1)
args=()
for ((i = 0; i < ${#defaults[@]}; i += 2)); do
    option="${defaults[i]}"
    given=false
    for a in "$@"; do
        if [[ "$a" == "$option" ]]; then
            given=true
            break
        fi
    done
    if [[ "$given" == false ]]; then
        args+=("$option" "${defaults[i + 1]}")
    fi
done

results="$here/results"
mkdir -p "$results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
json="$results/jmh-$stamp.json"
log="$results/jmh-$stamp.log"

custom_result=false
for a in "$@"; do
    if [[ "$a" == "-rf" || "$a" == "-rff" ]]; then
        custom_result=true
    fi
done
if [[ "$custom_result" == false ]]; then
    args+=(-rf json -rff "$json")
fi

{
    echo "# certknock benchmarks, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "# host: $(uname -srm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
    echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || echo unknown)"
    echo "# java: $("$java" -version 2>&1 | head -n 1)"
    echo "# jar: $jar"
    echo "# args: ${args[*]} $*"
} | tee "$log"

"$java" -jar "$jar" "${args[@]}" "$@" 2>&1 | tee -a "$log"

# Other processes on the same cores lower and scatter the scores; say so in the log.
load_end="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
echo "# load average at the end: $load_end (1 min), on $(nproc) cores" | tee -a "$log"
if awk -v load="$load_end" -v cores="$(nproc)" 'BEGIN { exit !(load > cores - 0.5) }'; then
    echo "# Warning: the load suggests other work competed for the cores; scores are low and noisy, repeat when quiet." | tee -a "$log"
fi

if [[ "$custom_result" == true || ! -s "$json" ]]; then
    echo "Log: $log"
    exit 0
fi

# JMH writes one JSON value per line, so awk can read the scores without a JSON parser.
awk '
    function value(line) {
        sub(/^[^:]*: *"?/, "", line)
        sub(/"?,? *$/, "", line)
        return line
    }
    /"benchmark" :/ { name = value($0); sub(/.*\./, "", name); keys = ""; primary = 0 }
    /"keys" :/ { keys = value($0) }
    /"primaryMetric" :/ { primary = 1 }
    /"score" :/ && primary { score[name "|" keys] = value($0) + 0; primary = 0 }
    function row(suite, dh, verify,    d, v, ceiling, full, only) {
        d = score[dh "|"]
        v = score[verify "|"]
        full = score["openAndVerify|" suite]
        only = score["openOnly|" suite]
        if (d == 0 || v == 0 || full == 0) {
            return
        }
        ceiling = 1 / (1 / d + 1 / v)
        printf "%-16s %12.0f %12.0f %12.0f %14.0f %10.0f%%", suite, d, v, ceiling, full, 100 * full / ceiling
        if (only > 0) {
            printf " %12.0f %9.0f%%", only, 100 * only / d
        }
        printf "\n"
        shown++
    }
    END {
        header = sprintf("%-16s %12s %12s %12s %14s %11s %12s %10s", "keys", "DH", "verify",
            "ceiling", "openAndVerify", "of ceiling", "openOnly", "of DH")
        print ""
        print "Knock against its crypto ceiling, ops/s per core: ceiling = 1/(1/DH + 1/verify),"
        print "from PrimitivesBaseline (keys decoded per call, as per knock)."
        print header
        row("P256/P256", "ecdhP256Bc", "ecdsaP256VerifyBc")
        row("X25519/Ed25519", "x25519Bc", "ed25519VerifyBc")
        if (shown == 0) {
            print "(not computed: this run lacks openAndVerify or the matching primitives)"
        }
    }
' "$json" | tee -a "$log"

echo
echo "JSON: $json"
echo "Log:  $log"
