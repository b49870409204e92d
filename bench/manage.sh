#!/usr/bin/env bash
# Managing runs at scale: in a runs directory of N runs (default 100,000),
# the time to tag 1,000 runs, delete 1,000 runs into the archive and
# restore them, list right after a delete (the index catching up), a
# filtered sorted query, and export/import of 100 runs through a .tar.gz.
#
# usage: bench/manage.sh [N]
# env:   TALLY
#
# The runs are generated afresh in a temporary directory (the operations
# change them): 100,000 runs take about 30 s to make and 1.6 GB.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

n=${1:-100000}
if ! [[ $n =~ ^[0-9]+$ ]] || ((n < 1000)); then
	echo "${0##*/}: want at least 1000 runs, not $n" >&2
	exit 2
fi
export TALLY_RUNS_DIR="$BENCH_TMP/runs"
echo "tally:  $TALLY"
echo "making $n runs in $TALLY_RUNS_DIR..."
"$PY" "$BENCH_DIR/make-runs.py" "$n" "$TALLY_RUNS_DIR" >/dev/null
"$TALLY" reindex >/dev/null
cd "$BENCH_TMP"

# timed LABEL PRE CMD...: the median of 5 runs of CMD, each after the untimed shell command PRE
rows=()
timed() {
	local label=$1 pre=$2 r median min max
	shift 2
	echo "   $label..."
	r=$("$PY" "$LIB" time -n 5 --pre "$pre" -- "$@")
	read -r median min max _ <<<"$r"
	rows+=("$(printf '%-44s | %8.3f | %8.3f | %8.3f' "$label" "$median" "$min" "$max")")
}

T=$TALLY
# After a change, a listing more than 100 ms later: the index then takes the change from its
# pending list.  (A sync within the runs directory's timestamp resolution of a change cannot
# trust the directory's signature, and the next one checks every run: see docs/architecture.md.)
settle="sleep 0.2; $T runs -n 1 >/dev/null; sleep 0.2"
timed "tag 1,000 runs (tally tag 1:1000 +bench)" "$T tag -y 1:1000 -bench >/dev/null; $settle" \
	"$T" tag -y 1:1000 +bench
timed "query the tag (tally runs --tag bench -n 20)" "true" "$T" runs --tag bench -n 20
timed "filtered sorted query, top 20" "true" \
	"$T" runs --where "val_acc > 0.9 and optimizer = adam" --sort -val_acc -n 20
# (each "pre" ends with a listing, so that the timed command does not also pay for indexing the runs the pre moved)
timed "the best run (tally show --sort -val_acc)" "true" "$T" show --sort -val_acc
timed "first of 95,000 matches (tally show --completed)" "true" "$T" show --completed
timed "delete 1,000 runs into the archive" "$T restore -y >/dev/null 2>&1 || true; $settle" \
	"$T" delete -y 1:1000
timed "tally runs right after deleting 1,000" "$T restore -y >/dev/null 2>&1 || true; $settle; $T delete -y 1:1000 >/dev/null; sleep 0.2" \
	"$T" runs -n 20
timed "restore 1,000 runs" "$T restore -y >/dev/null 2>&1 || true; $settle; $T delete -y 1:1000 >/dev/null; $settle" \
	"$T" restore -y
timed "tally runs right after restoring 1,000" "$T delete -y 1:1000 >/dev/null; $settle; $T restore -y >/dev/null; sleep 0.2" \
	"$T" runs -n 20
"$T" restore -y >/dev/null 2>&1 || true
timed "export 100 runs to a .tar.gz" "rm -f out.tar.gz" "$T" export 1:100 out.tar.gz
size=$(stat -c %s out.tar.gz)
timed "import 100 runs from it" "rm -rf imported" "$T" import --runs-dir imported out.tar.gz
imported=$(find imported -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)

echo
printf '%-44s | %8s | %8s | %8s\n' "$n runs: operation" "median s" "min s" "max s"
printf '%s\n' "---------------------------------------------+----------+----------+---------"
printf '%s\n' "${rows[@]}"
echo
echo "medians of 5; the export is $((size / 1024)) KiB; $imported runs imported"
echo "targets: tag 1,000 < 2 s; delete 1,000 < 2 s; listing after it < 0.2 s; query < 0.1 s;"
echo "         export and import of 100 runs < 1 s each"
