#!/usr/bin/env bash
# Search quality of tally tune's optimizers, as real sweeps: the best value
# found on Branin (2-D, 50 trials) and Hartmann-6 (6-D, 100 trials) with
# --optimizer random, tpe and tpe --multivariate, medians over SEEDS seeds,
# side by side with Optuna's RandomSampler and TPESampler (default and
# multivariate) in-process on the same functions (bench/tpe.py).
#
# usage: bench/tpe.sh            (env: TALLY, SEEDS=20, JOBS=nproc sweeps at a
#                                 time, P=1 trials at a time in each sweep,
#                                 FUNCS=branin,hartmann6)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SEEDS=${SEEDS:-20}
JOBS=${JOBS:-$(nproc)}
P=${P:-1}
FUNCS=${FUNCS:-branin,hartmann6}
for v in SEEDS JOBS P; do
	if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
		echo "${0##*/}: $v is not a positive integer: ${!v}" >&2
		exit 2
	fi
done
optuna_bench_setup

"$PY" "$BENCH_DIR/tpe.py" run --tally "$BENCH_TMP/tally" --work "$BENCH_TMP" --seeds "$SEEDS" \
	--jobs "$JOBS" --parallel "$P" --funcs "$FUNCS" "${OPTUNA_ARGS[@]}"
echo
echo "target: tally tpe's median best matches or beats Optuna's TPE (issue 20)"
