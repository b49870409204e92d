#!/usr/bin/env bash
# Shell completion speed: `tally __complete`, what every Tab runs, at many
# runs (target: under 20 ms at 100,000 runs).  The baseline, measured in the
# same run, is `tally --version`: starting the binary and nothing else.
#
# usage: bench/complete.sh [COUNTS...]      (default: 1000 100000)
# env:   TALLY
#
# Uses the run sets bench/listing.sh caches as ${TMPDIR:-/tmp}/tally-bench-runs-N
# (generated here too when missing).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

(($# > 0)) || set -- 1000 100000
cases=(
	"command|r"
	"option value|runs --format ''"
	"latest runs|show ''"
	"run by random part|show 4g"
	"recent index|show 1"
	"names in --where|runs --where 'val_acc > 0.9 and u'"
	"sort key|runs --sort -v"
	"a tag|runs --tag ''"
)

echo "tally: $TALLY ($(nproc) CPUs); medians of 15 after 2 warm-ups"
printf '%8s | %-22s | %9s | %11s | %5s\n' count case "ms" "baseline ms" ratio
printf '%s\n' "---------+------------------------+-----------+-------------+------"
for n in "$@"; do
	dir=$(runs_set "$n")
	export TALLY_RUNS_DIR="$dir"
	"$TALLY" runs -n 1 >/dev/null # the index exists and is current
	r=$("$PY" "$LIB" time -n 15 -w 2 -- "$TALLY" --version)
	read -r base_s _ _ _ <<<"$r"
	for c in "${cases[@]}"; do
		name=${c%%|*}
		eval "words=(${c#*|})"
		r=$("$PY" "$LIB" time -n 15 -w 2 -- "$TALLY" __complete -- "${words[@]}")
		read -r s _ _ _ <<<"$r"
		printf '%8d | %-22s | %9s | %11s | %5s\n' "$n" "$name" "$(ms "$s")" "$(ms "$base_s")" \
			"$(awk -v a="$s" -v b="$base_s" 'BEGIN { printf "%.1f", a / b }')"
	done
done
