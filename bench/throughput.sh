#!/usr/bin/env bash
# Output-capture throughput of `tally run`: how fast a run's stdout goes
# through tally into its run directory, compared with `cat FILE > OUT`, and
# the peak RSS of the tally process (which must not grow with the output).
#
# Last, the size of the output index (.tally/output.idx) per line for LINES
# lines each printed and flushed on its own, as print(..., flush=True) does.
#
# usage: bench/throughput.sh [SIZE_MiB]     (default 1024; env: TALLY, REPS=3, LINES=1000000)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SIZE=${1:-1024}
REPS=${REPS:-3}
if ! [[ $SIZE =~ ^[0-9]+$ ]] || ((SIZE < 4)); then
	echo "usage: ${0##*/} [SIZE_MiB >= 4]" >&2
	exit 2
fi
QSIZE=$((SIZE / 4))

proj="$BENCH_TMP/proj"
runs="$BENCH_TMP/runs"            # same filesystem as the input and OUT
mkdir -p "$proj"
export TALLY_RUNS_DIR="$runs"

echo "tally:  $TALLY"
echo "tmp:    $BENCH_TMP ($(df -hT "$BENCH_TMP" | awk 'NR == 2 { print $2 }'), $(nproc) CPUs)"
printf 'input:  generating %d MiB and %d MiB of log lines... ' "$SIZE" "$QSIZE"
big="$BENCH_TMP/big.log"
quarter="$BENCH_TMP/quarter.log"
big_bytes=$("$PY" "$LIB" gen-log "$SIZE" "$big")
q_bytes=$("$PY" "$LIB" gen-log "$QSIZE" "$quarter")
echo "done"
echo

if [[ -x /usr/bin/time ]]; then
	rss_how="/usr/bin/time -f %M"
else
	rss_how="wait4() ru_maxrss via python (includes ~10 MiB of python's own RSS)"
fi

# mibs BYTES SECONDS -> MiB/s
mibs() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.0f", b / 1048576 / s }'; }

# time_cat FILE -> "MEDIAN_S ..."
time_cat() {
	"$PY" "$LIB" time -n "$REPS" -w 1 --out "$BENCH_TMP/out" --cwd "$proj" \
		--pre "rm -f '$BENCH_TMP/out'" -- cat "$1"
}

# time_pipe FILE -> "MEDIAN_S ..."   (cat FILE | cat > OUT: a pipe, like tally)
# shellcheck disable=SC2016  # $1 is for the inner bash
time_pipe() {
	"$PY" "$LIB" time -n "$REPS" -w 0 --out "$BENCH_TMP/out" --cwd "$proj" \
		--pre "rm -f '$BENCH_TMP/out'" -- bash -c 'cat "$1" | cat' _ "$1"
}

# time_tally FILE REPS -> "MEDIAN_S MIN_S MAX_S PEAK_RSS_KIB"
# The runs directory is emptied before every repetition (untimed).
time_tally() {
	local file=$1 n=$2 rssf="$BENCH_TMP/rss.txt" line rss
	rm -f "$rssf"
	if [[ -x /usr/bin/time ]]; then
		line=$("$PY" "$LIB" time -n "$n" --cwd "$proj" \
			--pre "rm -rf '$runs' && rm -f '$BENCH_TMP/out'" -- \
			/usr/bin/time -a -o "$rssf" -f %M "$TALLY" run -q -- cat "$file")
		rss=$(sort -n "$rssf" | tail -n 1)
		read -r a b c _ <<<"$line"
		echo "$a $b $c $rss"
	else
		"$PY" "$LIB" time -n "$n" --rss --cwd "$proj" \
			--pre "rm -rf '$runs' && rm -f '$BENCH_TMP/out'" -- \
			"$TALLY" run -q -- cat "$file"
	fi
}

# recorded -> bytes under the runs directory after the last repetition
recorded() { du -sb "$runs" | cut -f1; }

echo "timing cat FILE > OUT ($REPS runs after 1 warm-up)..."
r=$(time_cat "$big")
read -r cat_s _ _ _ <<<"$r"
echo "timing cat FILE | cat > OUT ($REPS runs)..."
r=$(time_pipe "$big")
read -r pipe_s _ _ _ <<<"$r"
echo "timing tally run -q -- cat FILE ($REPS runs)..."
r=$(time_tally "$big" "$REPS")
read -r tally_s tally_min tally_max tally_rss <<<"$r"
big_rec=$(recorded)
echo "timing tally run -q -- cat QUARTER (1 run)..."
r=$(time_tally "$quarter" 1)
read -r q_s _ _ q_rss <<<"$r"
q_rec=$(recorded)
rm -rf "$runs" "$BENCH_TMP/out"

LINES=${LINES:-1000000}
echo "recording $LINES lines, one write each..."
printf 'import sys\nfor i in range(%d):\n    print("step %%d loss: %%.4f" %% (i, 1.0 / (i + 1)), flush=True)\n' \
	"$LINES" >"$proj/lines.py"
(cd "$proj" && PATH="/usr/bin:/bin:$PATH" "$TALLY" run -q lines.py 2>/dev/null)
lines_dir=$(find "$runs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | head -n 1)
idx_bytes=$(stat -c %s "$lines_dir/.tally/output.idx")
lines_out=$(wc -l <"$lines_dir/.tally/output")
# records in the index (either format: docs/run-format.md)
idx_records=$("$PY" - "$lines_dir/.tally/output.idx" <<-'PY'
	import sys
	b = open(sys.argv[1], "rb").read()
	if not b.startswith(b"TLYOIDX2"):
	    print(len(b) // 16)
	    sys.exit()
	n, i = 0, 8
	while i < len(b):
	    if b[i] == 0:
	        i = (i // 4096 + 1) * 4096
	        continue
	    for _ in range(2):  # two varints
	        while b[i] & 0x80:
	            i += 1
	        i += 1
	    n += 1
	print(n)
	PY
)
rm -rf "$runs"

cat_r=$(mibs "$big_bytes" "$cat_s")
pipe_r=$(mibs "$big_bytes" "$pipe_s")
tally_r=$(mibs "$big_bytes" "$tally_s")
q_r=$(mibs "$q_bytes" "$q_s")
pct=$(awk -v t="$tally_s" -v c="$cat_s" 'BEGIN { printf "%.1f", c / t * 100 }')
pct_pipe=$(awk -v t="$tally_s" -v c="$pipe_s" 'BEGIN { printf "%.1f", c / t * 100 }')

echo
printf '%-34s %9s %10s %10s %12s\n' "case" "size MiB" "median s" "MiB/s" "peak RSS KiB"
printf '%-34s %9d %10.3f %10s %12s\n' "cat FILE > OUT" "$SIZE" "$cat_s" "$cat_r" "-"
printf '%-34s %9d %10.3f %10s %12s\n' "cat FILE | cat > OUT (info)" "$SIZE" "$pipe_s" "$pipe_r" "-"
printf '%-34s %9d %10.3f %10s %12s\n' "tally run -q -- cat FILE" "$SIZE" "$tally_s" "$tally_r" "$tally_rss"
printf '%-34s %9d %10.3f %10s %12s\n' "tally run -q -- cat FILE (1 run)" "$QSIZE" "$q_s" "$q_r" "$q_rss"
echo
echo "tally / cat throughput:        $pct %   (vs the pipe baseline: $pct_pipe %)"
echo "tally runs min/max:            $tally_min s / $tally_max s"
echo "peak RSS at $SIZE MiB / $QSIZE MiB:  $tally_rss KiB / $q_rss KiB   ($rss_how)"
echo "bytes recorded in the run dir: $big_rec (input $big_bytes) / $q_rec (input $q_bytes)"
if ((big_rec < big_bytes)); then
	echo "warning: the run directory holds less than the output; is it recorded?" >&2
fi
echo "output.idx for $lines_out lines written one at a time: $idx_bytes bytes," \
	"$(awk -v b="$idx_bytes" -v n="$lines_out" 'BEGIN { printf "%.2f", b / n }') bytes per line" \
	"($idx_records chunks, $(awk -v b="$idx_bytes" -v n="$idx_records" 'BEGIN { printf "%.2f", b / n }') bytes per chunk)"
echo "target: throughput >= 90 % of cat, peak RSS the same at both sizes"
