#!/usr/bin/env bash
# tally run and signals: SIGINT/SIGTERM are forwarded to the script's process
# group and the run is recorded "terminated"; a SIGKILLed supervisor leaves a
# run that still reads "terminated"; runs in progress read "running"; many
# concurrent runs in one directory do not trample each other.
. "$(dirname "$0")/test-lib.sh"

# Processes a test leaves behind on failure (orphaned scripts) are killed at
# exit, before the scratch directory goes.
STRAYS="$TRASH/.stray-pids"
: >"$STRAYS"
kill_strays() {
	local p cwd
	while read -r p; do
		# only processes of this test: their working directory is in $TRASH
		cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
		case $cwd in "$TRASH"/*) kill -KILL -- "-$p" "$p" 2>/dev/null ;; esac
	done <"$STRAYS"
	test_cleanup
}
trap kill_strays EXIT

# wait_for PATTERN FILE-GLOB…: poll (at most ~20 s) until a file matching the
# glob contains PATTERN.
wait_for() {
	local pat=$1 i
	shift
	for i in $(seq 200); do
		# shellcheck disable=SC2068  # the glob must expand here
		grep -qs -- "$pat" $@ && return 0
		sleep 0.1
	done
	echo "wait_for: '$pat' never appeared in $*" >&2
	ls -la runs runs/*/.tally >&2 2>/dev/null
	cat out err >&2 2>/dev/null
	return 1
}

# alive PID: PID runs (a zombie does not count: nothing may reap orphans here).
alive() {
	local s
	s=$(ps -o stat= -p "$1" 2>/dev/null) && case $s in Z*) return 1 ;; esac
}

# wait_gone PID: poll (at most ~5 s) until PID no longer runs.
wait_gone() {
	local i
	for i in $(seq 50); do
		alive "$1" || return 0
		sleep 0.1
	done
	echo "wait_gone: process $1 still runs" >&2
	return 1
}

# wait_exit PID: wait for a background tally, but never longer than ~20 s;
# its exit status lands in $RC.
wait_exit() {
	local i
	for i in $(seq 200); do
		alive "$1" || break
		sleep 0.1
	done
	if alive "$1"; then
		echo "wait_exit: tally $1 did not exit" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1"
	RC=$?
}

# show_check PYTHON-EXPR: evaluate an assertion over `tally show --format json`
# (as d) for the latest run.
show_check() {
	tally show --format json >show.json &&
	"$PYTHON" -c "
import json, sys
d = json.load(open('show.json'))
ok = eval(sys.argv[1])
if not ok:
    print('show_check failed:', sys.argv[1], json.dumps(d, indent=1)[:2000], file=sys.stderr)
    sys.exit(1)
" "$1"
}

# bash ignores a SIGINT that arrives just as a foreground command exits
# normally ("wait and cooperative exit"), which would make these tests
# flaky; dash has no such rule and dies of the signal (same pid via exec).
cat >loop.sh <<'SH'
echo $$ >script.pid
exec /bin/sh -c 'while true; do echo tick; sleep 0.1; done'
SH

test_expect_success 'SIGINT to tally run terminates the run, exit 130' '
	mkdir sigint && cd sigint && cp ../loop.sh . &&
	{ with_default_signals tally run -q loop.sh >out 2>err & pid=$!; } &&
	echo "$pid" >>"$STRAYS" &&
	wait_for tick "runs/*/.tally/output" &&
	kill -INT "$pid" &&
	wait_exit "$pid" &&
	test "$RC" = 130 &&
	show_check "d[\"status\"] == \"terminated\" and d[\"signal\"] == 2 and d[\"exit_status\"] is None" &&
	show_check "d.get(\"stop_reason\") and d[\"stopped\"] and d[\"stopped_ms\"] >= d[\"started_ms\"]" &&
	grep -q "terminated" err &&
	spid=$(cat runs/*/script.pid) && wait_gone "$spid"
'

test_expect_success 'SIGTERM to tally run terminates the run, exit 143' '
	mkdir sigterm && cd sigterm && cp ../loop.sh . &&
	{ with_default_signals tally run -q loop.sh >out 2>err & pid=$!; } &&
	echo "$pid" >>"$STRAYS" &&
	wait_for tick "runs/*/.tally/output" &&
	kill -TERM "$pid" &&
	wait_exit "$pid" &&
	test "$RC" = 143 &&
	show_check "d[\"status\"] == \"terminated\" and d[\"signal\"] == 15" &&
	tally runs --format json | "$PYTHON" -c "import json,sys; r=json.load(sys.stdin); assert len(r)==1 and r[0][\"status\"]==\"terminated\", r" &&
	spid=$(cat runs/*/script.pid) && wait_gone "$spid"
'

test_expect_success 'a python script interrupted with SIGINT is terminated' '
	mkdir py && cd py &&
	cat >loop.py <<-PY &&
	import os, time
	open("script.pid", "w").write(str(os.getpid()))
	print("tick", flush=True)
	while True:
	    time.sleep(0.1)
	PY
	{ with_default_signals tally run -q --interpreter "$PYTHON" loop.py >out 2>err & pid=$!; } &&
	echo "$pid" >>"$STRAYS" &&
	wait_for tick "runs/*/.tally/output" &&
	kill -INT "$pid" &&
	wait_exit "$pid" &&
	test "$RC" = 130 &&
	show_check "d[\"status\"] == \"terminated\" and d[\"signal\"] == 2" &&
	show_check "d[\"command\"][0] == \"$PYTHON\"" &&
	spid=$(cat runs/*/script.pid) && wait_gone "$spid"
'

test_expect_success 'a python script picked by tally.yml interpreters: is interrupted too' '
	mkdir pyyml && cd pyyml &&
	printf "interpreters:\n  py: %s\n" "$PYTHON" >tally.yml &&
	printf "import time\nprint(\"tick\", flush=True)\nwhile True:\n    time.sleep(0.1)\n" >loop.py &&
	{ with_default_signals tally run -q loop.py >out 2>err & pid=$!; } &&
	echo "$pid" >>"$STRAYS" &&
	wait_for tick "runs/*/.tally/output" &&
	kill -INT "$pid" &&
	wait_exit "$pid" &&
	test "$RC" = 130 &&
	show_check "d[\"status\"] == \"terminated\" and d[\"command\"][0] == \"$PYTHON\""
'

test_expect_success 'the whole process group of the script gets the signal' '
	mkdir group && cd group &&
	cat >grp.sh <<-\SH &&
	echo $$ >script.pid
	sleep 300 &
	echo $! >child.pid
	echo started
	wait
	SH
	{ with_default_signals tally run -q grp.sh >out 2>err & pid=$!; } &&
	echo "$pid" >>"$STRAYS" &&
	wait_for started "runs/*/.tally/output" &&
	spid=$(cat runs/*/script.pid) && cpid=$(cat runs/*/child.pid) &&
	echo "$spid" >>"$STRAYS" &&
	alive "$spid" && alive "$cpid" &&
	kill -TERM "$pid" &&
	wait_exit "$pid" &&
	test "$RC" = 143 &&
	wait_gone "$spid" &&
	wait_gone "$cpid" &&
	show_check "d[\"status\"] == \"terminated\""
'

test_expect_success 'a SIGKILLed tally leaves a run that reads terminated, not running' '
	mkdir killed && cd killed &&
	cat >orphan.sh <<-\SH &&
	echo $$ >script.pid
	echo started
	exec >/dev/null 2>&1
	while true; do sleep 0.1; done
	SH
	{ with_default_signals tally run -q orphan.sh >out 2>err & pid=$!; } &&
	echo "$pid" >>"$STRAYS" &&
	wait_for started "runs/*/.tally/output" &&
	spid=$(cat runs/*/script.pid) &&
	echo "$spid" >>"$STRAYS" &&
	tally runs --format json | "$PYTHON" -c "import json,sys; r=json.load(sys.stdin); assert r[0][\"status\"]==\"running\", r" &&
	kill -KILL "$pid" &&
	wait_exit "$pid" &&
	test "$RC" = 137 &&
	alive "$spid" &&
	tally runs --format json >runs.json &&
	"$PYTHON" -c "import json; r=json.load(open(\"runs.json\")); assert len(r)==1 and r[0][\"status\"]==\"terminated\", r" &&
	show_check "d[\"status\"] == \"terminated\" and d.get(\"stop_reason\")" &&
	"$PYTHON" -c "
import json, glob
(f,) = glob.glob(\"runs/*/.tally/run.json\")
d = json.load(open(f))
assert d[\"status\"] == \"terminated\", d
assert isinstance(d.get(\"stop_reason\"), str) and d[\"stop_reason\"], d
" &&
	kill -TERM -- "-$spid" &&
	wait_gone "$spid" &&
	tally runs --format json | "$PYTHON" -c "import json,sys; r=json.load(sys.stdin); assert r[0][\"status\"]==\"terminated\", r"
'

test_expect_success 'a run in progress reads running, then completed' '
	mkdir progress && cd progress &&
	mkfifo gate &&
	export GATE="$PWD/gate" &&
	cat >wait.sh <<-\SH &&
	echo $$ >script.pid
	echo "loss: 1"
	echo started
	read -r line <"$GATE"
	echo "loss: 2"
	SH
	{ with_default_signals tally run -q wait.sh >out 2>err & pid=$!; } &&
	echo "$pid" >>"$STRAYS" &&
	wait_for started "runs/*/.tally/output" &&
	cat runs/*/script.pid >>"$STRAYS" &&
	tally runs --format json >r1.json &&
	"$PYTHON" -c "import json; r=json.load(open(\"r1.json\")); assert len(r)==1 and r[0][\"status\"]==\"running\" and r[0][\"exit_status\"] is None, r" &&
	tally runs >table &&
	grep -Eq "^1 .* running( |$)" table &&
	show_check "d[\"status\"] == \"running\"" &&
	tally runs --format json | "$PYTHON" -c "import json,sys; r=json.load(sys.stdin); assert r[0][\"status\"]==\"running\", r" &&
	timeout 10 sh -c "echo go >gate" &&
	wait_exit "$pid" &&
	test "$RC" = 0 &&
	tally runs --format json >r2.json &&
	"$PYTHON" -c "
import json
r = json.load(open(\"r2.json\"))
assert len(r) == 1 and r[0][\"status\"] == \"completed\" and r[0][\"exit_status\"] == 0, r
assert r[0][\"scalars\"][\"loss\"][\"last\"] == 2 and r[0][\"scalars\"][\"loss\"][\"count\"] == 2, r
"
'

test_expect_success '200 concurrent runs in one directory all complete, each its own' '
	mkdir many && cd many &&
	printf "echo \"loss: \$FLAG_I\"\n" >tiny.sh &&
	for i in $(seq 200); do
		tally run -q tiny.sh i=$i >/dev/null 2>>errs &  # stderr lines may interleave
	done &&
	wait &&
	! grep -i "tally: \|error\|warning" errs &&
	test "$(run_count)" = 200 &&
	test "$(ls runs | grep -v "^\." | sort -u | wc -l)" = 200 &&
	tally runs --format json >all.json &&
	"$PYTHON" -c "
import json
r = json.load(open(\"all.json\"))
assert len(r) == 200, len(r)
assert len({x[\"id\"] for x in r}) == 200
assert len({x[\"dir\"] for x in r}) == 200
assert {x[\"status\"] for x in r} == {\"completed\"}, {x[\"status\"] for x in r}
assert all(x[\"exit_status\"] == 0 for x in r)
assert sorted(x[\"flags\"][\"i\"] for x in r) == list(range(1, 201))
for x in r:
    assert x[\"scalars\"][\"loss\"][\"last\"] == x[\"flags\"][\"i\"], x
"
'

test_expect_success 'a repeated interrupt escalates to SIGTERM for a script that ignores SIGINT' '
	mkdir stubborn && cd stubborn &&
	printf "trap \"\" INT\necho \$\$ >script.pid\nwhile true; do echo tick; sleep 0.1; done\n" >stubborn.sh &&
	{ with_default_signals tally run -q stubborn.sh >out 2>err & pid=$!; } &&
	for i in $(seq 600); do grep -q tick runs/*/.tally/output 2>/dev/null && break; sleep 0.1; done &&
	kill -INT $pid && sleep 0.5 && kill -0 $pid &&
	kill -INT $pid &&
	wait_exit $pid &&
	test "$RC" = 143 &&
	tally runs --format json | "$PYTHON" -c "import json,sys; r=json.load(sys.stdin)[0]; assert r[\"status\"]==\"terminated\", r"
'

test_expect_success 'signals ignored when tally starts stay ignored (nohup): the run goes on' '
	mkdir nohup && cd nohup &&
	printf "sleep 1\necho finished\n" >s.sh &&
	{ nohup tally run -q s.sh >out 2>err & pid=$!; } &&
	sleep 0.3 && kill -HUP $pid &&
	wait_exit $pid &&
	test "$RC" = 0 &&
	grep -q "^finished$" runs/*/.tally/output
'

test_expect_success 'at a terminal: Ctrl-Z stops the run, bg leaves the shell its terminal, fg finishes it' '
	mkdir pty && cd pty &&
	# 8 s of ticks: still running when `fg` comes (~5 s in), whatever the load
	printf "for i in \$(seq 1 80); do echo tick \$i; sleep 0.1; done\n" >long.sh &&
	"$PYTHON" - <<-\PY
	import os, pty, select, sys, time
	pid, fd = pty.fork()
	if pid == 0:
	    os.execvp("bash", ["bash", "--norc", "--noprofile", "-i"])
	def read(seconds):
	    out, end = b"", time.time() + seconds
	    while time.time() < end:
	        r, _, _ = select.select([fd], [], [], 0.1)
	        if r:
	            try:
	                out += os.read(fd, 4096)
	            except OSError:
	                break
	    return out.decode(errors="replace")
	read(1)
	os.write(fd, b"tally run -q long.sh\n")
	time.sleep(1.0)
	read(0.2)
	os.write(fd, b"\x1a")
	assert "Stopped" in read(1.5), "Ctrl-Z did not stop the job"
	os.write(fd, b"bg\n")
	read(0.5)
	os.write(fd, b"echo shell-still-here\n")
	assert "shell-still-here" in read(1.5), "the shell lost its terminal after bg"
	os.write(fd, b"fg\n")
	out = read(12)
	assert "completed" in out, out[-300:]
	os.write(fd, b"exit\n")
	read(0.5)
	PY
'

test_done
