#!/usr/bin/env bash
# Scheduling overhead of tally tune per trial, with trivial trials, compared
# in the same run with running the script bare and with one `tally run` per
# trial; and a sweep of many trials end to end, one and two at a time.
#
# usage: bench/tune.sh [TRIALS]      (default 1000; env: TALLY, K=3 repeats)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

N=${1:-1000}
K=${K:-3}
if ! [[ $N =~ ^[0-9]+$ ]] || ((N < 10)); then
	echo "${0##*/}: not a trial count (10 or more): $N" >&2
	exit 2
fi
proj="$BENCH_TMP/proj"
mkdir -p "$proj"
printf 'echo "loss: $FLAG_I"\n' >"$proj/trial.sh"
export PATH="/usr/bin:/bin:$PATH"

# seconds CMD… -> wall seconds of one run (in $proj)
seconds() {
	local t0 t1
	t0=$(date +%s.%N)
	(cd "$proj" && "$@" >/dev/null 2>&1)
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

bare_loop() { for ((i = 1; i <= N; i++)); do FLAG_I=$i bash trial.sh; done; }
run_loop() { for ((i = 1; i <= N; i++)); do "$TALLY" run -q --force-flags trial.sh "i=$i"; done; }
export -f bare_loop run_loop
export N

echo "tally:  $TALLY"
echo "trials: $N trivial trials (bash, one scalar), median of $K, $(nproc) CPUs"
echo

declare -A med
for what in bare runs tune1 tune2; do
	for ((k = 0; k < K; k++)); do
		export TALLY_RUNS_DIR="$BENCH_TMP/runs-$what-$k"
		case $what in
		bare) seconds bash -c bare_loop ;;
		runs) seconds bash -c run_loop ;;
		tune1) seconds "$TALLY" tune -y -q --force-flags trial.sh "i=range[1:$N]" ;;
		tune2) seconds "$TALLY" tune -y -q --force-flags -p 2 trial.sh "i=range[1:$N]" ;;
		esac
		echo
	done | median >"$BENCH_TMP/$what"
	med[$what]=$(cat "$BENCH_TMP/$what")
	echo "  $what: ${med[$what]} s" >&2
done

# Every trial must have become a completed run.
made=$(find "$BENCH_TMP/runs-tune1-0" -mindepth 1 -maxdepth 1 -type d ! -name '.*' | wc -l)
((made == N)) || { echo "${0##*/}: the sweep left $made runs, not $N" >&2; exit 1; }

per() { awk -v s="$1" -v n="$N" 'BEGIN { printf "%.2f", s * 1000 / n }'; }
printf '\n%-34s %10s %12s\n' "" "total s" "ms / trial"
printf '%-34s %10s %12s\n' "bash trial.sh (bare)" "${med[bare]}" "$(per "${med[bare]}")"
printf '%-34s %10s %12s\n' "tally run -q, one per trial" "${med[runs]}" "$(per "${med[runs]}")"
printf '%-34s %10s %12s\n' "tally tune, 1 at a time" "${med[tune1]}" "$(per "${med[tune1]}")"
printf '%-34s %10s %12s\n' "tally tune --parallel 2" "${med[tune2]}" "$(per "${med[tune2]}")"
echo
echo "scheduling overhead per trial (tune, 1 at a time, minus bare): $(awk -v a="${med[tune1]}" -v b="${med[bare]}" -v n="$N" 'BEGIN { printf "%.2f ms", (a - b) * 1000 / n }')"
echo "target: a few ms per trial (Guild AI: ~0.3 s)"
