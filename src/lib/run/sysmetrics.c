/*
 * System metrics of a running run, logged as `sys/...` scalars every few
 * seconds (as Guild AI and W&B do):
 *
 *   sys/cpu_percent            CPU time of the script's process tree over the
 *                              last interval, 100 = one core busy
 *   sys/rss_mb                 resident memory of that tree, MiB
 *   sys/gpuN/util_percent      per NVIDIA GPU, when NVML is there:
 *   sys/gpuN/mem_util_percent  busy time of the GPU and of its memory,
 *   sys/gpuN/mem_used_mb       memory in use, power draw and temperature
 *   sys/gpuN/power_w
 *   sys/gpuN/temp_c
 *
 * The step of a sample is the seconds elapsed since the script started.  The
 * process tree is read from /proc (Linux; elsewhere there is no CPU or
 * memory sample).  NVML (libnvidia-ml.so.1, installed with the NVIDIA
 * driver) is loaded at run time on the first sample, so tally needs neither
 * CUDA to build nor a GPU to run; without it there are no GPU metrics.
 */
#include "lib/run/run.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_GPUS 16

/* NVML's ABI, the few calls used (nvml.h is not needed to build). */
typedef struct nvml_device *nvml_device;
typedef struct { unsigned int gpu, memory; } nvml_utilization;
typedef struct { unsigned long long total, free, used; } nvml_memory;

typedef struct {
	void *lib;
	int (*init)(void);
	int (*shutdown)(void);
	int (*count)(unsigned int *);
	int (*handle)(unsigned int, nvml_device *);
	int (*utilization)(nvml_device, nvml_utilization *);
	int (*memory)(nvml_device, nvml_memory *);
	int (*power)(nvml_device, unsigned int *);                    /* milliwatts */
	int (*temperature)(nvml_device, int, unsigned int *);         /* sensor 0: the GPU die */
	nvml_device devices[MAX_GPUS];
	unsigned int n_devices;
} nvml;

struct tally_sysmetrics {
	pid_t root;
	int64_t started_ms;
	int64_t prev_ms;
	unsigned long long prev_ticks;
	long ticks_per_s, page_size;
	nvml gpu;
	bool gpu_tried;
};

int tally__sysmetrics_new(tally_sysmetrics **out, pid_t root, int64_t started_ms)
{
	tally_sysmetrics *m = calloc(1, sizeof *m);
	if (!m)
		return tally__error_oom();
	m->root = root;
	m->started_ms = m->prev_ms = started_ms;
	m->ticks_per_s = sysconf(_SC_CLK_TCK);
	m->page_size = sysconf(_SC_PAGESIZE);
	*out = m;
	return 0;
}

/* ---- the process tree, from /proc ---- */

typedef struct {
	unsigned long long ticks;  /* utime + stime + cutime + cstime */
	long rss_pages;
} usage;

/* One process's CPU ticks (its own and its reaped children's) and resident pages. */
static bool read_stat(pid_t pid, usage *u)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	/* "pid (comm) state ppid …": comm may hold spaces and parentheses */
	char *close_paren = strrchr(buf, ')');
	if (!close_paren)
		return false;
	unsigned long long utime, stime;
	long long cutime, cstime;
	long rss;
	if (sscanf(close_paren + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld %*d %*d %*d %*d %*u %*u %ld",
	           &utime, &stime, &cutime, &cstime, &rss) != 5)
		return false;
	u->ticks = utime + stime + (unsigned long long)(cutime > 0 ? cutime : 0) + (unsigned long long)(cstime > 0 ? cstime : 0);
	u->rss_pages = rss;
	return true;
}

/* Append the children of every thread of `pid` (/proc/PID/task/TID/children) to `pids`.
 * A kernel built without CONFIG_PROC_CHILDREN has no such file: only the script itself counts. */
static void add_children(pid_t pid, pid_t **pids, size_t *n, size_t *cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *tasks = opendir(path);
	if (!tasks)
		return;
	struct dirent *t;
	while ((t = readdir(tasks))) {
		if (t->d_name[0] < '1' || t->d_name[0] > '9')
			continue;
		char children[320], list[4096];
		snprintf(children, sizeof children, "/proc/%d/task/%s/children", (int)pid, t->d_name);
		int fd = open(children, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = read(fd, list, sizeof list - 1);
		close(fd);
		if (len <= 0)
			continue;
		list[len] = 0;
		for (char *p = list, *end; *p; p = end) {
			long child = strtol(p, &end, 10);
			if (end == p)
				break;
			if (*n == *cap) {
				pid_t *grown = realloc(*pids, (*cap = *cap ? *cap * 2 : 64) * sizeof *grown);
				if (!grown)
					break;
				*pids = grown;
			}
			(*pids)[(*n)++] = (pid_t)child;
		}
	}
	closedir(tasks);
}

/*
 * CPU ticks and resident pages of `root` and all its descendants, found
 * through the kernel's children lists: the cost grows with the tree, not
 * with the number of processes on the machine.
 */
static bool tree_usage(pid_t root, unsigned long long *ticks, long *rss_pages)
{
	pid_t *pids = malloc(64 * sizeof *pids);
	size_t n = 0, cap = 64;
	if (!pids)
		return false;
	pids[n++] = root;
	*ticks = 0;
	*rss_pages = 0;
	bool found = false;
	for (size_t i = 0; i < n && i < 100000; i++) {
		usage u;
		if (!read_stat(pids[i], &u))
			continue; /* gone meanwhile */
		found = found || i == 0;
		*ticks += u.ticks;
		*rss_pages += u.rss_pages;
		add_children(pids[i], &pids, &n, &cap);
	}
	free(pids);
	return found;
}

/* ---- NVIDIA GPUs through NVML ---- */

/* dlsym() hands back void *; POSIX guarantees it converts to a function pointer. */
#define NVML_SYM(field, name) (*(void **)&g->field = dlsym(g->lib, name))

static void gpu_open(nvml *g)
{
	g->lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!g->lib)
		return;
	if (!NVML_SYM(init, "nvmlInit_v2") || !NVML_SYM(shutdown, "nvmlShutdown") ||
	    !NVML_SYM(count, "nvmlDeviceGetCount_v2") || !NVML_SYM(handle, "nvmlDeviceGetHandleByIndex_v2") ||
	    !NVML_SYM(utilization, "nvmlDeviceGetUtilizationRates") || !NVML_SYM(memory, "nvmlDeviceGetMemoryInfo") ||
	    g->init() != 0) {
		dlclose(g->lib);
		g->lib = NULL;
		return;
	}
	NVML_SYM(power, "nvmlDeviceGetPowerUsage");
	NVML_SYM(temperature, "nvmlDeviceGetTemperature");
	unsigned int count = 0;
	if (g->count(&count) != 0)
		count = 0;
	for (unsigned int i = 0; i < count && g->n_devices < MAX_GPUS; i++)
		if (g->handle(i, &g->devices[g->n_devices]) == 0)
			g->n_devices++;
}

static void log_gpu(nvml *g, tally_scalar_log *log, int64_t step, int64_t now)
{
	char tag[64];
#define GPU_POINT(name, value) \
	(snprintf(tag, sizeof tag, "sys/gpu%u/" name, i), tally__scalar_log_append(log, tag, step, (value), now))
	for (unsigned int i = 0; i < g->n_devices; i++) {
		nvml_utilization u;
		nvml_memory mem;
		unsigned int v;
		if (g->utilization(g->devices[i], &u) == 0) {
			GPU_POINT("util_percent", u.gpu);
			GPU_POINT("mem_util_percent", u.memory);
		}
		if (g->memory(g->devices[i], &mem) == 0)
			GPU_POINT("mem_used_mb", (double)mem.used / (1024.0 * 1024.0));
		if (g->power && g->power(g->devices[i], &v) == 0)
			GPU_POINT("power_w", v / 1000.0);
		if (g->temperature && g->temperature(g->devices[i], 0, &v) == 0)
			GPU_POINT("temp_c", v);
	}
#undef GPU_POINT
}

void tally__sysmetrics_sample(tally_sysmetrics *m, tally_scalar_log *log, int64_t now)
{
	int64_t step = (now - m->started_ms) / 1000;
	unsigned long long ticks;
	long rss_pages;
	if (tree_usage(m->root, &ticks, &rss_pages)) {
		double seconds = (double)(now - m->prev_ms) / 1000.0;
		/* The total can drop: a process that ignores SIGCHLD, or an orphan
		 * adopted outside the tree, takes its ticks along.  Such an interval
		 * counts what is left rather than nothing. */
		unsigned long long used = ticks >= m->prev_ticks ? ticks - m->prev_ticks : 0;
		if (seconds > 0 && m->ticks_per_s > 0)
			tally__scalar_log_append(log, "sys/cpu_percent", step,
			                         100.0 * (double)used / (double)m->ticks_per_s / seconds, now);
		tally__scalar_log_append(log, "sys/rss_mb", step, (double)rss_pages * (double)m->page_size / (1024.0 * 1024.0),
		                         now);
		m->prev_ticks = ticks;
		m->prev_ms = now;
	}
	if (!m->gpu_tried) {
		m->gpu_tried = true;
		gpu_open(&m->gpu);
	}
	log_gpu(&m->gpu, log, step, now);
}

void tally__sysmetrics_free(tally_sysmetrics *m)
{
	if (!m)
		return;
	if (m->gpu.lib) {
		m->gpu.shutdown();
		dlclose(m->gpu.lib);
	}
	free(m);
}
