// SPDX-License-Identifier: GPL-2.0
/*
 * st-guard.c: what CHECKPOINTING refuses, and what it allows (group
 * "guard"), on the v2 hierarchy and on a v1 freezer hierarchy.
 *
 * The layout of every test: T/c holds the root task, a counter process
 * (counter 0); T/c/sub holds another counter process (counter 1); T/out,
 * a sibling, holds a running process.  A counter that does not advance
 * shows that its task stays frozen.
 */
#include <sys/mount.h>
#include <linux/sched.h>
#include "st.h"

struct layout {
	struct ckpt_cg *top, *c, *sub, *out;
	pid_t r0, r1, o;
	int fd;			/* the session on c */
};

static void layout(struct layout *l, bool v1)
{
	l->top = st_cg_top(v1);
	l->c = st_cg_new(v1, "c");
	l->sub = st_cg_child(l->c, "sub");
	l->out = st_cg_new(v1, "out");
	l->r0 = st_spawn(l->c, st_wl_counter, (void *)0L);
	l->r1 = st_spawn(l->sub, st_wl_counter, (void *)1L);
	l->o = st_spawn(l->out, st_wl_idle, NULL);
	st_wait_ready(2);
	st_expect_counter_moves(0);
	st_expect_counter_moves(1);
	st_freeze(l->c);
	l->fd = st_begin(l->c, l->r0);
}

static void write_pid(const struct ckpt_cg *cg, const char *file, pid_t pid,
		      int want_err)
{
	char num[24];

	snprintf(num, sizeof(num), "%d\n", pid);
	errno = 0;
	if (want_err) {
		if (ckpt_cg_write(cg, file, num) != -1 || errno != want_err)
			st_fail("writing %d to %s/%s: expected %s, got %s", pid,
				cg->path, file, st_errname(want_err),
				errno ? st_errname(errno) : "success");
	} else if (ckpt_cg_write(cg, file, num)) {
		st_fail("writing %d to %s/%s: %s", pid, cg->path, file,
			st_errname(errno));
	}
}

static void expect_state_file(const struct ckpt_cg *cg, const char *want)
{
	char buf[64];

	ST_OK(ckpt_cg_read(cg, cg->v1 ? "freezer.state" : "cgroup.freeze",
			   buf, sizeof(buf)));
	if (strcmp(buf, want))
		st_fail("%s reads '%s', expected '%s'", cg->path, buf, want);
}

/* ---- writes to the freezer files ------------------------------------------------- */

static void guard_writes(bool v1)
{
	/* (An empty write never reaches the file's handler.) */
	static const char *const v2vals[] = { "0", "1", "0\n", "1\n", "garbage" };
	static const char *const v1vals[] = { "THAWED", "FROZEN", "FREEZING",
					      "THAWED\n", "garbage" };
	const char *const *vals = v1 ? v1vals : v2vals;
	const char *file = v1 ? "freezer.state" : "cgroup.freeze";
	struct layout l;
	size_t i;

	layout(&l, v1);
	for (i = 0; i < ARRAY_SIZE(v2vals); i++) {
		errno = 0;
		if (ckpt_cg_write(l.c, file, vals[i]) != -1 || errno != EBUSY)
			st_fail("writing '%s' to %s/%s: expected EBUSY, got %s",
				vals[i], l.c->path, file,
				errno ? st_errname(errno) : "success");
		errno = 0;
		if (ckpt_cg_write(l.sub, file, vals[i]) != -1 || errno != EBUSY)
			st_fail("writing '%s' to %s/%s: expected EBUSY, got %s",
				vals[i], l.sub->path, file,
				errno ? st_errname(errno) : "success");
	}
	/* Still frozen: the files say so, and the tasks do not run. */
	if (v1) {
		expect_state_file(l.c, "CHECKPOINTING\n");
		expect_state_file(l.sub, "FROZEN\n");
		ST_EQ(st_state(l.r0, 0), 'D');
		ST_EQ(st_state(l.r1, 0), 'D');
	} else {
		expect_state_file(l.c, "1\n");
		expect_state_file(l.sub, "0\n");
		ST_EQ(ckpt_cg_is_frozen(l.c), 1);
		ST_EQ(ckpt_cg_is_frozen(l.sub), 1);
		ST_EQ(st_state(l.r0, 0), 'S');
		ST_EQ(st_state(l.r1, 0), 'S');
	}
	st_expect_counter_stuck(0, 300);
	st_expect_counter_stuck(1, 0);

	/* After the session, the same writes work again. */
	ST_OK(ckpt_ioc_end(l.fd));
	ST_OK(ckpt_cg_write(l.sub, file, v1 ? "THAWED" : "0"));
	st_expect_counter_stuck(0, 100);
	ST_OK(ckpt_cg_write(l.c, file, v1 ? "THAWED" : "0"));
	st_expect_counter_moves(0);
	st_expect_counter_moves(1);
	ST_OK(ckpt_cg_write(l.c, file, v1 ? "FROZEN" : "1"));
}

static void guard_writes_v2(void **state)
{
	(void)state;
	guard_writes(false);
}

static void guard_writes_v1(void **state)
{
	(void)state;
	guard_writes(true);
}

/* ---- migrations -------------------------------------------------------------------- */

static void guard_migrate_in(bool v1)
{
	struct layout l;

	layout(&l, v1);
	write_pid(l.c, "cgroup.procs", l.o, EBUSY);
	write_pid(l.sub, "cgroup.procs", l.o, EBUSY);
	if (v1) {
		write_pid(l.c, "tasks", l.o, EBUSY);
		write_pid(l.sub, "tasks", l.o, EBUSY);
	}
	ST_CHECK(st_in_cgroup(l.o, l.out), "the outside task moved");
	st_expect_counter_stuck(0, 200);

	ST_OK(ckpt_ioc_end(l.fd));
	write_pid(l.c, "cgroup.procs", l.o, 0);
	ST_CHECK(st_in_cgroup(l.o, l.c));
}

static void guard_migrate_in_v2(void **state)
{
	(void)state;
	guard_migrate_in(false);
}

static void guard_migrate_in_v1(void **state)
{
	(void)state;
	guard_migrate_in(true);
}

static void guard_migrate_out(bool v1)
{
	struct layout l;

	layout(&l, v1);
	write_pid(l.top, "cgroup.procs", l.r0, EBUSY);	/* to the parent */
	write_pid(l.out, "cgroup.procs", l.r0, EBUSY);	/* to a sibling */
	write_pid(l.top, "cgroup.procs", l.r1, EBUSY);	/* from below */
	write_pid(l.c, "cgroup.procs", l.r1, EBUSY);	/* sub -> c */
	write_pid(l.sub, "cgroup.procs", l.r0, EBUSY);	/* c -> sub */
	if (v1) {
		write_pid(l.top, "tasks", l.r0, EBUSY);
		write_pid(l.c, "tasks", l.r1, EBUSY);
	}
	ST_CHECK(st_in_cgroup(l.r0, l.c), "r0 left c");
	ST_CHECK(st_in_cgroup(l.r1, l.sub), "r1 left c/sub");
	st_expect_counter_stuck(0, 300);
	st_expect_counter_stuck(1, 0);

	/* After the session: moving r0 out of the frozen cgroup thaws it. */
	ST_OK(ckpt_ioc_end(l.fd));
	write_pid(l.top, "cgroup.procs", l.r0, 0);
	ST_CHECK(st_in_cgroup(l.r0, l.top));
	st_expect_counter_moves(0);
	st_expect_counter_stuck(1, 100);
}

static void guard_migrate_out_v2(void **state)
{
	(void)state;
	guard_migrate_out(false);
}

static void guard_migrate_out_v1(void **state)
{
	(void)state;
	guard_migrate_out(true);
}

/* ---- what stays allowed -------------------------------------------------------------- */

/* An ancestor's freezer file: not refused, and it cannot thaw c. */
static void guard_ancestor_write(bool v1)
{
	const char *file = v1 ? "freezer.state" : "cgroup.freeze";
	struct layout l;

	layout(&l, v1);
	ST_OK(ckpt_cg_write(l.top, file, v1 ? "FROZEN" : "1"));
	ST_OK(ckpt_cg_write(l.top, file, v1 ? "THAWED" : "0"));
	st_expect_counter_stuck(0, 300);
	st_expect_counter_stuck(1, 0);
	if (v1)
		expect_state_file(l.c, "CHECKPOINTING\n");
	else
		ST_EQ(ckpt_cg_is_frozen(l.c), 1);
	free(st_scan_check(l.fd, l.r0, NULL));
}

static void guard_ancestor_write_v2(void **state)
{
	(void)state;
	guard_ancestor_write(false);
}

static void guard_ancestor_write_v1(void **state)
{
	(void)state;
	guard_ancestor_write(true);
}

/* Moving a task on the other hierarchy thaws nothing and is allowed. */
static void guard_other_hierarchy(bool v1)
{
	struct ckpt_cg *a = st_cg_new(!v1, "a");
	struct layout l;

	layout(&l, v1);
	write_pid(a, "cgroup.procs", l.r0, 0);
	ST_CHECK(st_in_cgroup(l.r0, a));
	ST_CHECK(st_in_cgroup(l.r0, l.c));
	st_expect_counter_stuck(0, 300);
	free(st_scan_check(l.fd, l.r0, NULL));
}

static void guard_other_hierarchy_v2(void **state)
{
	(void)state;
	guard_other_hierarchy(false);
}

static void guard_other_hierarchy_v1(void **state)
{
	(void)state;
	guard_other_hierarchy(true);
}

/* A cgroup next to the session's is not affected. */
static void guard_unrelated(bool v1)
{
	struct ckpt_cg *d = st_cg_new(v1, "d");
	struct layout l;
	pid_t dp;

	layout(&l, v1);
	dp = st_spawn(d, st_wl_counter, (void *)2L);
	st_wait_ready(3);
	st_freeze(d);
	st_expect_counter_stuck(2, 100);
	st_thaw(d);
	st_expect_counter_moves(2);
	write_pid(l.out, "cgroup.procs", dp, 0);
	write_pid(d, "cgroup.procs", dp, 0);
	write_pid(d, "cgroup.procs", l.o, 0);
	ST_CHECK(st_in_cgroup(l.o, d));
	st_expect_counter_stuck(0, 100);
}

static void guard_unrelated_v2(void **state)
{
	(void)state;
	guard_unrelated(false);
}

static void guard_unrelated_v1(void **state)
{
	(void)state;
	guard_unrelated(true);
}

/*
 * clone3(CLONE_INTO_CGROUP) into the session's cgroup is allowed (v2): the
 * task is born frozen and is not in the root's tree.
 */
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static void guard_clone_into_cgroup(void **state)
{
	struct clone_args args;
	struct layout l;
	uint32_t n;
	long pid;
	int cgfd;

	(void)state;
	layout(&l, false);
	cgfd = st_cg_fd(l.c);
	memset(&args, 0, sizeof(args));
	args.flags = CLONE_INTO_CGROUP;
	args.exit_signal = SIGCHLD;
	args.cgroup = (uint64_t)cgfd;
	fflush(stdout);
	pid = syscall(SYS_clone3, &args, sizeof(args));
	if (pid == 0) {
		/* Raw clone: no libc beyond plain system calls. */
		for (;;) {
			__atomic_add_fetch(&st_shm->counter[3], 1, __ATOMIC_SEQ_CST);
			syscall(SYS_sched_yield);
		}
	}
	ST_CHECK(pid > 0, "clone3: %s", st_errname(errno));
	st_track_pid((pid_t)pid);
	ST_CHECK(st_in_cgroup((pid_t)pid, l.c));
	st_expect_counter_stuck(3, 300);
	ST_EQ(st_counter(3), 0);
	free(st_scan_check(l.fd, l.r0, &n));
	ST_EQ(n, 1);
}

/* ---- the guard needs kprobes and ftrace on ---------------------------------------- */

#define FTRACE_ENABLED	"/proc/sys/kernel/ftrace_enabled"
#define DEBUGFS		"/sys/kernel/debug"
#define KPROBES_ENABLED	DEBUGFS "/kprobes/enabled"

static void need_debugfs(void)
{
	if (!access(KPROBES_ENABLED, F_OK))
		return;
	ST_OK(mount("debugfs", DEBUGFS, "debugfs", 0, NULL));
	st_track_mount(DEBUGFS);
	ST_OK(access(KPROBES_ENABLED, W_OK));
}

/*
 * Root can switch all kprobes or all of ftrace off; the guard is gone then,
 * so BEGIN and SCAN refuse (EOPNOTSUPP), and work again once it is back.
 */
static void disarmed(const char *knob)
{
	struct ckpt_cg *d = st_cg_new(false, "d");
	struct ckpt_task recs[8];
	struct layout l;
	pid_t rd;
	int fd2;

	layout(&l, false);
	rd = st_simple_tree(d, 1);
	fd2 = st_dev();
	ST_OK(ckpt_ioc_scan(l.fd, recs, ARRAY_SIZE(recs), NULL));
	st_set_knob(knob, "0");
	ST_ERR(ckpt_ioc_scan(l.fd, recs, ARRAY_SIZE(recs), NULL), EOPNOTSUPP);
	ST_ERR(ckpt_ioc_begin(fd2, st_cg_fd(d), rd, 0), EOPNOTSUPP);
	ST_ERR(ckpt_ioc_end(fd2), ENOENT);
	/* What the refusal is about: the guard is off (a no-op write). */
	ST_OK(ckpt_cg_write(l.c, "cgroup.freeze", "1"));
	st_set_knob(knob, "1");
	ST_ERR(ckpt_cg_write(l.c, "cgroup.freeze", "1"), EBUSY);
	ST_OK(ckpt_ioc_begin(fd2, st_cg_fd(d), rd, 0));
	free(st_scan_check(fd2, rd, NULL));
	st_expect_counter_stuck(0, 100);
}

static void guard_disarmed_ftrace(void **state)
{
	(void)state;
	disarmed(FTRACE_ENABLED);
}

static void guard_disarmed_kprobes(void **state)
{
	(void)state;
	need_debugfs();
	disarmed(KPROBES_ENABLED);
}

/*
 * System suspend thaws frozen tasks on resume (v1 ones too, on 6.12), so
 * it is refused while a session is active.  /sys/power/pm_test=freezer
 * makes the attempt safe: it stops after freezing user space, and resumes.
 */
#define PM_STATE	"/sys/power/state"

static void guard_suspend_refused(void **state)
{
	struct layout l;

	(void)state;
	layout(&l, true);
	st_set_knob("/sys/power/pm_test", "freezer");
	st_set_knob("/sys/module/suspend/parameters/pm_test_delay", "0");
	/* The PM notifier says NOTIFY_BAD; the chain turns it into EPERM. */
	ST_ERR(ckpt_write_file(PM_STATE, "freeze"), EPERM);
	expect_state_file(l.c, "CHECKPOINTING\n");
	st_expect_counter_stuck(0, 200);
	st_expect_counter_stuck(1, 0);
	/* Without a session the same (test) suspend goes through. */
	ST_OK(ckpt_ioc_end(l.fd));
	st_thaw(l.c);
	ST_OK(ckpt_write_file(PM_STATE, "freeze"));
	st_expect_counter_moves(0);
}

static const struct CMUnitTest tests[] = {
	ST_TEST(guard_writes_v2),
	ST_TEST(guard_writes_v1),
	ST_TEST(guard_migrate_in_v2),
	ST_TEST(guard_migrate_in_v1),
	ST_TEST(guard_migrate_out_v2),
	ST_TEST(guard_migrate_out_v1),
	ST_TEST(guard_ancestor_write_v2),
	ST_TEST(guard_ancestor_write_v1),
	ST_TEST(guard_other_hierarchy_v2),
	ST_TEST(guard_other_hierarchy_v1),
	ST_TEST(guard_unrelated_v2),
	ST_TEST(guard_unrelated_v1),
	ST_TEST(guard_clone_into_cgroup),
	ST_TEST(guard_disarmed_ftrace),
	ST_TEST(guard_disarmed_kprobes),
	ST_TEST(guard_suspend_refused),
};

const struct st_group st_group_guard = { "guard", tests, ARRAY_SIZE(tests) };
