// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-scan: hold a frozen cgroup in CHECKPOINTING and print its task tree.
 *
 *   ckpt-scan CGROUP_DIR ROOT_PID
 *
 * CGROUP_DIR must already be frozen (cgroup.freeze = 1 on v2, or
 * freezer.state = FROZEN on a v1 freezer hierarchy).  The tool begins a
 * session on it, scans the tree below ROOT_PID, prints it, and ends the
 * session: the cgroup is FROZEN again afterwards.  A small helper for the
 * demo and for humans; ckpt-user is the real checkpointer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/ckpt.h>

static const char *reason_name(unsigned int r)
{
	static const char *const names[] = {
		[CKPT_SCAN_ERR_NONE] = "none",
		[CKPT_SCAN_ERR_NOT_FROZEN] = "not frozen",
		[CKPT_SCAN_ERR_PTRACED] = "traced by another process",
		[CKPT_SCAN_ERR_CGROUP] = "outside the cgroup",
		[CKPT_SCAN_ERR_ACCESS] = "no ptrace access",
		[CKPT_SCAN_ERR_DEAD] = "exiting",
		[CKPT_SCAN_ERR_UNSTABLE] = "tree kept changing",
	};
	return r < sizeof(names) / sizeof(names[0]) ? names[r] : "unknown";
}

static void print_flags(unsigned int f)
{
	static const struct { unsigned int bit; const char *name; } fl[] = {
		{ CKPT_TASK_ROOT, "root" },
		{ CKPT_TASK_LEADER, "process" },
		{ CKPT_TASK_THREAD, "thread" },
		{ CKPT_TASK_ZOMBIE, "zombie" },
		{ CKPT_TASK_SESSION_LEADER, "session-leader" },
		{ CKPT_TASK_PIDNS_INIT, "pidns-init" },
	};
	const char *sep = "";
	size_t i;

	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (f & fl[i].bit) {
			printf("%s%s", sep, fl[i].name);
			sep = ",";
		}
}

int main(int argc, char **argv)
{
	struct ckpt_scan scan = { 0 };
	struct ckpt_begin begin = { 0 };
	struct ckpt_end end = { 0 };
	struct ckpt_task *recs;
	int dev, cg;
	unsigned int i;
	char *e;

	if (argc != 3) {
		fprintf(stderr, "usage: %s CGROUP_DIR ROOT_PID\n", argv[0]);
		return 2;
	}
	begin.root = strtoul(argv[2], &e, 10);
	if (*e || !begin.root) {
		fprintf(stderr, "ckpt-scan: bad pid '%s'\n", argv[2]);
		return 2;
	}
	dev = open("/dev/" CKPT_DEVICE_NAME, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		fprintf(stderr, "ckpt-scan: open /dev/ckpt: %s (is ckpt.ko loaded?)\n",
			strerror(errno));
		return 1;
	}
	cg = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0) {
		fprintf(stderr, "ckpt-scan: open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	begin.cgroup_fd = cg;
	if (ioctl(dev, CKPT_IOC_BEGIN, &begin)) {
		fprintf(stderr, "ckpt-scan: begin session on %s: %s%s\n", argv[1],
			strerror(errno),
			errno == EAGAIN ? " (the cgroup is not frozen)" : "");
		return 1;
	}
	/* One round trip to size the buffer, one to fill it. */
	if (ioctl(dev, CKPT_IOC_SCAN, &scan) == 0 || errno != ENOSPC)
		goto scan_failed;
	recs = calloc(scan.count, sizeof(*recs));
	if (!recs) {
		perror("ckpt-scan: calloc");
		return 1;
	}
	scan.capacity = scan.count;
	scan.records = (unsigned long)recs;
	if (ioctl(dev, CKPT_IOC_SCAN, &scan))
		goto scan_failed;

	printf("%-16s %-8s %-8s %-8s %-8s %-8s  %s\n", "PID", "TGID", "PPID",
	       "PGID", "SID", "HOSTPID", "FLAGS");
	for (i = 0; i < scan.count; i++) {
		struct ckpt_task *r = &recs[i];

		char pid[64];

		/* Indent the pid column by depth to draw the tree. */
		snprintf(pid, sizeof(pid), "%*s%u",
			 (int)(2 * (r->depth < 20 ? r->depth : 20)), "", r->pid);
		printf("%-16s %-8u %-8u %-8u %-8u %-8u  ", pid, r->tgid,
		       r->ppid, r->pgid, r->sid, r->vpid);
		print_flags(r->flags);
		putchar('\n');
	}
	printf("%u tasks\n", scan.count);
	if (ioctl(dev, CKPT_IOC_END, &end)) {
		fprintf(stderr, "ckpt-scan: end session: %s\n", strerror(errno));
		return 1;
	}
	return 0;

scan_failed:
	fprintf(stderr, "ckpt-scan: scan: %s", strerror(errno));
	if (scan.err_pid)
		fprintf(stderr, " (pid %u: %s)", scan.err_pid,
			reason_name(scan.err_reason));
	fputc('\n', stderr);
	return 1;
}
