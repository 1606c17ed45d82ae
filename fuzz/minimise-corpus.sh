#!/usr/bin/env bash
# Minimises each Jazzer @FuzzTest's generated corpus by coverage and commits the result as regression inputs, which a
# plain build (CI) replays (one command after a campaign of fuzz/run-campaigns.sh; outside CI).
#
#   fuzz/minimise-corpus.sh [--only PATTERN] [--no-verify] [--list]
#
#   --only PATTERN   only targets whose "Class#method" matches this extended regular expression
#   --no-verify      skip the merges that check the committed inputs keep all the coverage
#   --list           print the targets (those of fuzz/run-campaigns.sh) and exit
#
# Environment: FUZZ_LOCK=FILE wraps each Maven and merge call in `flock FILE`; MVN_FLAGS (default "-B") e.g. "-B -o";
# JAZZER_INSTRUMENT (default "dev.certknock.**:org.bouncycastle.**", as the pom's `fuzzing` profile); MAX_KB (default
# 2048): warn when a target's committed corpus entries exceed this many KiB. Merges run under `nice -n 19`.
#
# Per module it runs the fuzz test classes once in a plain build (regression mode: compiles, replays the committed
# inputs, and surefire's report gives the test class path). Per target it runs libFuzzer's merge through the
# standalone Jazzer driver (com.code_intelligence.jazzer.Jazzer --target_class/--target_method, -merge=1 OUT IN...):
# OUT starts with the hand-named inputs of src/test/resources/<package>/<Class>Inputs/<method>/ (kept as they are,
# their coverage counted first); IN is the generated corpus <module>/.cifuzz-corpus/<Class FQN>/<method>/ and the
# corpus entries committed before. The inputs the merge adds (smallest first, each only if it brings a coverage
# feature the others lack) replace the earlier corpus entries as corpus-<sha1> (byte-exact, the name is the SHA-1 of
# the content). Unless --no-verify, everything is merged again into the new set, which must add no feature. A file's
# features are measured after the files before it (caches, lazy initialisation), so a few can depend on the order:
# an input this second order adds is committed too (at most 3 rounds). "verify" shows ok, ok+N (N inputs added so),
# rerun+Fft (F features that only a committed input brings when run a second time: state of the target, no input
# missing) or MISSING+Fft (a failure). Finally the plain build runs again: every committed input must pass. Prints per target: corpus files before (generated+committed), corpus entries committed, their
# bytes, features/edges the merge added over the hand-named inputs, the coverage of all the merge's inputs (cov/ft)
# and the verification; per module the fuzz test classes' replay seconds before and after. Logs: fuzz/logs/.
# Do not run it under `flock FILE` while FUZZ_LOCK=FILE: the script takes the lock itself, step by step.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

only=""
verify=1
while [ $# -gt 0 ]; do
    case "$1" in
        --only) only=${2:?--only needs a pattern}; shift 2 ;;
        --no-verify) verify=0; shift ;;
        --list) fuzz/run-campaigns.sh --list; exit 0 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) echo "unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

lock=()
if [ -n "${FUZZ_LOCK:-}" ]; then lock=(flock "$FUZZ_LOCK"); fi
read -r -a mvn_flags <<<"${MVN_FLAGS:--B}"
instrument=${JAZZER_INSTRUMENT:-dev.certknock.**:org.bouncycastle.**}
max_kb=${MAX_KB:-2048}

# The targets, one list for both scripts: "module Class#method" lines.
targets=()
while read -r module target; do
    if [ -n "$only" ] && ! [[ "$target" =~ $only ]]; then continue; fi
    targets+=("$module|${target%%#*}|${target#*#}")
done < <(fuzz/run-campaigns.sh --list)
if [ ${#targets[@]} -eq 0 ]; then echo "no target matches '$only'" >&2; exit 2; fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p fuzz/logs
summary=fuzz/logs/minimise-$stamp.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

modules=()
for t in "${targets[@]}"; do
    IFS='|' read -r m _ _ <<<"$t"
    if [[ " ${modules[*]:-} " != *" $m "* ]]; then modules+=("$m"); fi
done

# Runs the module's selected fuzz test classes in a plain build; prints "Class seconds" from surefire's reports.
plain_run() {
    local module=$1 log=$2 classes=() t m c
    for t in "${targets[@]}"; do
        IFS='|' read -r m c _ <<<"$t"
        if [ "$m" = "$module" ] && [[ " ${classes[*]:-} " != *" $c "* ]]; then classes+=("$c"); fi
    done
    local list
    list=$(IFS=,; echo "${classes[*]}")
    if ! "${lock[@]}" ./mvnw "${mvn_flags[@]}" -pl "$module" -am test -Dtest="$list" \
            -Dsurefire.failIfNoSpecifiedTests=false >"$log" 2>&1; then
        echo "plain build of $module ($list) failed: a committed input fails or the build broke; see $log" >&2
        return 1
    fi
    for c in "${classes[@]}"; do
        local report
        report=$(find "$module/target/surefire-reports" -name "TEST-*.$c.xml" | head -n 1)
        echo "$c $(sed -nE 's/.*<testsuite [^>]*time="([0-9.]+)".*/\1/p' "$report" | head -n 1)"
    done
}

# libFuzzer's merge (-merge=1 OUT IN...) of one target, in its module directory (the fuzz tests read files relative to
# it), with the JVM's and libFuzzer's temporary files in the target's work directory. Jazzer adds the generated corpus
# and the inputs directory (as on the class path) to the inputs by itself, which changes nothing here.
merge() {
    (cd "$module" && env TMPDIR="$dir/tmp" nice -n 19 "${lock[@]}" java -Djava.io.tmpdir="$dir/tmp" \
        -cp "$cp" com.code_intelligence.jazzer.Jazzer --target_class="$fqcn" --target_method="$method" \
        --instrumentation_includes="$instrument" -rss_limit_mb=0 -merge=1 "$@")
}

# Copies the files a merge wrote into DIR (those not listed in NAMES; libFuzzer names them by the SHA-1 of their
# content) into INPUTS as corpus-<sha1>, byte-exact, unless INPUTS holds that content already (under any name); sets
# `copied` to how many it copied.
commit_new() {
    local dir=$1 names=$2 inputs=$3 f name sha known
    copied=0
    known=$(find "$inputs" -maxdepth 1 -type f -exec sha1sum {} + | cut -d' ' -f1)
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        name=$(basename "$f")
        if grep -qxF "$name" "$names"; then continue; fi
        sha=$(sha1sum "$f" | cut -d' ' -f1)
        if [ "$sha" != "$name" ]; then echo "unexpected merge output $f (SHA-1 $sha)" >&2; exit 1; fi
        if grep -qxF "$sha" <<<"$known"; then continue; fi
        cp "$f" "$inputs/corpus-$sha"
        copied=$((copied + 1))
        known+=$'\n'"$sha"
    done
}

# Maven copies resources into target/test-classes but never deletes one there: drop the copied corpus entries of the
# selected targets, so that the plain build replays exactly what src/test/resources holds.
drop_copied_entries() {
    local module=$1 t m class method source package_dir
    for t in "${targets[@]}"; do
        IFS='|' read -r m class method <<<"$t"
        [ "$m" = "$module" ] || continue
        source=$(find "$module/src/test/java" -name "$class.java" | head -n 1)
        package_dir=$(dirname "${source#"$module/src/test/java/"}")
        if [ -d "$module/target/test-classes/$package_dir/${class}Inputs/$method" ]; then
            find "$module/target/test-classes/$package_dir/${class}Inputs/$method" -maxdepth 1 -type f -name 'corpus-*' \
                -delete
        fi
    done
}

printf '%-48s %9s %9s %9s %6s %6s %6s %6s %7s %s\n' target corpus committed bytes +ft +cov cov ft verify result |
    tee "$summary"
failed=0
for module in "${modules[@]}"; do
    echo "== $module: plain build (compiles, replays the committed inputs)" >&2
    drop_copied_entries "$module"
    plain_run "$module" "fuzz/logs/minimise-$stamp-$module-before.log" | sed 's/^/  before: replay seconds (surefire) /' |
        tee -a "$summary"
    for t in "${targets[@]}"; do
        IFS='|' read -r m class method <<<"$t"
        [ "$m" = "$module" ] || continue
        source=$(find "$module/src/test/java" -name "$class.java" | head -n 1)
        package_dir=$(dirname "${source#"$module/src/test/java/"}")
        fqcn="${package_dir//\//.}.$class"
        inputs="$module/src/test/resources/$package_dir/${class}Inputs/$method"
        corpus="$module/.cifuzz-corpus/$fqcn/$method"
        report="$module/target/surefire-reports/TEST-$fqcn.xml"
        # The test class path as surefire used it (target/classes of the reactor modules, the jars of ~/.m2).
        cp=$(grep -oE 'name="surefire\.test\.class\.path" value="[^"]*"' "$report" | head -n 1 |
            sed -E 's/^.*value="//; s/"$//; s/&amp;/\&/g')
        if [ -z "$cp" ]; then echo "no test class path in $report" >&2; exit 1; fi

        dir="$work/$class-$method"
        mkdir -p "$dir/out" "$dir/old" "$dir/tmp" "$inputs"
        for f in "$inputs"/*; do
            [ -f "$f" ] || continue
            if [[ "$(basename "$f")" =~ ^corpus-[0-9a-f]{40}$ ]]; then cp "$f" "$dir/old/"; else cp "$f" "$dir/out/"; fi
        done
        ls -1 "$dir/out" >"$dir/seed-names"
        seeds=$(wc -l <"$dir/seed-names")
        generated=0
        if [ -d "$corpus" ]; then generated=$(find "$corpus" -type f | wc -l); else mkdir -p "$dir/empty"; corpus="$dir/empty"; fi
        old=$(find "$dir/old" -type f | wc -l)
        log="fuzz/logs/minimise-$stamp-$class-$method.log"

        status=ok
        if ! merge "$dir/out" "$ROOT/$corpus" "$dir/old" >"$log" 2>&1; then
            echo "merge of $class#$method failed, see $log" >&2; status=FAILED; failed=1
        fi
        # "MERGE-OUTER: 12 new files with 345 new features added; 200 new coverage edges"
        added=$(grep -aE '^MERGE-OUTER: [0-9]+ new files with' "$log" | tail -n 1 || true)
        add_ft=$(sed -nE 's/.* with ([0-9]+) new features.*/\1/p' <<<"$added")
        add_cov=$(sed -nE 's/.*; ([0-9]+) new coverage edges.*/\1/p' <<<"$added")
        done_line=$(grep -aE '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
        cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
        ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
        attempts=$(grep -acE '^MERGE-OUTER: attempt [0-9]+' "$log" || true)
        if [ "$attempts" -gt 1 ]; then
            # An input crashed the merge's inner run (libFuzzer then retries without it): a finding, not noise.
            echo "$class#$method: the merge needed $attempts attempts, an input crashed it; see $log" >&2
            status=FAILED; failed=1
        fi
        if [ "$status" = ok ] && [ -z "$added" ]; then
            echo "$class#$method: no merge result in $log" >&2; status=FAILED; failed=1
        fi

        if [ "$status" = ok ]; then
            # The new set replaces the corpus entries committed before (they were among the merge's inputs).
            find "$inputs" -maxdepth 1 -type f -regextype posix-extended -regex '.*/corpus-[0-9a-f]{40}' -delete
            commit_new "$dir/out" "$dir/seed-names" "$inputs"
        fi

        verified=-
        if [ "$status" = ok ] && [ "$verify" = 1 ]; then
            # Everything merged again, with the committed set first, must add nothing. A file's features are
            # measured in one JVM after the files before it, so a few depend on the order (caches, lazy
            # initialisation): an input the merge adds in this other order is committed too (at most 3 rounds).
            # Features that only an input already committed brings, run a second time (Jazzer passes the generated
            # corpus and the inputs directory once more), are state of the target, not a missing input.
            topped=0
            for round in 1 2 3; do
                rm -rf "$dir/check" && mkdir -p "$dir/check" && cp "$inputs"/* "$dir/check/"
                ls -1 "$dir/check" >"$dir/check-names"
                if ! merge "$dir/check" "$ROOT/$corpus" "$dir/old" >"$log.verify$round" 2>&1; then
                    echo "verification merge of $class#$method failed, see $log.verify$round" >&2
                    verified=FAILED; failed=1; break
                fi
                line=$(grep -aE '^MERGE-OUTER: [0-9]+ new files with' "$log.verify$round" | tail -n 1 || true)
                files=$(sed -nE 's/^MERGE-OUTER: ([0-9]+) new files.*/\1/p' <<<"$line")
                features=$(sed -nE 's/.* with ([0-9]+) new features.*/\1/p' <<<"$line")
                if [ -z "$files" ]; then verified='?'; failed=1; break; fi
                if [ "$files" = 0 ]; then
                    verified=ok; if [ "$topped" -gt 0 ]; then verified="ok+$topped"; fi
                    break
                fi
                commit_new "$dir/check" "$dir/check-names" "$inputs"
                if [ "$copied" = 0 ]; then
                    verified="rerun+${features}ft"; if [ "$topped" -gt 0 ]; then verified="ok+$topped,$verified"; fi
                    break
                fi
                topped=$((topped + copied))
                verified="MISSING+${features}ft"
            done
            if [[ "$verified" == MISSING* ]]; then failed=1; fi
        fi
        committed=$(find "$inputs" -maxdepth 1 -type f -name 'corpus-*' | wc -l)
        bytes=$(find "$inputs" -maxdepth 1 -type f -name 'corpus-*' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
        if [ "$bytes" -gt $((max_kb * 1024)) ]; then
            echo "$class#$method: $bytes bytes of corpus entries, over $max_kb KiB: commit a justified subset" >&2
        fi
        printf '%-48s %9s %9s %9s %6s %6s %6s %6s %7s %s\n' "$module $class#$method" \
            "$generated+$old" "$committed" "$bytes" "${add_ft:--}" "${add_cov:--}" "${cov:--}" "${ft:--}" "$verified" \
            "$status" | tee -a "$summary"
        echo "  hand-named inputs kept: $seeds; log: $log" | tee -a "$summary"
    done
    echo "== $module: plain build again (replays the new inputs)" >&2
    drop_copied_entries "$module"
    if ! plain_run "$module" "fuzz/logs/minimise-$stamp-$module-after.log" | sed 's/^/  after: replay seconds (surefire) /' |
            tee -a "$summary"; then
        failed=1
    fi
done
echo "summary: $summary (date $(date -u +%Y-%m-%dT%H:%M:%SZ)); commit the corpus-* files of src/test/resources"
exit $failed
