#!/usr/bin/env bash
# Index and listing speed at many runs: `tally reindex` (full rebuild),
# `tally runs` and `tally runs --format json|csv` and `tally tensorboard
# --files-only` with a fresh index, and the
# first `tally runs` after the index was deleted ("cold").
#
# usage: bench/listing.sh [COUNTS...]      (default: 1000 10000 100000)
# env:   TALLY, TALLY_RUNS_ARGS (extra arguments for `tally runs`),
#        TALLY_INDEX (index path to delete for the cold case, when tally
#        keeps it somewhere other than RUNS_DIR/.index/)
#
# Generated run sets are cached as ${TMPDIR:-/tmp}/tally-bench-runs-N and
# reused by later invocations; delete them to reclaim the space (100,000
# runs take about 1.6 GB and 500,000 inodes).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if (($# == 0)); then
	set -- 1000 10000 100000
fi
for n in "$@"; do
	if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1)); then
		echo "${0##*/}: not a run count: $n" >&2
		exit 2
	fi
done
read -r -a runs_args <<<"${TALLY_RUNS_ARGS:-}"

# delete_index RUNS_DIR REINDEX_OUTPUT: remove the index so that the next
# command has to rebuild it from the run directories.
delete_index() {
	local dir=$1 out=$2 p found=0
	if [[ -n ${TALLY_INDEX:-} ]]; then
		rm -rf -- "$TALLY_INDEX" "$TALLY_INDEX-wal" "$TALLY_INDEX-shm" "$TALLY_INDEX-journal"
		return
	fi
	if [[ -e $dir/.index ]]; then
		rm -rf -- "$dir/.index"
		return
	fi
	# Otherwise look for an existing file named in `tally reindex` output.
	while IFS= read -r p; do
		if [[ -f $p && $p != "$dir"/*/* ]]; then
			rm -f -- "$p" "$p-wal" "$p-shm" "$p-journal"
			found=1
		fi
	done < <(grep -oE '/[^[:space:]"'\'']+' <<<"$out" | sed 's/[.,:;)]*$//' | sort -u)
	if ((!found)); then
		echo "${0##*/}: cannot find the index of $dir (no .index/, no path in" \
			"\`tally reindex\` output); set TALLY_INDEX" >&2
		exit 1
	fi
}

echo "tally:  $TALLY"
echo "cache:  $cache_root/tally-bench-runs-N, $(nproc) CPUs"
echo

rows=()
for n in "$@"; do
	dir=$(runs_set "$n")
	export TALLY_RUNS_DIR="$dir"
	echo "== $n runs ($dir)"

	# Where is the index?  (Also makes sure it exists before timing.)
	reindex_out=$("$TALLY" reindex 2>&1) || {
		echo "$reindex_out" >&2
		echo "${0##*/}: tally reindex failed" >&2
		exit 1
	}

	echo "   reindex (3 runs)..."
	r=$("$PY" "$LIB" time -n 3 -- "$TALLY" reindex)
	read -r reindex_s _ _ _ <<<"$r"
	echo "   runs (7 runs after 1 warm-up)..."
	r=$("$PY" "$LIB" time -n 7 -w 1 -- "$TALLY" runs "${runs_args[@]}")
	read -r runs_s _ _ _ <<<"$r"
	echo "   runs --format json (7 runs after 1 warm-up)..."
	r=$("$PY" "$LIB" time -n 7 -w 1 -- "$TALLY" runs --format json "${runs_args[@]}")
	read -r json_s _ _ _ <<<"$r"
	echo "   runs --format csv (3 runs after 1 warm-up)..."
	r=$("$PY" "$LIB" time -n 3 -w 1 -- "$TALLY" runs --format csv "${runs_args[@]}")
	read -r csv_s _ _ _ <<<"$r"
	# every run without scalars: what remains is finding the runs and a stat or two each
	echo "   tensorboard --files-only (3 runs after 1 warm-up)..."
	r=$("$PY" "$LIB" time -n 3 -w 1 -- "$TALLY" tensorboard --files-only)
	read -r tb_s _ _ _ <<<"$r"
	echo "   a filtered, sorted query (7 runs after 1 warm-up)..."
	query=(--where "val_acc > 0.9 and optimizer = adam" --sort -val_acc)
	r=$("$PY" "$LIB" time -n 7 -w 1 -- "$TALLY" runs "${query[@]}" -a)
	read -r query_s _ _ _ <<<"$r"
	r=$("$PY" "$LIB" time -n 7 -w 1 -- "$TALLY" runs "${query[@]}" -n 20)
	read -r query20_s _ _ _ <<<"$r"
	matched=$("$TALLY" runs "${query[@]}" -a --format csv | tail -n +2 | wc -l)
	echo "   runs after deleting the index (1 run)..."
	delete_index "$dir" "$reindex_out"
	r=$("$PY" "$LIB" time -n 1 -- "$TALLY" runs "${runs_args[@]}")
	read -r cold_s _ _ _ <<<"$r"

	listed=$("$TALLY" runs "${runs_args[@]}" | wc -l)
	if ((listed < n)); then
		echo "   note: \`tally runs\` printed $listed lines for $n runs (a default limit?)" >&2
	fi
	rows+=("$(printf '%8d | %10.3f | %8.4f | %11.4f | %8.3f | %8.3f | %8.3f | %8s | %9.4f | %9.4f | %8s' "$n" \
		"$reindex_s" "$runs_s" "$json_s" "$csv_s" "$tb_s" "$cold_s" "$listed" "$query_s" "$query20_s" "$matched")")
done

echo
printf '%8s | %10s | %8s | %11s | %8s | %8s | %8s | %8s | %9s | %9s | %8s\n' "count" "reindex s" "runs s" \
	"runs json s" "csv s" "tb s" "cold s" "lines" "query s" "query20 s" "matched"
printf '%s\n' "---------+------------+----------+-------------+----------+----------+----------+----------+-----------+-----------+---------"
printf '%s\n' "${rows[@]}"
echo
echo "reindex: median of 3; runs, runs json: median of 7 after 1 warm-up, fresh index;"
echo "csv: runs --format csv, tb: tensorboard --files-only (runs without scalars), medians of 3 after 1 warm-up;"
echo "cold: one \`tally runs\` right after the index was deleted; lines: \`tally runs | wc -l\`"
echo "target: runs at 100,000 runs well under 0.1 s; reindex in seconds"
