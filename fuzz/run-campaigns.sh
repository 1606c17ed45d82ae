#!/usr/bin/env bash
# Fuzzing campaigns of every Jazzer @FuzzTest, one after another (each fuzzing JVM takes about 2 GB; outside CI).
#
#   fuzz/run-campaigns.sh [--time DURATION] [--runs N] [--only PATTERN] [--list]
#
#   --time DURATION  how long to fuzz each target, Jazzer's syntax: 90s, 5m, 2h (default 2m unless --runs is given)
#   --runs N         stop each target after N executions (with --time: whichever comes first)
#   --only PATTERN   only targets whose "Class#method" matches this extended regular expression
#   --list           print the targets and exit
#
# Environment: FUZZ_LOCK=FILE wraps each Maven call in `flock FILE`; MVN_FLAGS (default "-B") e.g. "-B -o".
# Fuzzing instruments our classes and Bouncy Castle (the pom's `fuzzing` profile, active with JAZZER_FUZZ).
#
# Per target it prints executions, seconds fuzzed, exec/s, coverage (libFuzzer's cov = edges, ft = features),
# how many classes were instrumented (ours/Bouncy Castle's), the generated corpus (files/size) and findings. A
# finding's input lands in the target's regression inputs directory
# (src/test/resources/<package>/<Class>Inputs/<method>/), which a plain build (CI) replays; the script copies it
# there if Jazzer left it elsewhere. Commit it with the fix. The generated corpus stays in <module>/.cifuzz-corpus/
# (git-ignored); fuzz/minimise-corpus.sh then minimises it by coverage into committed regression inputs
# (corpus-<sha1> files in the same inputs directory), which CI replays. Logs: fuzz/logs/ (git-ignored).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

# module|test class (simple name)|method
TARGETS=(
    "knock-protocol|KnockOpenerFuzzTest|anyDatagram"
    "knock-protocol|KnockOpenerFuzzTest|anySealedContent"
    "knock-protocol|KnockOpenerFuzzTest|anyReplyDatagram"
    "knock-protocol|KnockOpenerFuzzTest|anyReplyPlaintext"
    "knock-protocol|GrantsExtensionFuzzTest|fuzz"
    "knock-server|FrameParserFuzzTest|anyFrame"
    "knock-server|CrlFuzzTest|anyCrlBody"
    "knock-server|ChainValidatorFuzzTest|anyPresentedChain"
    "knock-server|ConfigLoaderFuzzTest|anyConfigText"
    "knock-client-cli|TargetStoreFuzzTest|anyTargetsFile"
)

time_limit=""
runs=""
only=""
while [ $# -gt 0 ]; do
    case "$1" in
        --time) time_limit=${2:?--time needs a duration, e.g. 5m}; shift 2 ;;
        --runs) runs=${2:?--runs needs a number}; shift 2 ;;
        --only) only=${2:?--only needs a pattern}; shift 2 ;;
        --list) for t in "${TARGETS[@]}"; do IFS='|' read -r m c f <<<"$t"; echo "$m $c#$f"; done; exit 0 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done
if [ -n "$runs" ] && ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "--runs must be a positive whole number, not '$runs'" >&2; exit 2
fi
if [ -z "$time_limit" ]; then
    # Jazzer stops at whichever limit comes first: with --runs alone, the time limit must not cut it short.
    if [ -n "$runs" ]; then time_limit=1000h; else time_limit=2m; fi
fi

lock=()
if [ -n "${FUZZ_LOCK:-}" ]; then lock=(flock "$FUZZ_LOCK"); fi
read -r -a mvn_flags <<<"${MVN_FLAGS:--B}"

mkdir -p fuzz/logs
summary=fuzz/logs/summary-$(date -u +%Y%m%dT%H%M%SZ).txt
printf '%-48s %12s %6s %9s %7s %7s %10s %14s %8s %s\n' target executions secs exec/s cov ft "instr'd" corpus findings \
    result | tee "$summary"

failed=0
for t in "${TARGETS[@]}"; do
    IFS='|' read -r module class method <<<"$t"
    if [ -n "$only" ] && ! [[ "$class#$method" =~ $only ]]; then continue; fi
    source=$(find "$module/src/test/java" -name "$class.java" | head -n 1)
    if [ -z "$source" ]; then echo "$class.java not found in $module" >&2; exit 1; fi
    package_dir=$(dirname "${source#"$module/src/test/java/"}")
    inputs="$module/src/test/resources/$package_dir/${class}Inputs/$method"
    fqcn="${package_dir//\//.}.$class"
    corpus="$module/.cifuzz-corpus/$fqcn/$method"
    mkdir -p "$inputs"
    before=$(mktemp)
    ls -1 "$inputs" | sort >"$before"
    log="fuzz/logs/$class-$method-$(date -u +%Y%m%dT%H%M%SZ).log"

    env_vars=(JAZZER_FUZZ=1 "JAZZER_MAX_DURATION=$time_limit")
    if [ -n "$runs" ]; then env_vars+=("JAZZER_MAX_EXECUTIONS=$runs"); fi
    status=ok
    if ! env "${env_vars[@]}" "${lock[@]}" ./mvnw "${mvn_flags[@]}" -pl "$module" -am test \
            -Dtest="$class#$method" -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1; then
        status=FAILED
        failed=1
    fi

    # libFuzzer's last status line: "#416547 DONE cov: 1942 ft: 4665 corp: 718/141Kb ... exec/s: 16021 ..."
    last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -n 1 || true)
    execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
    cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")
    rate=$(sed -nE 's/.* exec\/s: ([0-9]+).*/\1/p' <<<"$last")
    secs=$(sed -nE 's/^Done [0-9]+ runs in ([0-9]+) second.*/\1/p' "$log" | tail -n 1)
    # classes Jazzer instrumented: ours / Bouncy Castle's
    ours=$(grep -c 'INFO: Instrumented dev\.certknock\.' "$log" || true)
    bc=$(grep -c 'INFO: Instrumented org\.bouncycastle\.' "$log" || true)

    # Findings: inputs Jazzer wrote (crash-*, timeout-*, slow-unit-*, oom-*), wherever it wrote them.
    findings=0
    while IFS= read -r artifact; do
        [ -f "$artifact" ] || continue
        name=$(basename "$artifact")
        if [ ! -f "$inputs/$name" ]; then cp "$artifact" "$inputs/$name"; fi
    done < <(grep -oE "[^ '\"]*(crash|timeout|slow-unit|oom)-[0-9a-f]{40}" "$log" | sort -u || true)
    new=$(comm -13 "$before" <(ls -1 "$inputs" | sort) | grep -E '^(crash|timeout|slow-unit|oom)-' || true)
    rm -f "$before"
    if [ -n "$new" ]; then
        findings=$(wc -l <<<"$new")
        while IFS= read -r f; do echo "  finding: $inputs/$f" >>"$summary.findings"; done <<<"$new"
    fi
    if [ -d "$corpus" ]; then
        corpus_size="$(find "$corpus" -type f | wc -l)/$(du -sh "$corpus" | cut -f1)"
    else
        corpus_size=-
    fi
    printf '%-48s %12s %6s %9s %7s %7s %10s %14s %8s %s\n' "$module $class#$method" "${execs:--}" "${secs:--}" \
        "${rate:--}" "${cov:--}" "${ft:--}" "$ours/$bc" "$corpus_size" "$findings" "$status ($log)" | tee -a "$summary"
done

if [ -f "$summary.findings" ]; then
    cat "$summary.findings" | tee -a "$summary"
    rm -f "$summary.findings"
    echo "Findings were saved as regression inputs: fix them, then commit the inputs with the fix." | tee -a "$summary"
fi
echo "summary: $summary (date $(date -u +%Y-%m-%dT%H:%M:%SZ), limit per target: ${runs:+$runs executions, }$time_limit)"
exit $failed
