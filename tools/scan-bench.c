// SPDX-License-Identifier: GPL-2.0
/*
 * scan-bench: what does collecting a frozen tree cost, per task?
 *
 *   scan-bench [-r REPS] [N...]        (default: -r 7 1000 10000)
 *
 * For each N it builds a tree of N processes (a fan of fans) in a fresh
 * cgroup v2, freezes it, and then times, REPS times each, alternating:
 *   ioctl  CKPT_IOC_SCAN twice (size, then fill), as a checkpointer does;
 *   /proc  a userspace walk collecting the same facts the way CRIU does:
 *          /proc/PID/task/ for threads, /proc/PID/task/TID/children for
 *          the tree, /proc/PID/stat for ppid, pgid and sid.
 * It prints the medians per task and their ratio.  A benchmark, not a test:
 * it checks that both methods found N tasks, and asserts nothing on time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/ckpt.h>
#include "ckpt-util.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Build the tree: the root forks @fan children, each forks the rest. */
static void build_tree(const struct ckpt_cg *cg, int n)
{
	int fan = 1, i, j, per, extra;

	while (fan * fan < n)
		fan++;
	if (ckpt_cg_attach(cg, 0))	/* "0" moves the writer itself */
		_exit(1);
	fan = fan < n - 1 ? fan : n - 1;
	per = fan ? (n - 1 - fan) / fan : 0;
	extra = fan ? (n - 1 - fan) % fan : 0;
	for (i = 0; i < fan; i++) {
		pid_t c = fork();

		if (c < 0)
			_exit(1);
		if (c)
			continue;
		for (j = 0; j < per + (i < extra); j++) {
			pid_t g = fork();

			if (g < 0)
				_exit(1);
			if (!g)
				for (;;)
					pause();
		}
		for (;;)
			pause();
	}
	for (;;)
		pause();
}

/* The userspace walk.  Returns the number of tasks found, or -1. */
static long proc_walk(pid_t pid)
{
	enum { CHILDREN_MAX = 1 << 16 };
	char path[320], stat[1024], *kids = NULL;
	long count = 0, ret = -1;
	int ppid, pgid, sid;
	struct dirent *de;
	char st, *p;
	DIR *d;

	/* ppid, pgid, sid follow the state field after the last ')'. */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (ckpt_read_file(path, stat, sizeof(stat)) < 0)
		return -1;
	p = strrchr(stat, ')');
	if (!p || sscanf(p + 2, "%c %d %d %d", &st, &ppid, &pgid, &sid) != 4)
		return -1;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	kids = malloc(CHILDREN_MAX);
	if (!d || !kids)
		goto out;
	while ((de = readdir(d))) {
		char *s, *e;

		if (de->d_name[0] == '.')
			continue;
		count++;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid,
			 de->d_name);
		if (ckpt_read_file(path, kids, CHILDREN_MAX) < 0)
			goto out;
		for (s = kids; *s; s = e) {
			long c = strtol(s, &e, 10), sub;

			if (e == s)
				break;
			sub = proc_walk(c);
			if (sub < 0)
				goto out;
			count += sub;
		}
	}
	ret = count;
out:
	if (d)
		closedir(d);
	free(kids);
	return ret;
}

/* Wait until @cg holds @n processes. */
static int wait_procs(const struct ckpt_cg *cg, size_t n, int timeout_s)
{
	uint64_t deadline = ckpt_now_ms() + timeout_s * 1000ull;
	pid_t *pids;
	size_t count;

	for (;;) {
		if (ckpt_cg_procs(cg, &pids, &count))
			return -1;
		free(pids);
		if (count == n)
			return 0;
		if (count > n || ckpt_now_ms() >= deadline)
			return -1;
		ckpt_sleep_ms(50);
	}
}

static int ioctl_scan(int dev, struct ckpt_task **recs, unsigned int *cap)
{
	struct ckpt_scan scan = { 0 };

	if (ioctl(dev, CKPT_IOC_SCAN, &scan) == 0 || errno != ENOSPC)
		return -1;
	if (scan.count > *cap) {
		free(*recs);
		*recs = calloc(scan.count, sizeof(**recs));
		if (!*recs)
			return -1;
		*cap = scan.count;
	}
	scan.capacity = *cap;
	scan.records = (unsigned long)*recs;
	if (ioctl(dev, CKPT_IOC_SCAN, &scan))
		return -1;
	return scan.count;
}

static int bench_one(int n, int reps)
{
	double *t_ioctl = calloc(reps, sizeof(double));
	double *t_proc = calloc(reps, sizeof(double));
	struct ckpt_begin begin = { 0 };
	struct ckpt_task *recs = NULL;
	unsigned int cap = 0;
	struct ckpt_cg top, cg;
	char name[64];
	int dev = -1, cgfd = -1, r, ret = 1;
	double t0, build_s;
	pid_t root;

	snprintf(name, sizeof(name), "ckpt-bench-%d", n);
	if (ckpt_cg_init(&top, ckpt_cgroup2_mount(), false) ||
	    ckpt_cg_mkdir(&cg, &top, name)) {
		perror("scan-bench: mkdir cgroup");
		return 1;
	}
	t0 = now_us();
	root = fork();
	if (root == 0)
		build_tree(&cg, n);
	if (root < 0 || wait_procs(&cg, n, 600)) {
		fprintf(stderr, "scan-bench: could not build a tree of %d\n", n);
		goto out;
	}
	build_s = (now_us() - t0) / 1e6;
	if (ckpt_cg_freeze(&cg, 600 * 1000)) {
		fprintf(stderr, "scan-bench: could not freeze %s: %s\n", cg.path,
			strerror(errno));
		goto out;
	}
	dev = open("/dev/ckpt", O_RDWR | O_CLOEXEC);
	cgfd = ckpt_cg_open(&cg);
	begin.cgroup_fd = cgfd;
	begin.root = root;
	if (dev < 0 || cgfd < 0 || ioctl(dev, CKPT_IOC_BEGIN, &begin)) {
		perror("scan-bench: begin");
		goto out;
	}
	/* Warm-up, and both methods must see the whole tree. */
	if (ioctl_scan(dev, &recs, &cap) != n || proc_walk(root) != n) {
		fprintf(stderr, "scan-bench: task counts differ from %d\n", n);
		goto out;
	}
	for (r = 0; r < reps; r++) {
		t0 = now_us();
		if (ioctl_scan(dev, &recs, &cap) != n)
			goto out;
		t_ioctl[r] = now_us() - t0;
		t0 = now_us();
		if (proc_walk(root) != n)
			goto out;
		t_proc[r] = now_us() - t0;
	}
	{
		double mi = median(t_ioctl, reps), mp = median(t_proc, reps);

		printf("tasks=%-6d  ioctl: %8.0f us (%6.3f us/task)   /proc walk: %9.0f us (%6.2f us/task)   /proc / ioctl = %.1fx   (tree built in %.1f s, %d reps, medians)\n",
		       n, mi, mi / n, mp, mp / n, mp / mi, build_s, reps);
	}
	ret = 0;
out:
	if (dev >= 0)
		close(dev);	/* ends the session */
	if (cgfd >= 0)
		close(cgfd);
	ckpt_cg_destroy(&cg, 60 * 1000);
	if (root > 0)
		waitpid(root, NULL, 0);
	free(recs);
	free(t_ioctl);
	free(t_proc);
	return ret;
}

int main(int argc, char **argv)
{
	int reps = 7, i, opt, ret = 0;

	while ((opt = getopt(argc, argv, "r:")) != -1) {
		if (opt != 'r' || (reps = atoi(optarg)) < 1) {
			fprintf(stderr, "usage: %s [-r REPS] [N...]\n", argv[0]);
			return 2;
		}
	}
	if (optind == argc) {
		ret |= bench_one(1000, reps);
		ret |= bench_one(10000, reps);
		return ret;
	}
	for (i = optind; i < argc; i++) {
		int n = atoi(argv[i]);

		if (n < 2) {
			fprintf(stderr, "scan-bench: N must be at least 2\n");
			return 2;
		}
		ret |= bench_one(n, reps);
	}
	return ret;
}
