// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-scan: hold a frozen cgroup in CHECKPOINTING and print its task tree.
 *
 *   ckpt-scan CGROUP_DIR ROOT_PID [-- COMMAND...]
 *
 * CGROUP_DIR must already be frozen (cgroup.freeze = 1 on v2, or
 * freezer.state = FROZEN on a v1 freezer hierarchy).  The tool begins a
 * session on it, scans the tree below ROOT_PID, prints it, and ends the
 * session: the cgroup is FROZEN again afterwards.  With a COMMAND, it runs
 * it while the session is held (to see CHECKPOINTING from outside).  A small helper for the
 * demo and for humans; ckpt-user is the real checkpointer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <linux/ckpt.h>
#include "ckpt-util.h"

static void print_flags(unsigned int f)
{
	static const struct { unsigned int bit; const char *name; } fl[] = {
		{ CKPT_TASK_ROOT, "root" },
		{ CKPT_TASK_LEADER, "process" },
		{ CKPT_TASK_THREAD, "thread" },
		{ CKPT_TASK_ZOMBIE, "zombie" },
		{ CKPT_TASK_SESSION_LEADER, "session-leader" },
		{ CKPT_TASK_PIDNS_INIT, "pidns-init" },
		{ CKPT_TASK_WORKER, "worker" },
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
	struct ckpt_task *recs;
	unsigned long root;
	uint32_t i, count;
	int dev, cg;
	char *e;

	if (argc < 3 || (argc > 3 && (strcmp(argv[3], "--") || argc == 4))) {
		fprintf(stderr, "usage: %s CGROUP_DIR ROOT_PID [-- COMMAND...]\n",
			argv[0]);
		return 2;
	}
	root = strtoul(argv[2], &e, 10);
	if (*e || !root || root > INT_MAX) {
		fprintf(stderr, "ckpt-scan: bad pid '%s'\n", argv[2]);
		return 2;
	}
	dev = ckpt_dev_open();
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
	if (ckpt_ioc_begin(dev, cg, (int)root, 0)) {
		fprintf(stderr, "ckpt-scan: begin session on %s: %s%s\n", argv[1],
			strerror(errno),
			errno == EAGAIN ? " (the cgroup is not frozen)" : "");
		return 1;
	}
	/* One round trip to size the buffer, one to fill it. */
	if (ckpt_scan_all(dev, &recs, &count, &scan))
		goto scan_failed;

	printf("%-16s %-8s %-8s %-8s %-8s %-8s  %s\n", "PID", "TGID", "PPID",
	       "PGID", "SID", "HOSTPID", "FLAGS");
	for (i = 0; i < count; i++) {
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
	printf("%u tasks\n", count);
	free(recs);
	if (argc > 4) {
		int st;
		pid_t c;

		fflush(stdout);
		c = fork();

		if (c == 0) {
			execvp(argv[4], argv + 4);
			perror(argv[4]);
			_exit(127);
		}
		if (c < 0 || waitpid(c, &st, 0) != c) {
			perror("ckpt-scan: run command");
			return 1;
		}
		printf("(command exited with status %d while the session was held)\n",
		       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	}
	if (ckpt_ioc_end(dev)) {
		fprintf(stderr, "ckpt-scan: end session: %s\n", strerror(errno));
		return 1;
	}
	return 0;

scan_failed:
	fprintf(stderr, "ckpt-scan: scan: %s", strerror(errno));
	if (scan.err_pid)
		fprintf(stderr, " (pid %u: %s)", scan.err_pid,
			ckpt_scan_err_name(scan.err_reason));
	fputc('\n', stderr);
	return 1;
}
