#!/usr/bin/env bash
# System metrics: sys/cpu_percent and sys/rss_mb of the script's whole
# process tree, GPU metrics exactly when NVML finds a GPU, the interval and
# the opt-outs.
. "$(dirname "$0")/test-lib.sh"

# max_of TAG: the largest value of TAG in the latest run (empty when none)
max_of() {
	tally scalars --summary --format csv --tag "$1" | awk -F, 'NR == 2 { print $9 }'
}

test_expect_success 'setup: a script whose child burns a core and holds 80 MB' '
	echo "system-metrics: 1" >tally.yml &&
	cat >child.py <<-\PY &&
	import time
	held = bytearray(80 * 1024 * 1024)
	for i in range(0, len(held), 4096):
	    held[i] = 1
	end = time.time() + 3.5
	while time.time() < end:
	    pass
	PY
	cat >burn.sh <<-\SH
	"$PYTHON" child.py &
	wait
	SH
'

test_expect_success 'CPU and memory of the process tree are sampled every second' '
	PYTHON=$PYTHON tally run -q burn.sh >/dev/null 2>&1 &&
	tally scalars -f csv -t "sys/*" >sys.csv &&
	test "$(grep -c ",sys/cpu_percent," sys.csv)" -ge 2 &&
	test "$(grep -c ",sys/rss_mb," sys.csv)" -ge 2 &&
	cpu=$(max_of sys/cpu_percent) && rss=$(max_of sys/rss_mb) &&
	echo "cpu $cpu rss $rss" &&
	awk -v c="$cpu" -v r="$rss" "BEGIN { exit !(c >= 30 && c <= 250 && r >= 80 && r < 400) }" &&
	# steps are whole seconds since the start
	tally scalars -f csv -t sys/rss_mb | awk -F, "NR > 1 { print \$3 }" >steps &&
	test "$(head -n 1 steps)" = 1
'

test_expect_success 'system metrics stay out of the one-line scalar summary of listings' '
	tally runs -n 1 --format csv >runs.csv &&
	grep -q "scalar_sys/rss_mb" runs.csv &&
	tally runs -n 1 >table &&
	! grep -q "sys/" table
'

test_expect_success 'GPU metrics exactly when an NVIDIA GPU is present' '
	tally scalars -f csv -t "sys/gpu*" >gpu.csv &&
	if nvidia-smi -L >/dev/null 2>&1; then
		grep -q ",sys/gpu0/mem_used_mb," gpu.csv &&
		grep -q ",sys/gpu0/util_percent," gpu.csv
	else
		test "$(wc -l <gpu.csv)" = 1
	fi
'

test_expect_success 'NVML is found at run time: two GPUs of a stand-in libnvidia-ml give sys/gpuN/*' '
	# A stand-in for the driver'"'"'s library with NVML'"'"'s C ABI, so that the
	# loading, the calls and the tags are checked on machines without a GPU.
	mkdir -p nvml &&
	cat >nvml/fake.c <<-\C &&
	typedef struct { unsigned int gpu, memory; } util;
	typedef struct { unsigned long long total, free, used; } mem;
	int nvmlInit_v2(void) { return 0; }
	int nvmlShutdown(void) { return 0; }
	int nvmlDeviceGetCount_v2(unsigned int *n) { *n = 2; return 0; }
	int nvmlDeviceGetHandleByIndex_v2(unsigned int i, void **d) { *d = (void *)(long)(i + 1); return 0; }
	int nvmlDeviceGetUtilizationRates(void *d, util *u) { u->gpu = 40 + (int)(long)d; u->memory = 7; return 0; }
	int nvmlDeviceGetMemoryInfo(void *d, mem *m) { m->total = 80ULL << 30; m->used = (unsigned long long)(long)d << 30; m->free = 0; return 0; }
	int nvmlDeviceGetPowerUsage(void *d, unsigned int *mw) { *mw = 123456; return 0; }
	int nvmlDeviceGetTemperature(void *d, int sensor, unsigned int *c) { *c = sensor == 0 ? 61 : 0; return 0; }
	C
	cc -shared -fPIC -o nvml/libnvidia-ml.so.1 nvml/fake.c &&
	echo "system-metrics: 1" >tally.yml &&
	# the script ends once tally has logged a sample of every GPU field (or after 60 s)
	cat >gpu.sh <<-\SH &&
	sampled() {
		for t in mem_used_mb mem_util_percent power_w temp_c util_percent; do
			grep -qa "sys/gpu1/$t" .tally/scalars.log 2>/dev/null || return 1
		done
	}
	i=0
	while ! sampled && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done
	SH
	LD_LIBRARY_PATH=$PWD/nvml tally run -q gpu.sh >/dev/null 2>&1 &&
	tally scalars -f csv -t "sys/gpu*" | cut -d, -f2,4 | sort -u >got &&
	cat >expect <<-\EOF &&
	sys/gpu0/mem_used_mb,1024
	sys/gpu0/mem_util_percent,7
	sys/gpu0/power_w,123.456
	sys/gpu0/temp_c,61
	sys/gpu0/util_percent,41
	sys/gpu1/mem_used_mb,2048
	sys/gpu1/mem_util_percent,7
	sys/gpu1/power_w,123.456
	sys/gpu1/temp_c,61
	sys/gpu1/util_percent,42
	tag,value
	EOF
	test_cmp expect got
'

test_expect_success 'a run shorter than a second pays for no sample' '
	echo "echo quick" >quick.sh &&
	tally run -q quick.sh >/dev/null 2>&1 &&
	tally scalars -f csv -t "sys/*" >q.csv &&
	test "$(wc -l <q.csv)" = 1
'

test_expect_success '--no-system-metrics and system-metrics: off turn them off' '
	echo "sleep 1.5" >slow.sh &&
	tally run -q --no-system-metrics slow.sh >/dev/null 2>&1 &&
	test "$(tally scalars -f csv -t "sys/*" | wc -l)" = 1 &&
	echo "system-metrics: off" >tally.yml &&
	tally run -q slow.sh >/dev/null 2>&1 &&
	test "$(tally scalars -f csv -t "sys/*" | wc -l)" = 1 &&
	echo "system-metrics: on" >tally.yml &&
	tally run -q slow.sh >/dev/null 2>&1 &&
	test "$(tally scalars -f csv -t sys/rss_mb | wc -l)" = 2
'

test_expect_success 'a bad system-metrics value is an error before any run' '
	before=$(run_count) &&
	echo "system-metrics: often" >tally.yml &&
	test_expect_code 128 tally run slow.sh 2>err &&
	grep -q "tally.yml line 1 column 17: .system-metrics. must be on, off, or the seconds between samples" err &&
	echo "system-metrics: 0.01" >tally.yml &&
	test_expect_code 128 tally run slow.sh 2>err &&
	test "$(run_count)" = "$before" &&
	rm tally.yml
'

test_done
