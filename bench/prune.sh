#!/usr/bin/env bash
# Early stopping: a synthetic learning-curve task (bench/prune.py; val_loss
# printed once an epoch for 30 epochs, EPOCH_MS ms an epoch), 60 trials of
# `tally tune --optimizer random` with no pruning, --prune median and
# --prune asha (the same trials for a seed), against Optuna's RandomSampler
# with no pruner, MedianPruner() and SuccessiveHalvingPruner() in-process on
# the same curves: epochs run and best final val_loss, medians over seeds.
#
# usage: bench/prune.sh     (env: TALLY, SEEDS=20, EPOCH_MS=100, P=4 trials at
#                            a time in a sweep, JOBS=2 sweeps at a time,
#                            TRIALS=60, EPOCHS=30, PRUNE_ARGS extra options
#                            for the pruned sweeps, e.g. "--prune-warmup 3")
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SEEDS=${SEEDS:-20}
JOBS=${JOBS:-2}
P=${P:-4}
TRIALS=${TRIALS:-60}
EPOCHS=${EPOCHS:-30}
export EPOCH_MS=${EPOCH_MS:-100}
for v in SEEDS JOBS P TRIALS EPOCHS EPOCH_MS; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || { [[ $v != EPOCH_MS ]] && ((${!v} < 1)); }; then
		echo "${0##*/}: $v is not a positive integer: ${!v}" >&2
		exit 2
	fi
done
optuna_bench_setup

"$PY" "$BENCH_DIR/prune.py" run --tally "$BENCH_TMP/tally" --work "$BENCH_TMP" --seeds "$SEEDS" \
	--jobs "$JOBS" --parallel "$P" --trials "$TRIALS" --epochs "$EPOCHS" \
	--prune-args "${PRUNE_ARGS:-}" "${OPTUNA_ARGS[@]}"
