// SPDX-License-Identifier: GPL-2.0
/*
 * bench-scan: collecting a tree that is already frozen in a cgroup.
 *
 *   bench-scan CGROUP-DIR ROOT-PID TASKS REPS
 *
 * Opens a ckpt session on CGROUP-DIR (v2 or a v1 freezer cgroup, frozen by
 * the caller) and times, alternating, after one warm-up of each:
 *   ioctl  CKPT_IOC_SCAN: size, then fill (ckpt_scan_all)
 *   proc   a userspace walk of /proc, as CRIU collects a tree: for each
 *          process /proc/PID/stat (ppid, pgid, sid), /proc/PID/task/, and
 *          /proc/PID/task/TID/children of every thread (iterative, so that
 *          a chain of 10,000 does not recurse 10,000 deep).
 * Both must find TASKS tasks (threads included), or it fails.  Prints one
 * JSON object with every sample in microseconds.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Returns the number of tasks found, or -1. */
static long proc_walk(pid_t root)
{
	enum { KIDS_MAX = 1 << 20 };
	size_t cap = 1024, len = 0;
	pid_t *stack = malloc(cap * sizeof(*stack));
	char *kids = malloc(KIDS_MAX);
	char path[320], stat[1024];
	long count = 0;

	if (!stack || !kids)
		goto fail;
	stack[len++] = root;
	while (len) {
		pid_t pid = stack[--len];
		int ppid, pgid, sid;
		struct dirent *de;
		char st, *p;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		if (ckpt_read_file(path, stat, sizeof(stat)) < 0)
			goto fail;
		p = strrchr(stat, ')');
		if (!p || sscanf(p + 2, "%c %d %d %d", &st, &ppid, &pgid, &sid) != 4)
			goto fail;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		d = opendir(path);
		if (!d)
			goto fail;
		while ((de = readdir(d))) {
			char *s, *e;

			if (de->d_name[0] == '.')
				continue;
			count++;
			snprintf(path, sizeof(path), "/proc/%d/task/%s/children", pid, de->d_name);
			if (ckpt_read_file(path, kids, KIDS_MAX) < 0) {
				closedir(d);
				goto fail;
			}
			for (s = kids; *s; s = e) {
				long c = strtol(s, &e, 10);

				if (e == s)
					break;
				if (len == cap) {
					pid_t *n = realloc(stack, 2 * cap * sizeof(*stack));

					if (!n) {
						closedir(d);
						goto fail;
					}
					stack = n;
					cap *= 2;
				}
				stack[len++] = (pid_t)c;
			}
		}
		closedir(d);
	}
	free(stack);
	free(kids);
	return count;
fail:
	free(stack);
	free(kids);
	return -1;
}

static long ioctl_scan(int dev)
{
	struct ckpt_task *recs = NULL;
	uint32_t count;

	if (ckpt_scan_all(dev, &recs, &count, NULL))
		return -1;
	free(recs);
	return count;
}

int main(int argc, char **argv)
{
	long tasks, n;
	int reps, dev, cgfd;
	double *ti, *tp;
	pid_t root;

	if (argc != 5) {
		fprintf(stderr, "usage: bench-scan CGROUP-DIR ROOT-PID TASKS REPS\n");
		return 2;
	}
	root = atoi(argv[2]);
	tasks = atol(argv[3]);
	reps = atoi(argv[4]);
	if (root <= 0 || tasks < 1 || reps < 1)
		return 2;
	ti = calloc(reps, sizeof(*ti));
	tp = calloc(reps, sizeof(*tp));
	dev = ckpt_dev_open();
	cgfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (!ti || !tp || dev < 0 || cgfd < 0 || ckpt_ioc_begin(dev, cgfd, root, 0)) {
		fprintf(stderr, "bench-scan: session on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if ((n = ioctl_scan(dev)) != tasks) {
		fprintf(stderr, "bench-scan: the scan found %ld tasks, not %ld (%s)\n", n, tasks,
			n < 0 ? strerror(errno) : "");
		return 1;
	}
	if ((n = proc_walk(root)) != tasks) {
		fprintf(stderr, "bench-scan: the /proc walk found %ld tasks, not %ld\n", n, tasks);
		return 1;
	}
	for (int r = 0; r < reps; r++) {
		double t0 = now_us();

		if (ioctl_scan(dev) != tasks)
			return 1;
		ti[r] = now_us() - t0;
		t0 = now_us();
		if (proc_walk(root) != tasks)
			return 1;
		tp[r] = now_us() - t0;
	}
	printf("{\"tasks\": %ld, \"ioctl_us\": [", tasks);
	for (int r = 0; r < reps; r++)
		printf("%s%.1f", r ? ", " : "", ti[r]);
	printf("], \"proc_us\": [");
	for (int r = 0; r < reps; r++)
		printf("%s%.1f", r ? ", " : "", tp[r]);
	printf("]}\n");
	return 0;
}
