#!/usr/bin/env bash
# What reading many runs' summaries costs: `tally compare` of N runs (table
# transposed, csv, json, runs picked by a query), `tally scalars --summary`
# and `tally report` of many runs, against `tally runs --format csv -n N`
# (the same runs listed from the index) measured in the same rounds
# (target, issue 22: compare of 1,000 runs costs no more than that listing).
#
# usage: bench/compare.sh [N]          (default 1000; REPORT_RUNS=50 for report)
# env:   TALLY, BASELINE (a second binary, e.g. an older build: measured in
#        the same rounds, interleaved), ROUNDS (5), REPS (3 a round)
#
# Uses the run set bench/listing.sh caches as ${TMPDIR:-/tmp}/tally-bench-runs-N
# (generated here when missing).  Each binary keeps its own index in the
# temporary directory (two index schemas would rebuild each other's).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

n=${1:-1000}
rounds=${ROUNDS:-5} reps=${REPS:-3} report_runs=${REPORT_RUNS:-50}
binaries=("$TALLY")
if [[ -n ${BASELINE:-} ]]; then
	binaries+=("$(realpath -- "$BASELINE")")
fi
dir=$(runs_set "$n")
export TALLY_RUNS_DIR="$dir"
cases=(
	"runs csv|runs --format csv -n $n"
	"compare -t|compare --transpose 1:$n"
	"compare csv|compare --format csv 1:$n"
	"compare json|compare --format json 1:$n"
	"compare query|compare --transpose --where 'optimizer = adam'"
	"scalars --summary|scalars --summary 1:$n"
	"report $report_runs|report -o $BENCH_TMP/report.html 1:$report_runs"
)

index_of() { echo "$BENCH_TMP/index-$1"; }
for b in "${!binaries[@]}"; do # each index built and current before timing
	TALLY_INDEX_DIR=$(index_of "$b") "${binaries[$b]}" runs -n 1 >/dev/null
done

echo "runs: $dir ($n); $(nproc) CPUs; medians of $((rounds * reps)) ($rounds rounds of $reps, binaries interleaved)"
for b in "${!binaries[@]}"; do
	echo "  [$b] ${binaries[$b]} ($("${binaries[$b]}" --version 2>/dev/null | head -n 1))"
done
# Rounds: every case for every binary, in turn, so that a load that comes
# and goes (other work on the machine) falls on all of them alike.
for ((r = 0; r < rounds; r++)); do
	for c in "${!cases[@]}"; do
		eval "words=(${cases[$c]#*|})"
		for b in "${!binaries[@]}"; do
			TALLY_INDEX_DIR=$(index_of "$b") "$PY" "$LIB" time -n "$reps" -w 1 --samples -- \
				"${binaries[$b]}" "${words[@]}" | sed -n 2p >>"$BENCH_TMP/samples-$b-$c"
		done
	done
done

median() { tr ' ' '\n' <"$1" | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
header=$(printf '%-18s' case)
rule=------------------
for b in "${!binaries[@]}"; do
	header+=$(printf ' | %8s | %7s' "[$b] ms" "/csv")
	rule+="-+----------+--------"
done
echo "$header"
echo "$rule"
for c in "${!cases[@]}"; do
	line=$(printf '%-18s' "${cases[$c]%%|*}")
	for b in "${!binaries[@]}"; do
		s=$(median "$BENCH_TMP/samples-$b-$c")
		csv=$(median "$BENCH_TMP/samples-$b-0")
		line+=$(printf ' | %8s | %7s' "$(ms "$s")" "$(awk -v a="$s" -v b="$csv" 'BEGIN { printf "%.2f", a / b }')")
	done
	echo "$line"
done
