// SPDX-License-Identifier: GPL-2.0
/*
 * st-scale.c: a tree of about 10,000 tasks (group "scale").
 *
 * A fan of fans: the root forks CKPT_SCALE_MID processes, each of which
 * clone()s CKPT_SCALE_LEAF processes (default 100 x 100).  To keep memory
 * modest, the leaves share their parent's address space, files and signal
 * handlers (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND, without
 * CLONE_THREAD: they are processes) and run on 16 KiB stacks.
 *
 * The scan is checked completely against /proc (st-truth.c).  The times
 * printed are for information; nothing depends on them.
 */
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include "st.h"

#define LEAF_STACK	(16 * 1024)

static long env_long(const char *name, long dflt)
{
	const char *s = getenv(name);

	return s && atol(s) > 0 ? atol(s) : dflt;
}

static int leaf_fn(void *arg)
{
	(void)arg;
	st_ready();
	for (;;)
		syscall(SYS_pause);
	return 0;
}

static void mid_fn(void *arg)
{
	long i, n = (long)arg;
	char *stacks = mmap(NULL, n * LEAF_STACK, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	WL_CHECK(stacks != MAP_FAILED);
	for (i = 0; i < n; i++)
		WL_CHECK(clone(leaf_fn, stacks + (i + 1) * LEAF_STACK,
			       CLONE_VM | CLONE_FS | CLONE_FILES |
			       CLONE_SIGHAND | SIGCHLD, NULL) > 0);
	st_ready();
	st_idle();
}

static void root_fn(void *arg)
{
	long i, mids = ((long *)arg)[0], leaves = ((long *)arg)[1];

	for (i = 0; i < mids; i++)
		st_wl_fork(mid_fn, (void *)leaves);
	st_ready();
	st_idle();
}

/* Make sure the kernel allows @n more tasks. */
static void room_for(long n)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	char buf[32];
	long v;

	ST_OK(ckpt_read_file("/proc/sys/kernel/pid_max", buf, sizeof(buf)));
	v = atol(buf);
	if (v < 4 * n) {
		snprintf(buf, sizeof(buf), "%ld", 4 * n < 4194304 ? 4194304 : 4 * n);
		ST_OK(ckpt_write_file("/proc/sys/kernel/pid_max", buf));
	}
	ST_OK(ckpt_read_file("/proc/sys/kernel/threads-max", buf, sizeof(buf)));
	v = atol(buf);
	if (v < 2 * n) {
		snprintf(buf, sizeof(buf), "%ld", 2 * n);
		ST_OK(ckpt_write_file("/proc/sys/kernel/threads-max", buf));
	}
	setrlimit(RLIMIT_NPROC, &rl);
}

static double secs_since(uint64_t t0)
{
	return (double)(ckpt_now_ms() - t0) / 1000.0;
}

static void scale_fan_of_fans(void **state)
{
	long shape[2] = { env_long("CKPT_SCALE_MID", 100),
			  env_long("CKPT_SCALE_LEAF", 100) };
	long total = 1 + shape[0] + shape[0] * shape[1];
	struct ckpt_cg *cg = st_cg_new(false, "c");
	struct ckpt_task *r;
	struct ckpt_scan s;
	struct st_truth tr;
	uint64_t t0;
	uint32_t n, i, leaves = 0;
	pid_t root;
	int fd;

	(void)state;
	room_for(total);
	t0 = ckpt_now_ms();
	root = st_spawn(cg, root_fn, shape);
	st_wait_ready((int)total);
	st_diag("scale: %ld tasks started in %.1f s", total, secs_since(t0));
	t0 = ckpt_now_ms();
	st_freeze(cg);
	st_diag("scale: frozen in %.1f s", secs_since(t0));
	fd = st_begin(cg, root);

	t0 = ckpt_now_ms();
	ST_ERR(ckpt_ioc_scan(fd, NULL, 0, &s), ENOSPC);
	ST_EQ(s.count, total);
	ST_OK(ckpt_scan_all(fd, &r, &n, &s));
	st_diag("scale: two scans in %.2f s", secs_since(t0));
	ST_EQ(n, total);

	t0 = ckpt_now_ms();
	st_truth_collect(root, &tr);
	st_check_records(r, n, &tr);
	st_check_order(r, n);
	st_truth_free(&tr);
	st_diag("scale: checked against /proc in %.1f s", secs_since(t0));
	for (i = 0; i < n; i++)
		leaves += r[i].depth == 2;
	ST_EQ(leaves, shape[0] * shape[1]);
	free(r);
}

static const struct CMUnitTest tests[] = {
	ST_TEST(scale_fan_of_fans),
};

const struct st_group st_group_scale = { "scale", tests, ARRAY_SIZE(tests) };
