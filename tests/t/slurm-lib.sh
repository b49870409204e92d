# slurm-lib.sh — a real single-node Slurm cluster for end-to-end tests.
#
# Source it after test-lib.sh (which sets $TRASH and cd's there):
#
#   . "$TEST_DIRECTORY/test-lib.sh"
#   . "$TEST_DIRECTORY/slurm-lib.sh"
#   test_expect_success 'a single-node Slurm cluster starts' 'slurm_start'
#   test_expect_success 'a job runs' '
#       id=$(sbatch --parsable --wrap true) &&
#       slurm_wait_job_gone "$id" &&
#       test "$(slurm_job_state "$id")" = COMPLETED
#   '
#
# Everything lives under $TRASH/slurm (slurm.conf, state, spool, pid and log
# files); nothing is written in /etc.  SLURM_CONF is exported as soon as this
# file is sourced, so sbatch/squeue/scancel/scontrol/sinfo talk to this
# cluster even when slurm_start ran in a test body's subshell (the daemons
# detach; their pid files are what slurm_stop reads).  Ports are picked free
# at random for each start, so two test scripts, or a cluster a killed test
# left behind, never collide (a port taken meanwhile: it retries on others).
# slurm_stop runs from the EXIT trap (this file replaces test-lib's with one
# that calls slurm_stop, then test_cleanup), so a failing or killed
# (SIGTERM/SIGINT) test stops the daemons too; only SIGKILL leaves them.
#
# munge is shared: the system munged on /run/munge/munge.socket.2.  If one is
# running and answering it is used and left alone; otherwise slurm_start
# starts one (as the munge user) and records its PID in
# /run/munge/tally-harness.munged.  Each cluster registers in
# /run/munge/tally-harness.users/; slurm_stop stops the munged the harness
# started only when no other registered cluster is live (its slurmctld runs,
# or the shell that registered it does).
#
# Pitfalls (Slurm 22.05): squeue's -j takes an optional argument, so it must be
# written -jID or --jobs=ID ("-j ID" lists every job); without accounting there
# is no sacct, and a finished job stays visible to `scontrol show job` for
# MinJobAge (600 s here); `sbatch --wait` polls only every 2 s and then 10 s.

SLURM_DIR=$TRASH/slurm
export SLURM_CONF="$SLURM_DIR/slurm.conf"
SLURM_NODE=$(hostname -s 2>/dev/null || hostname)
SLURM_NODE=${SLURM_NODE%%.*}
SLURM_MUNGE_DIR=/run/munge
SLURM_START_TIMEOUT=${SLURM_START_TIMEOUT:-20}

# --- small helpers ---------------------------------------------------------

# Milliseconds since the epoch (bash 5's EPOCHREALTIME, no fork).
_slurm_now_ms() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((t / 1000))
}

# True when PID exists and is not a zombie.  PID 1 here may reap late, so a
# dead daemon can linger as Z and `kill -0` would call it alive.
slurm_pid_alive() {
	local stat
	[ -n "${1:-}" ] || return 1
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# The PID in pid file $1 (DIR/NAME.pid) if it is alive and its command line
# is "NAME -f DIR/slurm.conf …" — a guard against a recycled PID.
_slurm_pidfile_pid() {
	local pid cmd name=${1##*/}
	name=${name%.pid}
	pid=$(cat "$1" 2>/dev/null) || return 1
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	slurm_pid_alive "$pid" || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	case $cmd in "$name -f ${1%/*}/slurm.conf "* | */"$name -f ${1%/*}/slurm.conf "*) echo "$pid" ;; *) return 1 ;; esac
}

# The live daemons of this cluster, one "NAME PID" line each.
slurm_daemon_pids() {
	local pid
	pid=$(_slurm_pidfile_pid "$SLURM_DIR/slurmctld.pid") && echo "slurmctld $pid"
	pid=$(_slurm_pidfile_pid "$SLURM_DIR/slurmd.pid") && echo "slurmd $pid"
	return 0
}

# TERM the PIDs given, wait until they are gone (Z counts as gone), then KILL
# what is left after $SLURM_STOP_GRACE seconds (default 10).
_slurm_kill_wait() {
	local deadline pid left sig=TERM
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	deadline=$(($(_slurm_now_ms) + ${SLURM_STOP_GRACE:-10} * 1000))
	while :; do
		left=
		for pid; do slurm_pid_alive "$pid" && left="$left $pid"; done
		[ -z "$left" ] && return 0
		if [ "$(_slurm_now_ms)" -ge "$deadline" ]; then
			[ $sig = KILL ] && { echo "slurm-lib: still alive after SIGKILL:$left" >&2; return 1; }
			echo "slurm-lib: SIGKILL to$left (no exit after SIGTERM)" >&2
			sig=KILL
			# shellcheck disable=SC2086
			kill -KILL $left 2>/dev/null
			deadline=$(($(_slurm_now_ms) + 5000))
		fi
		sleep 0.02
	done
}

# Children (by PPid) of PID $1, e.g. slurmctld's slurmscriptd.
_slurm_children() {
	grep -ls "^PPid:[[:space:]]*$1\$" /proc/[0-9]*/status | sed 's|^/proc/||; s|/status$||'
	return 0
}

# Tail (last $1 lines, default 20) of the daemon logs, on stderr.
# shellcheck disable=SC2120
slurm_logs() {
	local f
	for f in "$SLURM_DIR"/log/*.log; do
		[ -f "$f" ] || continue
		echo "--- tail of $f" >&2
		tail -n "${1:-20}" "$f" >&2
	done
}

_slurm_fail() {
	echo "slurm-lib: $*" >&2
	slurm_logs
	return 1
}

# A random port P with P and P+1 free: bound by no TCP or UDP socket in any
# state (a TIME-WAIT connection's port makes slurmd's bind fail too) and
# outside the kernel's ephemeral range, which outgoing connections take from.
_slurm_free_port_pair() {
	local i p lo=32768 hi=60999 min=10000 max used
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	if [ $((lo - 1 - min)) -ge 1000 ]; then
		max=$((lo - 2))
	else
		min=$((hi + 1)) max=65000
	fi
	used=$(ss -Htuan 2>/dev/null | awk '{print $5}' | sed 's/.*://' | sort -u)
	for i in $(seq 100); do
		p=$((min + (RANDOM * 32768 + RANDOM) % (max - min + 1)))
		printf '%s\n' "$used" | grep -qx -e "$p" -e "$((p + 1))" && continue
		echo "$p"
		return 0
	done
	return 1
}

# --- munge -----------------------------------------------------------------

_slurm_munge_ok() {
	munge -n 2>/dev/null | unmunge >/dev/null 2>&1
}

# Make sure a munged answers; register this test as a user of it.  Runs under
# a lock so that two test scripts starting at once start one munged.
_slurm_munge_up() {
	install -d -o munge -g munge -m 0755 "$SLURM_MUNGE_DIR" || return 1
	mkdir -p "$SLURM_MUNGE_DIR/tally-harness.users" || return 1
	(
		flock -w 30 9 || { echo "slurm-lib: cannot lock $SLURM_MUNGE_DIR/tally-harness.lock" >&2; exit 1; }
		echo "$$ $TRASH" >"$SLURM_MUNGE_DIR/tally-harness.users/${TRASH//\//_}"
		_slurm_munge_ok && exit 0
		if [ ! -s /etc/munge/munge.key ]; then
			runuser -u munge -- mungekey --create 9>&- || exit 1
		fi
		rm -f "$SLURM_MUNGE_DIR/tally-harness.munged"
		# munged forks into the background: keep it off our lock and output.
		runuser -u munge -- munged 9>&- </dev/null >/dev/null 2>&1 || {
			echo "slurm-lib: munged failed to start (see /var/log/munge/munged.log)" >&2
			exit 1
		}
		for _ in $(seq 200); do
			_slurm_munge_ok && break
			sleep 0.05
		done
		_slurm_munge_ok || { echo "slurm-lib: munged does not answer" >&2; exit 1; }
		# Remember that the harness started it, so that the last user stops it.
		cp "$SLURM_MUNGE_DIR/munged.pid" "$SLURM_MUNGE_DIR/tally-harness.munged"
	) 9>"$SLURM_MUNGE_DIR/tally-harness.lock"
}

# Unregister; stop munged if the harness started it and no live test uses it.
_slurm_munge_down() {
	[ -d "$SLURM_MUNGE_DIR/tally-harness.users" ] || return 0
	(
		flock -w 30 9 || exit 1
		rm -f "$SLURM_MUNGE_DIR/tally-harness.users/${TRASH//\//_}"
		for u in "$SLURM_MUNGE_DIR"/tally-harness.users/*; do
			[ -f "$u" ] || continue
			# A user is live while its cluster's slurmctld runs, or while the
			# shell that registered runs (it may be starting one).
			read -r upid utrash <"$u"
			if { slurm_pid_alive "$upid" && [ -d "$utrash" ]; } ||
				_slurm_pidfile_pid "$utrash/slurm/slurmctld.pid" >/dev/null; then
				exit 0
			fi
			rm -f "$u"
		done
		pid=$(cat "$SLURM_MUNGE_DIR/tally-harness.munged" 2>/dev/null) || exit 0
		[ "$pid" = "$(cat "$SLURM_MUNGE_DIR/munged.pid" 2>/dev/null)" ] &&
			slurm_pid_alive "$pid" && _slurm_kill_wait "$pid"
		rm -f "$SLURM_MUNGE_DIR/tally-harness.munged"
	) 9>"$SLURM_MUNGE_DIR/tally-harness.lock"
}

# --- the cluster -----------------------------------------------------------

_slurm_write_conf() {
	local port=$1
	cat >"$SLURM_CONF" <<-EOF
	# Written by tests/t/slurm-lib.sh for $TEST_NAME
	ClusterName=tally
	SlurmctldHost=$SLURM_NODE(127.0.0.1)
	SlurmctldPort=$port
	SlurmdPort=$((port + 1))
	SlurmUser=root
	SlurmdUser=root
	AuthType=auth/munge
	CredType=cred/munge
	StateSaveLocation=$SLURM_DIR/state
	SlurmdSpoolDir=$SLURM_DIR/spool
	SlurmctldPidFile=$SLURM_DIR/slurmctld.pid
	SlurmdPidFile=$SLURM_DIR/slurmd.pid
	SlurmctldLogFile=$SLURM_DIR/log/slurmctld.log
	SlurmdLogFile=$SLURM_DIR/log/slurmd.log
	SlurmctldDebug=info
	SlurmdDebug=info
	ProctrackType=proctrack/linuxproc
	TaskPlugin=task/none
	SelectType=select/cons_tres
	SelectTypeParameters=CR_Core
	JobAcctGatherType=jobacct_gather/none
	AccountingStorageType=accounting_storage/none
	JobCompType=jobcomp/none
	MpiDefault=none
	MailProg=/bin/true
	ReturnToService=2
	SchedulerType=sched/backfill
	SchedulerParameters=batch_sched_delay=0,sched_interval=1,sched_min_interval=0,bf_interval=1,default_queue_depth=1000
	MinJobAge=600
	KillWait=2
	# A requeued batch job waits out its credential's lifetime (120 s by default) before it starts again.
	AuthInfo=cred_expire=5
	SlurmdParameters=config_overrides
	NodeName=$SLURM_NODE NodeAddr=127.0.0.1 CPUs=4 State=UNKNOWN
	PartitionName=debug Nodes=$SLURM_NODE Default=YES MaxTime=INFINITE State=UP
	EOF
}

# True once the cluster takes jobs: slurmctld answers, the node is idle and
# its slurmd answers, and a trivial submission would be scheduled.
slurm_ready() {
	scontrol ping 2>/dev/null | grep -q 'is UP' &&
		[ "$(sinfo -h -n "$SLURM_NODE" -o %t 2>/dev/null)" = idle ] &&
		scontrol show slurmd >/dev/null 2>&1 &&
		sbatch --test-only --wrap true >/dev/null 2>&1
}

# The live processes of daemon $1 (slurmctld or slurmd) of this cluster, by
# command line: a daemon that fails early never writes its pid file.
_slurm_procs() {
	local f pid
	for f in $(grep -lsF -- "$SLURM_CONF" /proc/[0-9]*/cmdline); do
		pid=${f#/proc/} pid=${pid%/cmdline}
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] && slurm_pid_alive "$pid" && echo "$pid"
	done
	return 0
}

# True when daemon $1's log says its port was taken.
_slurm_port_taken() {
	grep -qs -e 'Address already in use' "$SLURM_DIR/log/$1.log"
}

# One try at starting both daemons with the ports in slurm.conf ($1, $1+1),
# until deadline $2 (ms).  Status 0: up; 2: a port was taken; 1: failure.
_slurm_try_start() {
	local port=$1 deadline=$2 c
	# Started with nothing of ours inherited (test bodies run in $(...));
	# both fork into the background.  Their working directory is log/.
	(cd "$SLURM_DIR/log" && slurmctld -f "$SLURM_CONF" -c -i </dev/null >>slurmctld.out 2>&1) ||
		{ _slurm_fail "slurmctld failed to start"; return 1; }
	# slurmd registers at once when slurmctld already answers, but retries
	# only a second later when it does not.
	while ! scontrol ping 2>/dev/null | grep -q 'is UP'; do
		_slurm_port_taken slurmctld && return 2
		[ -n "$(_slurm_procs slurmctld)" ] || { _slurm_fail "slurmctld died while starting"; return 1; }
		[ "$(_slurm_now_ms)" -lt "$deadline" ] ||
			{ _slurm_fail "slurmctld does not answer on port $port after ${SLURM_START_TIMEOUT} s"; return 1; }
		sleep 0.02
	done
	# The slurmctld that answers must be ours, not one that got the port first.
	_slurm_port_taken slurmctld && return 2
	[ "$(scontrol show config 2>/dev/null | sed -n 's/^StateSaveLocation *= *//p')" = "$SLURM_DIR/state" ] ||
		{ echo "slurm-lib: the slurmctld on port $port is not this cluster's" >&2; return 2; }
	(cd "$SLURM_DIR/log" && slurmd -f "$SLURM_CONF" -N "$SLURM_NODE" </dev/null >>slurmd.out 2>&1) ||
		{ _slurm_fail "slurmd failed to start"; return 1; }
	while ! slurm_ready; do
		_slurm_port_taken slurmd && return 2
		for c in slurmctld slurmd; do
			[ -n "$(_slurm_procs $c)" ] || { _slurm_fail "$c died while starting"; return 1; }
		done
		[ "$(_slurm_now_ms)" -lt "$deadline" ] ||
			{ _slurm_fail "the cluster is not up after ${SLURM_START_TIMEOUT} s (ports $port, $((port + 1)))"; return 1; }
		sleep 0.05
	done
}

# Start slurmctld and slurmd (and munged if needed) in $TRASH/slurm and wait
# until the cluster takes jobs; fail loudly (status 1, logs on stderr)
# otherwise.  Does nothing if this cluster already runs.  Sets
# SLURM_START_MS (also in $TRASH/slurm/start-ms).
slurm_start() {
	local c port deadline t0 try rc
	t0=$(_slurm_now_ms)
	case :$PATH: in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac
	for c in slurmctld slurmd sbatch squeue scancel scontrol sinfo munged munge unmunge ss flock runuser; do
		command -v "$c" >/dev/null 2>&1 ||
			{ echo "slurm-lib: '$c' not found; install slurmctld slurmd slurm-client munge (scripts/install-deps)" >&2; return 1; }
	done
	if [ -n "$(slurm_daemon_pids)" ]; then
		slurm_ready && return 0
		_slurm_fail "a cluster from $SLURM_DIR runs but does not answer"
		return 1
	fi
	mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool" "$SLURM_DIR/log" || return 1
	_slurm_munge_up || return 1
	deadline=$((t0 + SLURM_START_TIMEOUT * 1000))
	for try in 1 2 3; do
		port=$(_slurm_free_port_pair) || { echo "slurm-lib: no free port pair" >&2; return 1; }
		_slurm_write_conf "$port" || return 1
		_slurm_try_start "$port" "$deadline"
		rc=$?
		[ $rc -eq 2 ] || break
		# Another process took a port after we looked: clear up, other ports.
		echo "slurm-lib: port $port or $((port + 1)) was taken; trying others" >&2
		# shellcheck disable=SC2046
		_slurm_kill_wait $(_slurm_procs slurmctld) $(_slurm_procs slurmd)
		rm -rf "$SLURM_DIR/slurmctld.pid" "$SLURM_DIR/slurmd.pid" "$SLURM_DIR/state" "$SLURM_DIR/spool"
		mkdir -p "$SLURM_DIR/state" "$SLURM_DIR/spool"
		for c in "$SLURM_DIR"/log/*.log; do mv -f "$c" "$c.try$try"; done
	done
	if [ $rc -ne 0 ]; then
		[ $rc -eq 2 ] && _slurm_fail "ports taken on $try tries"
		return 1
	fi
	SLURM_START_MS=$(($(_slurm_now_ms) - t0))
	echo "$SLURM_START_MS" >"$SLURM_DIR/start-ms"
	echo "slurm-lib: cluster up in ${SLURM_START_MS} ms (ports $port, $((port + 1)))" >&2
}

# Cancel every job of this cluster, then stop the daemons this harness
# started (by their pid files) and munged if it is the last user of the one
# the harness started.  Safe to call twice, and when nothing was started.
slurm_stop() {
	local ctld slurmd ids pids deadline rc=0
	[ -f "$SLURM_CONF" ] || return 0
	ctld=$(_slurm_pidfile_pid "$SLURM_DIR/slurmctld.pid")
	slurmd=$(_slurm_pidfile_pid "$SLURM_DIR/slurmd.pid")
	if [ -n "$ctld" ]; then
		ids=$(squeue -h -o %F 2>/dev/null | sort -u)
		if [ -n "$ids" ]; then
			# shellcheck disable=SC2086
			scancel $ids 2>/dev/null
			deadline=$(($(_slurm_now_ms) + 10000))
			while [ -n "$(squeue -h 2>/dev/null)" ] && [ "$(_slurm_now_ms)" -lt "$deadline" ]; do
				sleep 0.05
			done
		fi
	fi
	# slurmctld's helper (slurmscriptd) goes with it, but make sure.
	pids="$ctld $slurmd"
	[ -n "$ctld" ] && pids="$pids $(_slurm_children "$ctld" | tr '\n' ' ')"
	# shellcheck disable=SC2086
	_slurm_kill_wait $pids || rc=1
	# A daemon of this cluster (its command line names this slurm.conf) whose
	# pid file is missing or stale: one that failed half-way through starting.
	pids="$(_slurm_procs slurmctld) $(_slurm_procs slurmd)"
	# shellcheck disable=SC2086
	[ -z "${pids// /}" ] || _slurm_kill_wait $pids || rc=1
	rm -f "$SLURM_DIR/slurmctld.pid" "$SLURM_DIR/slurmd.pid"
	_slurm_munge_down || rc=1
	return $rc
}

# The State of job $1 from `scontrol -o show job` (PENDING, RUNNING,
# COMPLETED, TIMEOUT, CANCELLED, …); empty if unknown.  For an array job ID
# this prints one line per task record.
slurm_job_state() {
	scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'
}

# Wait until `squeue` no longer lists job $1 (pending, running or
# completing); fail after $2 seconds (default 30).  A job slurmctld no longer
# knows counts as gone; a controller that does not answer does not.
slurm_wait_job_gone() {
	local deadline=$(($(_slurm_now_ms) + ${2:-30} * 1000)) out
	while :; do
		# -j takes an optional argument: "-j ID" would list every job.
		if out=$(squeue -h --jobs="$1" 2>&1); then
			[ -z "$out" ] && return 0
		else
			case $out in *"Invalid job id"*) return 0 ;; esac
		fi
		if [ "$(_slurm_now_ms)" -ge "$deadline" ]; then
			echo "slurm_wait_job_gone: job $1 still queued after ${2:-30} s:" >&2
			printf '%s\n' "$out" >&2
			return 1
		fi
		sleep 0.05
	done
}

# Wait until job $1 (every task of an array) is in state $2 (e.g. RUNNING);
# fail after $3 seconds (default 30).
slurm_wait_job_state() {
	local deadline=$(($(_slurm_now_ms) + ${3:-30} * 1000)) s
	while :; do
		s=$(slurm_job_state "$1" | sort -u)
		[ "$s" = "$2" ] && return 0
		if [ "$(_slurm_now_ms)" -ge "$deadline" ]; then
			echo "slurm_wait_job_state: job $1 is '$s', not $2, after ${3:-30} s" >&2
			return 1
		fi
		sleep 0.05
	done
}

# Number of RUNNING jobs (array tasks counted one by one).
slurm_running_count() {
	squeue -h -t R -r 2>/dev/null | wc -l
}

# Wait until exactly $1 jobs (array tasks one by one) are RUNNING; fail after
# $2 seconds (default 30).
slurm_wait_running() {
	local deadline=$(($(_slurm_now_ms) + ${2:-30} * 1000)) n
	while n=$(slurm_running_count) && [ "$n" != "$1" ]; do
		if [ "$(_slurm_now_ms)" -ge "$deadline" ]; then
			echo "slurm_wait_running: $n running, not $1, after ${2:-30} s" >&2
			squeue >&2
			return 1
		fi
		sleep 0.05
	done
}

# Number of jobs (array tasks one by one) squeue still lists: pending,
# running or completing.
slurm_queued_count() {
	squeue -h -r 2>/dev/null | wc -l
}

# Run slurm_stop before test-lib's cleanup when the test script exits, even on
# failure or SIGTERM/SIGINT, keeping test_cleanup's view of the exit status.
_slurm_exit_hook() {
	local rc=$?
	slurm_stop
	(exit $rc)
	! declare -F test_cleanup >/dev/null || test_cleanup
}
trap _slurm_exit_hook EXIT
