// SPDX-License-Identifier: GPL-2.0
/*
 * st-scanfail.c: scans that must fail, naming the task (group "scanfail").
 *
 *   EXDEV/CGROUP   a task of the tree outside the cgroup (v2, v1, and a
 *                  single v1 thread outside);
 *   EPERM/ACCESS   a caller that may not ptrace the tasks (fd inherited by
 *                  a child that dropped its privileges);
 *   EBUSY/PTRACED  a task of the tree is traced;
 *   EAGAIN/DEAD    the root was killed (SIGKILL, cgroup.kill);
 *   and a killed non-root task, which is listed as a zombie.
 *
 * EBUSY/NOT_FROZEN is not tested: every task inside a cgroup that BEGIN
 * accepted is frozen (v2 counts ptrace- and job-control-stopped tasks as
 * frozen, v1 freezes them too), a task outside it fails the CGROUP check
 * first, and the session keeps tasks from moving in.  There is no honest
 * way to make a task of the tree unfrozen yet inside from userspace.
 */
#include <sys/ptrace.h>
#include "st.h"

enum { K_KID = 1, K_GRANDKID, K_THREAD };

static void grandkid_fn(void *arg)
{
	(void)arg;
	st_ready();
	st_idle();
}

static void kid_fn(void *arg)
{
	long i = (long)arg;

	st_report(K_GRANDKID, (int)i, st_wl_fork(grandkid_fn, NULL), 0);
	st_ready();
	st_idle();
}

/* root -> kid i -> grandkid i, for i < @arg; 1 + 2n tasks */
static void tree_root(void *arg)
{
	long i, n = (long)arg;

	for (i = 0; i < n; i++)
		st_report(K_KID, (int)i, st_wl_fork(kid_fn, (void *)i), 0);
	st_ready();
	st_idle();
}

static void expect_scan_fails(int fd, int err, pid_t err_pid, uint32_t reason)
{
	struct ckpt_task recs[64];
	struct ckpt_scan s;

	errno = 0;
	if (ckpt_ioc_scan(fd, recs, ARRAY_SIZE(recs), &s) != -1 || errno != err)
		st_fail("SCAN: expected %s, got %s (err_pid %u, %s)",
			st_errname(err), errno ? st_errname(errno) : "success",
			s.err_pid, ckpt_scan_err_name(s.err_reason));
	ST_EQ(s.err_pid, err_pid);
	if (s.err_reason != reason)
		st_fail("err_reason %s, expected %s",
			ckpt_scan_err_name(s.err_reason),
			ckpt_scan_err_name(reason));
}

/* ---- outside the cgroup ------------------------------------------------------------- */

static void outside(bool v1)
{
	struct ckpt_cg *top = st_cg_top(v1), *cg = st_cg_new(v1, "c");
	pid_t root = st_spawn(cg, tree_root, (void *)3L), b, b1;
	struct ckpt_regs r;
	int fd;

	st_wait_ready(7);
	/* Kid 1 leaves for the parent cgroup and keeps running there. */
	b = st_find_rep(K_KID, 1)->aux;
	b1 = st_find_rep(K_GRANDKID, 1)->aux;
	ST_OK(ckpt_cg_attach(top, b));
	st_freeze(cg);
	ST_CHECK(st_in_cgroup(b, top));
	ST_EQ(ckpt_cg_is_frozen(top), 0);
	fd = st_begin(cg, root);
	expect_scan_fails(fd, EXDEV, b, CKPT_SCAN_ERR_CGROUP);
	ST_ERR(ckpt_ioc_regs(fd, b, CKPT_REGS_GP, NULL, 0, &r), EXDEV);
	/* Its child stayed inside, frozen: fine. */
	ST_OK(ckpt_ioc_regs(fd, b1, CKPT_REGS_GP, NULL, 0, &r));
	/* Back inside (after the session), the scan works. */
	ST_OK(ckpt_ioc_end(fd));
	ST_OK(ckpt_cg_attach(cg, b));
	st_freeze(cg);
	ST_OK(ckpt_ioc_begin(fd, st_cg_fd(cg), root, 0));
	free(st_scan_check(fd, root, NULL));
}

static void scanfail_outside_cgroup_v2(void **state)
{
	(void)state;
	outside(false);
}

static void scanfail_outside_cgroup_v1(void **state)
{
	(void)state;
	outside(true);
}

/* v1 moves single threads: one thread of a process outside. */
static void *report_thread(void *arg)
{
	(void)arg;
	st_report(K_THREAD, 0, 0, 0);
	st_ready();
	st_idle();
}

static void threaded_kid(void *arg)
{
	(void)arg;
	st_wl_thread(report_thread, NULL);
	st_ready();
	st_idle();
}

static void threaded_root(void *arg)
{
	(void)arg;
	st_report(K_KID, 0, st_wl_fork(threaded_kid, NULL), 0);
	st_ready();
	st_idle();
}

static void scanfail_thread_outside_v1(void **state)
{
	struct ckpt_cg *top = st_cg_top(true), *cg = st_cg_new(true, "c");
	pid_t root = st_spawn(cg, threaded_root, NULL), kid, t;
	struct ckpt_regs r;
	int fd;

	(void)state;
	st_wait_ready(3);
	kid = st_find_rep(K_KID, 0)->aux;
	t = st_find_rep(K_THREAD, 0)->tid;
	ST_OK(ckpt_cg_attach_thread(top, t));
	st_freeze(cg);
	fd = st_begin(cg, root);
	expect_scan_fails(fd, EXDEV, t, CKPT_SCAN_ERR_CGROUP);
	ST_ERR(ckpt_ioc_regs(fd, t, CKPT_REGS_GP, NULL, 0, &r), EXDEV);
	ST_OK(ckpt_ioc_regs(fd, kid, CKPT_REGS_GP, NULL, 0, &r));
}

/* ---- the caller may not ptrace the tasks ------------------------------------------------- */

struct unpriv {
	int fd;
	uid_t uid;
	int cap;		/* -1: none */
	pid_t tid;		/* for REGS */
};

static int unpriv_scan(void *arg)
{
	struct unpriv *u = arg;
	struct ckpt_task recs[16];

	if (st_drop_privs(u->uid, u->uid, &u->cap, u->cap >= 0))
		return 100;
	st_shm->res[0].ret = ckpt_ioc_scan(u->fd, recs, 16, &st_shm->res[0].scan);
	st_shm->res[0].err = errno;
	st_shm->res[1].ret = ckpt_ioc_regs(u->fd, u->tid, CKPT_REGS_GP, NULL, 0,
					   &st_shm->res[1].regs);
	st_shm->res[1].err = errno;
	return 0;
}

static void scanfail_unprivileged(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 2);
	struct unpriv u = { .fd = st_begin(cg, root), .tid = root };

	(void)state;
	/* nobody, and root without capabilities: may not ptrace root's tasks */
	u.uid = 65534;
	u.cap = -1;
	ST_EQ(st_run_child(unpriv_scan, &u), 0);
	ST_EQ(st_shm->res[0].ret, -1);
	ST_EQ(st_shm->res[0].err, EPERM);
	ST_EQ(st_shm->res[0].scan.err_pid, root);
	ST_EQ(st_shm->res[0].scan.err_reason, CKPT_SCAN_ERR_ACCESS);
	ST_EQ(st_shm->res[1].ret, -1);
	ST_EQ(st_shm->res[1].err, EPERM);

	u.uid = 0;
	ST_EQ(st_run_child(unpriv_scan, &u), 0);
	ST_EQ(st_shm->res[0].err, EPERM);
	ST_EQ(st_shm->res[0].scan.err_reason, CKPT_SCAN_ERR_ACCESS);
	ST_EQ(st_shm->res[1].err, EPERM);

	/* CAP_SYS_PTRACE is what ptrace access needs: then it works. */
	u.cap = CAP_SYS_PTRACE;
	ST_EQ(st_run_child(unpriv_scan, &u), 0);
	ST_EQ(st_shm->res[0].ret, 0);
	ST_EQ(st_shm->res[0].scan.count, 3);
	ST_EQ(st_shm->res[1].ret, 0);

	/* The session itself is unharmed. */
	free(st_scan_check(u.fd, root, NULL));
}

/* ---- traced ---------------------------------------------------------------------------------- */

static void traced(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = st_spawn(cg, tree_root, (void *)2L), x;
	struct ckpt_regs r;
	int fd;

	st_wait_ready(5);
	x = st_find_rep(K_KID, 1)->aux;
	ST_OK(ptrace(PTRACE_SEIZE, x, NULL, NULL));
	st_freeze(cg);
	fd = st_begin(cg, root);
	expect_scan_fails(fd, EBUSY, x, CKPT_SCAN_ERR_PTRACED);
	ST_ERR(ckpt_ioc_regs(fd, x, CKPT_REGS_GP, NULL, 0, &r), EBUSY);
	ST_OK(ckpt_ioc_regs(fd, root, CKPT_REGS_GP, NULL, 0, &r));
}

static void scanfail_ptraced_v2(void **state)
{
	(void)state;
	traced(false);
}

static void scanfail_ptraced_v1(void **state)
{
	(void)state;
	traced(true);
}

/* ---- killed tasks (v2 lets SIGKILL through its freezer) ------------------------------------------ */

static void scanfail_root_killed(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_spawn(cg, tree_root, (void *)1L), kid;
	struct ckpt_regs r;
	int fd;

	(void)state;
	st_wait_ready(3);
	kid = st_find_rep(K_KID, 0)->aux;
	st_freeze(cg);
	fd = st_begin(cg, root);
	ST_OK(kill(root, SIGKILL));
	st_wait_state(root, 0, 'Z');	/* the runner does not reap it */
	expect_scan_fails(fd, EAGAIN, 0, CKPT_SCAN_ERR_DEAD);
	/* Its child went to the runner: not the tree anymore. */
	ST_ERR(ckpt_ioc_regs(fd, kid, CKPT_REGS_GP, NULL, 0, &r), EXDEV);
}

static void scanfail_cgroup_kill(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 3);
	int fd = st_begin(cg, root);

	(void)state;
	ST_OK(ckpt_cg_write(cg, "cgroup.kill", "1"));
	st_wait_state(root, 0, 'Z');
	expect_scan_fails(fd, EAGAIN, 0, CKPT_SCAN_ERR_DEAD);
}

/* A killed task of the tree is a zombie (its parent is frozen). */
static void scanfail_member_killed(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_spawn(cg, tree_root, (void *)3L), a, m, mc;
	const struct ckpt_task *x;
	struct ckpt_task *recs;
	struct ckpt_regs r;
	uint32_t n;
	int fd;

	(void)state;
	st_wait_ready(7);
	a = st_find_rep(K_GRANDKID, 0)->aux;	/* a leaf */
	m = st_find_rep(K_KID, 2)->aux;		/* a middle one */
	mc = st_find_rep(K_GRANDKID, 2)->aux;
	st_freeze(cg);
	fd = st_begin(cg, root);
	ST_OK(kill(a, SIGKILL));
	ST_OK(kill(m, SIGKILL));
	st_wait_state(a, 0, 'Z');
	st_wait_state(m, 0, 'Z');
	recs = st_scan_check(fd, root, &n);
	ST_EQ(n, 6);			/* m's child went to the runner */
	x = st_find_rec(recs, n, a);
	ST_EQ(x->flags, CKPT_TASK_LEADER | CKPT_TASK_ZOMBIE);
	x = st_find_rec(recs, n, m);
	ST_EQ(x->flags, CKPT_TASK_LEADER | CKPT_TASK_ZOMBIE);
	ST_ERR(ckpt_ioc_regs(fd, a, CKPT_REGS_GP, NULL, 0, &r), EAGAIN);
	ST_ERR(ckpt_ioc_regs(fd, mc, CKPT_REGS_GP, NULL, 0, &r), EXDEV);
	free(recs);
}

static const struct CMUnitTest tests[] = {
	ST_TEST(scanfail_outside_cgroup_v2),
	ST_TEST(scanfail_outside_cgroup_v1),
	ST_TEST(scanfail_thread_outside_v1),
	ST_TEST(scanfail_unprivileged),
	ST_TEST(scanfail_ptraced_v2),
	ST_TEST(scanfail_ptraced_v1),
	ST_TEST(scanfail_root_killed),
	ST_TEST(scanfail_cgroup_kill),
	ST_TEST(scanfail_member_killed),
};

const struct st_group st_group_scanfail = { "scanfail", tests, ARRAY_SIZE(tests) };
