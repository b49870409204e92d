#!/usr/bin/env bash
# Scalars: how fast output is parsed for scalars, how fast TensorBoard event
# files are read, `tally scalars` on a run with a million points, and what
# tally itself spends while a script logs 10,000 scalars a second.
#
# usage: bench/scalars.sh [SIZE_MiB]     (default 64; env: TALLY, REPS=3, POINTS=1000000,
#                                        PARSE_ONLY=1 for the parsing section alone)
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

SIZE=${1:-64}
REPS=${REPS:-3}
POINTS=${POINTS:-1000000}
proj="$BENCH_TMP/proj"
runs="$BENCH_TMP/runs"
mkdir -p "$proj"
export TALLY_RUNS_DIR="$runs"
cd "$proj"
echo "system-metrics: off" >tally.yml   # only what is measured

echo "tally:  $TALLY"
echo "tmp:    $BENCH_TMP ($(nproc) CPUs)"

# Inputs of SIZE MiB: every line a Guild-style scalar, every line a Keras
# progress line with four scalars, every line "Epoch N: key=value, …" with
# three, log lines with '=' and ':' but no scalar (prose), and lines that
# hold none (same length as the Guild ones), whose rate is the reference.
"$PY" - "$SIZE" "$BENCH_TMP" <<-'PY'
import sys
size = int(sys.argv[1]) << 20
out = sys.argv[2]
def write(name, line_of):
    with open(f"{out}/{name}", "w") as f:
        n = i = 0
        while n < size:
            line = line_of(i)
            f.write(line)
            n += len(line)
            i += 1
write("guild.log", lambda i: f"val_loss: {1 / (i + 2):.6f} (step {i})\n")
write("plain.log", lambda i: f"processing batch {i:>9} of the epoch ...\n")
write("pairs.log", lambda i: f"Epoch {i}: train_loss={1 / (i + 2):.4f}, val_loss={1 / (i + 3):.4f}, acc=0.{i % 9999:04d}\n")
write("prose.log", lambda i: f"INFO step {i:>7}: saved checkpoint to /tmp/ckpt-{i}.pt (lr=0.01, v=1.2.3)\n")
write("keras.log", lambda i: (f"Epoch {i // 100 + 1}/1000\n" if i % 100 == 0 else "") +
      f"1875/1875 [==============================] - 3s 1ms/step - loss: {1 / (i + 2):.4f}"
      f" - accuracy: {1 - 1 / (i + 2):.4f} - val_loss: {1 / (i + 3):.4f} - val_accuracy: 0.{i % 9999:04d}\n")
PY

# rate FILE -> "MiB/s median_s points"
rate() {
	local file=$1 bytes t
	bytes=$(stat -c %s "$file")
	t=$("$PY" "$LIB" time -n "$REPS" -w 1 --out /dev/null --cwd "$proj" \
		--pre "rm -rf '$runs'" -- "$TALLY" run -q -- cat "$file" | awk '{ print $1 }')
	local points
	points=$("$TALLY" scalars --summary --format csv | awk -F, 'NR > 1 { n += $3 } END { print n + 0 }')
	awk -v b="$bytes" -v s="$t" -v p="$points" 'BEGIN { printf "%.0f %.3f %d", b / 1048576 / s, s, p }'
}

echo
echo "== parsing output for scalars ($SIZE MiB each, tally run -q -- cat FILE, median of $REPS)"
printf '%-34s %10s %9s %10s %8s\n' input "MiB/s" "s" points "vs plain"
read -r plain_rate plain_s plain_points <<<"$(rate "$BENCH_TMP/plain.log")"
for f in plain prose guild keras pairs; do
	if [[ $f == plain ]]; then
		r=$plain_rate s=$plain_s p=$plain_points
	else
		read -r r s p <<<"$(rate "$BENCH_TMP/$f.log")"
	fi
	printf '%-34s %10s %9s %10s %7s%%\n' "$f.log" "$r" "$s" "$p" \
		"$(awk -v a="$r" -v b="$plain_rate" 'BEGIN { printf "%.0f", 100 * a / b }')"
done

[[ ${PARSE_ONLY:-0} == 1 ]] && exit 0   # only the parsing figures (to compare two builds)

echo
echo "== a run with $POINTS points"
"$PY" - "$POINTS" >"$BENCH_TMP/points.log" <<-'PY'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n // 2):
    w(f"loss: {1 / (i + 2):.6f} (step {i})\nval_loss: {1 / (i + 3):.6f} (step {i})\n")
PY
rm -rf "$runs"
"$TALLY" run -q -- cat "$BENCH_TMP/points.log" >/dev/null 2>&1
rundir=$(ls -d "$runs"/*/)
# its event file, for the reading section below (an older tally wrote one as the run went)
"$TALLY" tensorboard --files-only >/dev/null 2>&1 || true
events=$(ls "$rundir".tally/events.out.tfevents.*)
printf '%-44s %9s\n' command "median s"
for args in "-f csv" "-f json" "-f table" "--summary" "--tag val_loss -f csv"; do
	# shellcheck disable=SC2086
	t=$("$PY" "$LIB" time -n "$REPS" -w 1 --out /dev/null -- "$TALLY" scalars $args | awk '{ print $1 }')
	printf '%-44s %9s\n' "tally scalars $args" "$t"
done
printf '%-44s %9s\n' "(log size: .tally/scalars.log)" "$(du -h "$rundir.tally/scalars.log" | cut -f1)"

echo
echo "== reading TensorBoard event files"
# tally's own event file of that run ($POINTS records) is the input: a
# script copies it into its run directory, where tally reads it at the end.
cp "$events" "$proj/big.tfevents.bin"
ev_bytes=$(stat -c %s "$events")
cat >"$proj/copy-events.sh" <<-'SH'
cp "$1" "logs/events.out.tfevents.1.host"
SH
cat >"$proj/copy-other.sh" <<-'SH'
cp "$1" "logs/other.bin"
SH
mkdir -p "$BENCH_TMP/empty"
# logs/ must be the run's own folder, not a link into the project
t_ev=$("$PY" "$LIB" time -n "$REPS" -w 1 --out /dev/null --cwd "$proj" --pre "rm -rf '$runs'" -- \
	"$TALLY" run -q -- bash -c 'mkdir -p logs && bash copy-events.sh "$0"' "$proj/big.tfevents.bin" | awk '{ print $1 }') || true
t_ref=$("$PY" "$LIB" time -n "$REPS" -w 1 --out /dev/null --cwd "$proj" --pre "rm -rf '$runs'" -- \
	"$TALLY" run -q -- bash -c 'mkdir -p logs && bash copy-other.sh "$0"' "$proj/big.tfevents.bin" | awk '{ print $1 }') || true
read_points=$("$TALLY" scalars --summary --format csv 2>/dev/null | awk -F, 'NR > 1 { n += $3 } END { print n + 0 }')
awk -v b="$ev_bytes" -v a="$t_ev" -v r="$t_ref" -v n="$POINTS" 'BEGIN {
	d = a - r; if (d <= 0) d = 1e-9
	printf "event file: %.1f MiB, %d records; run with it %.3f s, without %.3f s\n", b / 1048576, n, a, r
	printf "read rate: %.0f MiB/s, %.2f M records/s\n", b / 1048576 / d, n / d / 1e6 }'

echo
echo "== tally's own CPU while a script logs 10,000 scalars/s for 5 s"
cat >"$proj/steady.py" <<-'PY'
import os, sys, time
start = time.time()
ppid = os.getppid()  # tally, supervising this script
def cpu_s(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
before = cpu_s(ppid)
for second in range(5):
    for batch in range(100):
        for i in range(100):
            step = second * 10000 + batch * 100 + i
            sys.stdout.write(f"loss: {1 / (step + 2):.6f} (step {step})\n")
        sys.stdout.flush()
        target = start + second + (batch + 1) / 100
        delay = target - time.time()
        if delay > 0:
            time.sleep(delay)
elapsed = time.time() - start
print(f"TALLY_CPU {cpu_s(ppid) - before:.3f} {elapsed:.3f}", file=sys.stderr)
PY
rm -rf "$runs"
"$TALLY" run -q steady.py >/dev/null 2>"$BENCH_TMP/steady.err" || true
grep -h "TALLY_CPU" "$runs"/*/.tally/output | awk '{ printf "tally used %.3f s of CPU in %.2f s: %.1f %% of one core (50,000 points)\n", $2, $3, 100 * $2 / $3 }'
