#!/usr/bin/env bash
# The R package's speed: ls_runs() at 1,000 and 100,000 runs (the run sets
# of bench/listing.sh), and what training_run() adds to Rscript running a
# trivial script itself.  Baselines, measured in the same run: tally runs
# --format csv of the same runs, and `Rscript script.R`.
#
# usage: bench/r.sh [COUNTS...]   (default: 1000 100000)
# env:   TALLY (the binary), R_LIBS (a library holding the tally package;
#        default: the package is installed into a temporary one from r/)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

(($# > 0)) || set -- 1000 100000
cache_root=${TMPDIR:-/tmp}
if [[ -z ${R_LIBS:-} ]]; then
	export R_LIBS=$BENCH_TMP/rlib
	mkdir -p "$R_LIBS"
	TALLY_BUILD_DIR=$(dirname "$TALLY") R CMD INSTALL -l "$R_LIBS" "$REPO_ROOT/r" >"$BENCH_TMP/install.log" 2>&1 ||
		{ cat "$BENCH_TMP/install.log" >&2; exit 1; }
fi
export TALLY_BIN=$TALLY

echo "tally: $TALLY ($(nproc) CPUs)"
printf '%8s | %-28s | %10s | %-26s | %10s\n' count "R" "median s" "baseline" "median s"
printf '%s\n' "---------+------------------------------+------------+----------------------------+-----------"
for n in "$@"; do
	dir="$cache_root/tally-bench-runs-$n"
	[[ -d $dir ]] || { "$PY" "$BENCH_DIR/make-runs.py" "$n" "$dir.part.$$" >&2 && mv "$dir.part.$$" "$dir"; }
	TALLY_RUNS_DIR=$dir "$TALLY" runs -n 1 >/dev/null
	cat >"$BENCH_TMP/ls.R" <<-R
		suppressMessages(library(tally)); options(tfruns.runs_dir = '$dir')
		invisible(ls_runs()) # warm: the index in the page cache
		t <- replicate(5, system.time(x <<- ls_runs())[['elapsed']])
		stopifnot(nrow(x) == $n)
		cat(median(t))
	R
	r_s=$(Rscript "$BENCH_TMP/ls.R")
	r=$("$PY" "$LIB" time -n 5 -w 1 -- env TALLY_RUNS_DIR="$dir" "$TALLY" runs --format csv)
	read -r csv_s _ _ _ <<<"$r"
	printf '%8d | %-28s | %10.4f | %-26s | %10.4f\n' "$n" "ls_runs()" "$r_s" "tally runs --format csv" "$csv_s"
done

project=$BENCH_TMP/project
mkdir -p "$project"
printf 'cat("loss: 0.5\\n")\n' >"$project/train.R"
cat >"$project/tally.yml" <<'YML'
system-metrics: off
YML
# training_run() against Rscript, interleaved in one R session (both through
# system2, so both pay its `sh -c`; medians of 25)
cat >"$BENCH_TMP/tr.R" <<'R'
suppressMessages(library(tally))
invisible(training_run('train.R', echo = FALSE, view = FALSE))
t <- replicate(25, c(system.time(system2("Rscript", "train.R", stdout = FALSE))[["elapsed"]],
                     system.time(training_run("train.R", echo = FALSE, view = FALSE))[["elapsed"]]))
cat(median(t[1, ]), median(t[2, ]), median(t[2, ] - t[1, ]), "\n")
R
read -r bare_s tr_s diff_s < <(cd "$project" && Rscript "$BENCH_TMP/tr.R" 2>/dev/null)
printf '%8s | %-28s | %10.4f | %-26s | %10.4f\n' "" "training_run() (trivial)" "$tr_s" "Rscript train.R" "$bare_s"
printf '%8s   training_run() - Rscript, median of the differences: %.1f ms\n' "" "$(awk -v d="$diff_s" 'BEGIN { print d * 1000 }')"
echo
echo "targets: ls_runs() <= 0.02 s at 1,000 runs and <= 1 s at 100,000; training_run() <= Rscript + 0.01 s"
