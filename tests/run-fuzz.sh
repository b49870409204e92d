#!/usr/bin/env bash
# Run each libFuzzer target in BUILD (built with -Dfuzzers=true) for SECONDS,
# starting from its corpus in tests/fuzz/corpus/NAME (read only: new inputs
# go to a scratch directory).  A crash, leak or sanitizer report fails it and
# leaves the input as tests/fuzz/crash-NAME-*; add it to the corpus once fixed.
#
# usage: tests/run-fuzz.sh BUILD [SECONDS]      ends with "fuzz: N passed, N failed"
set -u
build=${1:?usage: tests/run-fuzz.sh BUILD [SECONDS]}
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
passed=0 failed=0
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for target in "$build"/tests/fuzz-*; do
	[ -x "$target" ] && [ -f "$target" ] || continue
	name=${target##*/fuzz-}
	mkdir -p "$scratch/$name"
	seeds=("$root/tests/fuzz/corpus/$name")
	# the flag scanners also start from the realistic scripts of the e2e corpus
	[ "$name" = script-flags ] && seeds+=("$root/tests/t/flags-corpus")
	if "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$root/tests/fuzz/crash-$name-" \
		"$scratch/$name" "${seeds[@]}" >"$scratch/$name.log" 2>&1; then
		echo "ok - fuzz $name ($(grep -oE 'Done [0-9]+ runs' "$scratch/$name.log" | head -n 1))"
		passed=$((passed + 1))
	else
		echo "not ok - fuzz $name"
		grep -E 'ERROR|SUMMARY|#[0-9]+ 0x|Test unit written' "$scratch/$name.log" | head -n 20 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
done
if [ $((passed + failed)) -eq 0 ]; then
	echo "no fuzz targets in $build/tests" >&2
	failed=1
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
