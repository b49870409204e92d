#!/usr/bin/env bash
# tally view in a real browser: Debian's chromium driven headless by playwright-core
# (tests/browser/package.json; never a browser of its own), node's test runner over
# tests/browser/*.test.mjs, against `tally view` servers on loopback ports serving runs made
# here with the built tally.  Prints node's TAP and "browser: N passed, N failed".
# usage: tests/browser/test-browser.sh BUILD_DIR [TEST_FILE…]   (default: every *.test.mjs)
#   TALLY_SCREENSHOTS=DIR  keep the screenshots (and those of failed tests) in DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: tests/browser/test-browser.sh BUILD_DIR}" && pwd)
tally=$build/tally
shift
tests=("$@")
chromium=${TALLY_TEST_CHROMIUM:-/usr/bin/chromium}

# A missing tool is one failure, never a silent pass.
give_up() {
	echo "not ok - browser: $1"
	echo "browser: 0 passed, 1 failed"
	exit 1
}
[ -x "$tally" ] || give_up "no tally binary in $build"
command -v node >/dev/null 2>&1 || give_up "node is not installed (scripts/install-deps installs nodejs)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
	give_up "node $(node --version) is too old: playwright-core needs 20 or later"
[ -x "$chromium" ] || give_up "$chromium is not installed (scripts/install-deps installs chromium)"

# playwright-core, as package-lock.json pins it; installed again when the pin changes.
installed=$(cd "$here" && node -p 'require("./node_modules/playwright-core/package.json").version' 2>/dev/null)
wanted=$(cd "$here" && node -p 'require("./package.json").dependencies["playwright-core"]')
if [ "$installed" != "$wanted" ]; then
	command -v npm >/dev/null 2>&1 || give_up "npm is not installed (needed once, to install playwright-core)"
	if ! (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >npm.log 2>&1); then
		sed 's/^/#   /' "$here/npm.log" | tail -n 20
		rm -f "$here/npm.log"
		give_up "npm ci in tests/browser failed"
	fi
	rm -f "$here/npm.log"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tally-browser.XXXXXX")
pids=()

# Runs still waiting for their go file are let go, the servers stopped (SIGTERM, then
# SIGKILL after 10 s), and anything else left running from the scratch directory killed by
# its PID (scripts live in process groups of their own).
cleanup() {
	local pid p cwd n
	for p in "$work"/*/runs/*/; do
		[ -d "$p" ] && : >"$p/go" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		n=0
		while kill -0 "$pid" 2>/dev/null && [ $n -lt 200 ]; do
			sleep 0.05
			n=$((n + 1))
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for p in /proc/[0-9]*; do
		cwd=$(readlink "$p/cwd" 2>/dev/null) || continue
		[ "${p#/proc/}" = $$ ] && continue
		case $cwd in "$work" | "$work"/*) kill -KILL "${p#/proc/}" 2>/dev/null ;; esac
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export HOME=$work/home XDG_CACHE_HOME=$work/home/.cache XDG_CONFIG_HOME=$work/home/.config
mkdir -p "$HOME"
unset TALLY_RUNS_DIR TALLY_RUN_DIR TALLY_SCALARS TALLY_INDEX_DIR
screenshots=${TALLY_SCREENSHOTS:-$work/screenshots}
mkdir -p "$screenshots"

setup_failed() {
	sed 's/^/#   /' "$work/setup.log" | tail -n 30
	give_up "setting up: $1"
}
t() { "$tally" "$@" >>"$work/setup.log" 2>&1; }

# main: 30 runs with flags lr (1/40 … 30/40) and units, scalars loss and val_loss; a run
# named "curve" with 120 points of each; one named "files" with files (and a link out).
mkdir -p "$work/main" && cd "$work/main" || exit 1
cat >train.sh <<-\SH
	lr=1 units=1
	while [ $# -gt 1 ]; do case $1 in --lr) lr=$2 ;; --units) units=$2 ;; esac; shift 2; done
	for step in 0 1 2; do
	  echo "loss: $(awk "BEGIN { print 1 / ($step + 1) + $lr }") (step $step)"
	  echo "val_loss: $(awk "BEGIN { print 1.5 / ($step + 1) + $lr }") (step $step)"
	done
SH
for i in $(seq 30); do
	t run -q --no-system-metrics train.sh "lr=$(awk "BEGIN { print $i / 40 }")" "units=$((32 * (1 + i % 4)))" ||
		setup_failed "tally run train.sh"
done
cat >curve.sh <<-\SH
	awk 'BEGIN { for (i = 0; i < 120; i++) printf "loss: %g (step %d)\nval_loss: %g (step %d)\n", 2 / (i + 1), i, 2.5 / (i + 1), i }'
SH
t run -q --no-system-metrics --name curve curve.sh || setup_failed "tally run curve.sh"
cat >files.sh <<-\SH
	echo hello >notes.txt
	mkdir -p plots && echo "step,loss" >plots/loss.csv
	ln -s ../../secret.txt leak.txt
	echo "wrote files"
SH
t run -q --no-system-metrics --name files files.sh || setup_failed "tally run files.sh"
# made last, so that no run's source snapshot holds it
secret="tally-secret-$$-$RANDOM$RANDOM"
echo "$secret" >secret.txt
echo "$secret" >runs/secret.txt

# live: two quick runs; the tests start more, among them slow.sh, which waits for a file.
mkdir -p "$work/live" && cd "$work/live" || exit 1
echo 'echo "loss: 0.5"' >quick.sh
cat >slow.sh <<-\SH
	for step in 0 1 2 3 4 5 6 7 8 9; do echo "loss: $((100 - step)) (step $step)"; done
	# until the test creates the go file (given up after about two minutes)
	n=0
	while ! test -e "$TALLY_RUN_DIR/go" && [ $n -lt 2400 ]; do sleep 0.05; n=$((n + 1)); done
	for step in $(seq 10 29); do echo "loss: $((100 - step)) (step $step)"; done
	echo "late line on stderr" >&2
SH
for i in 1 2; do t run -q --no-system-metrics quick.sh || setup_failed "tally run quick.sh"; done

# xss: payloads in a label, a flag value, a tag, a comment, a scalar's name, output lines,
# the script's source and file names and contents; a second run to compare it with.
mkdir -p "$work/xss" && cd "$work/xss" || exit 1
img='<img src=x onerror=window.__xss=1>'
script='<script>window.__xss=1</script>'
cat >xss.sh <<-\SH
	# <img src=x onerror=window.__xss=1> in a comment, and "<script>window.__xss=1</script>" in a string
	echo '<script>window.__xss=1</script>'
	echo "the note was $2"
	echo '<img src=x onerror=window.__xss=1> on stderr' >&2
	echo "loss: 0.5 (step 1)"
	echo '{"<img src=x onerror=window.__xss=1>": 0.25, "step": 1}' >>"$TALLY_SCALARS"
	echo '{"<img src=x onerror=window.__xss=1>": 0.125, "step": 2}' >>"$TALLY_SCALARS"
	echo '<script>window.__xss=1</script>' >'<img src=x onerror=window.__xss=1>.txt'
	printf 'a,b\n"<img src=x onerror=window.__xss=1>",<script>window.__xss=1</script>\n' >'<img src=x onerror=window.__xss=1>.csv'
	echo '<html><script>window.parent.__xss=1</script></html>' >page.html
SH
t run -q --no-system-metrics xss.sh 'note=plain' || setup_failed "tally run xss.sh (plain)"
t run -q --no-system-metrics -l "$img" xss.sh "note=$img" || setup_failed "tally run xss.sh (payloads)"
t tag -y 1 "+$img" "+$script" || setup_failed "tally tag"
t comment -y 1 "$img $script" || setup_failed "tally comment"

# sweeps: a finished grid sweep over lr (the objective loss = lr: trial 2 is the best).
mkdir -p "$work/sweeps" && cd "$work/sweeps" || exit 1
echo 'echo "loss: $2"' >train.sh
t tune -q --no-system-metrics train.sh 'lr=[0.3,0.1,0.2]' || setup_failed "tally tune"

# The servers: main, live, xss, sweeps, and main again behind a token.
start_view() { # NAME DIR [OPTIONS…]: sets $url to the URL it prints
	local name=$1 dir=$2 n=0
	shift 2
	"$tally" view --no-open --port 0 --runs-dir "$dir/runs" "$@" >"$work/$name.url" 2>"$work/$name.err" &
	pids+=($!)
	while [ ! -s "$work/$name.url" ]; do
		n=$((n + 1))
		if [ $n -gt 600 ] || ! kill -0 "${pids[-1]}" 2>/dev/null; then
			cat "$work/$name.err" >>"$work/setup.log"
			setup_failed "tally view ($name) printed no URL"
		fi
		sleep 0.05
	done
	url=$(head -n 1 "$work/$name.url")
}
token=s3cret-token-x
names=()
start_view main "$work/main" && main_url=$url && names+=(main)
start_view live "$work/live" && live_url=$url && names+=(live)
start_view xss "$work/xss" && xss_url=$url && names+=(xss)
start_view sweeps "$work/sweeps" && sweeps_url=$url && names+=(sweeps)
start_view token "$work/main" --token "$token" && token_url=${url%%\?*} && names+=(token)

cd "$here" || exit 1
[ ${#tests[@]} -gt 0 ] || tests=(./*.test.mjs)
export TALLY_BIN=$tally TALLY_CHROMIUM=$chromium TALLY_SCREENSHOTS=$screenshots TALLY_SECRET=$secret \
	TALLY_MAIN_URL=$main_url TALLY_MAIN_DIR=$work/main \
	TALLY_LIVE_URL=$live_url TALLY_LIVE_DIR=$work/live \
	TALLY_XSS_URL=$xss_url TALLY_XSS_DIR=$work/xss \
	TALLY_SWEEPS_URL=$sweeps_url TALLY_SWEEPS_DIR=$work/sweeps \
	TALLY_TOKEN_URL=$token_url TALLY_TOKEN=$token
# One file at a time: the machine may have two cores and be busy.
timeout 600 node --test --test-reporter=tap --test-concurrency=1 "${tests[@]}" >"$work/tap" 2>&1
status=$?
cat "$work/tap"
[ $status -eq 124 ] && echo "not ok - browser: node --test did not finish in 600 s"
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$work/tap" | tail -n 1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$work/tap" | tail -n 1)
cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$work/tap" | tail -n 1)
passed=${passed:-0}
failed=$((${failed:-0} + ${cancelled:-0}))
# A server that died (crashed) during the tests is a failure of its own.
for i in "${!pids[@]}"; do
	if ! kill -0 "${pids[$i]}" 2>/dev/null; then
		wait "${pids[$i]}"
		echo "not ok - browser: tally view (${names[$i]}) died during the tests, exit status $?"
		sed 's/^/#   /' "$work/${names[$i]}.err" | tail -n 20
		failed=$((failed + 1))
	fi
done
if [ $((passed + failed)) -eq 0 ] || { [ $status -ne 0 ] && [ $failed -eq 0 ]; }; then
	echo "not ok - browser: node --test ran no test or failed outside a test (exit status $status)"
	failed=$((failed + 1))
fi
echo "browser: $passed passed, $failed failed"
[ $failed -eq 0 ]
