// SPDX-License-Identifier: GPL-2.0
/*
 * st-scanfail.c: scans that must fail, naming the task (group "scanfail").
 *
 *   EXDEV/CGROUP   a task of the tree outside the cgroup (v2, v1, and a
 *                  single v1 thread outside);
 *   EPERM/ACCESS   a caller that may not ptrace the tasks (fd inherited by
 *                  a child that dropped its privileges);
 *   EBUSY/PTRACED  a task of the tree is traced;
 *   EBUSY/NOT_FROZEN  a task of the cgroup itself not frozen yet, though
 *                  the cgroup reads frozen (the v2 freezer quirk that
 *                  abi.md describes), and SCAN working once it froze;
 *   EAGAIN/DEAD    the root was killed (SIGKILL, cgroup.kill);
 *   and a killed non-root task, which is listed as a zombie.
 */
#include <sched.h>
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

/* ---- not frozen (v2) ------------------------------------------------------------------------ */

/*
 * v2 marks a cgroup C frozen when its last sub-cgroup freezes, without
 * looking at C's own tasks (cgroup_propagate_frozen() in
 * kernel/cgroup/freezer.c, 6.1 and 6.12).  BEGIN accepts C then, so SCAN's
 * per-task check is what must notice a task of C itself still on its way to
 * the freezer trap.
 *
 * The root T sits directly in C, pinned to CPU 1, where a SCHED_FIFO busy
 * loop (outside the cgroups) keeps it from running into the trap; its
 * children sit in C/sub on CPU 0 and freeze at once.  RT throttling (and
 * the fair server on 6.12) lets T run for a moment about once a second, so
 * T's state is checked around BEGIN and SCAN, and an attempt in which T
 * froze too early is repeated.
 */
#define NF_KIDS		2
#define NF_ATTEMPTS	5

enum { HOG_IDLE, HOG_GO, HOG_SPIN, HOG_STOP };

static void nf_pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ST_OK(sched_setaffinity(pid, sizeof(set), &set));
}

/*
 * The busy loop: spawned before the tree, so teardown kills it first.  It
 * idles until told to go, then spins as SCHED_FIFO on CPU 1 until told to
 * stop, at most 2 s.
 */
static void nf_hog(void *arg)
{
	struct sched_param rt = { .sched_priority = 10 }, other = { 0 };
	struct timespec ts = { 0, 1000000 };
	cpu_set_t set;
	uint64_t end;

	(void)arg;
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	WL_CHECK(!sched_setaffinity(0, sizeof(set), &set));
	for (;;) {
		while (__atomic_load_n(&st_shm->flag, __ATOMIC_SEQ_CST) != HOG_GO)
			nanosleep(&ts, NULL);
		WL_CHECK(!sched_setscheduler(0, SCHED_FIFO, &rt));
		__atomic_store_n(&st_shm->flag, HOG_SPIN, __ATOMIC_SEQ_CST);
		end = ckpt_now_ms() + 2000;
		while (__atomic_load_n(&st_shm->flag, __ATOMIC_SEQ_CST) == HOG_SPIN &&
		       ckpt_now_ms() < end)
			;
		WL_CHECK(!sched_setscheduler(0, SCHED_OTHER, &other));
		__atomic_store_n(&st_shm->flag, HOG_IDLE, __ATOMIC_SEQ_CST);
	}
}

static void nf_hog_start(void)
{
	uint64_t deadline = ckpt_now_ms() + ST_TIMEOUT_MS;

	__atomic_store_n(&st_shm->flag, HOG_GO, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&st_shm->flag, __ATOMIC_SEQ_CST) != HOG_SPIN) {
		ST_CHECK(!st_shm->fail_line, "the busy loop failed at line %d: %s",
			 st_shm->fail_line, st_errname(st_shm->fail_errno));
		ST_CHECK(ckpt_now_ms() < deadline, "the busy loop did not start");
		ckpt_sleep_ms(1);
	}
}

static void nf_hog_stop(void)
{
	uint64_t deadline = ckpt_now_ms() + ST_TIMEOUT_MS;
	int f = HOG_SPIN;

	__atomic_compare_exchange_n(&st_shm->flag, &f, HOG_STOP, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&st_shm->flag, __ATOMIC_SEQ_CST) != HOG_IDLE) {
		ST_CHECK(ckpt_now_ms() < deadline, "the busy loop did not stop");
		ckpt_sleep_ms(1);
	}
}

/* Is @pid in the v2 freezer trap? */
static bool nf_in_trap(pid_t pid)
{
	char path[64], wchan[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	return st_state(pid, 0) == 'S' &&
	       ckpt_read_file(path, wchan, sizeof(wchan)) >= 0 &&
	       !strcmp(wchan, "get_signal");
}

static void nf_root(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < NF_KIDS; i++)
		st_report(K_KID, (int)i, st_wl_fork(NULL, NULL), 0);
	st_ready();
	st_idle();
}

static void scanfail_not_frozen_v2(void **state)
{
	struct ckpt_cg *c, *sub;
	pid_t root, kid;
	int fd, cgfd, attempt, early = 0, eagain = 0, late = 0, ret = 0, err = 0;
	bool still = false;
	uint64_t deadline;
	struct ckpt_task recs[16], *all;
	struct ckpt_regs r;
	struct ckpt_scan s;
	uint32_t i, n;

	(void)state;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		st_fail("needs 2 CPUs to hold a task back from the freezer");
	st_spawn(NULL, nf_hog, NULL);		/* first: killed first */
	c = st_cg_new(false, "c");
	sub = st_cg_child(c, "sub");
	root = st_spawn(c, nf_root, NULL);
	st_wait_ready(NF_KIDS + 1);
	nf_pin(0, 0);
	nf_pin(root, 1);
	for (i = 0; i < NF_KIDS; i++) {
		kid = st_find_rep(K_KID, (int)i)->aux;
		ST_OK(ckpt_cg_attach(sub, kid));
		nf_pin(kid, 0);
	}
	fd = st_dev();
	cgfd = st_cg_fd(c);

	for (attempt = 1;; attempt++) {
		ST_CHECK(attempt <= NF_ATTEMPTS,
			 "no attempt got BEGIN and SCAN done while the root was held back (it froze before BEGIN %d times, between BEGIN and SCAN %d times; BEGIN said EAGAIN %d times)",
			 early, late, eagain);
		nf_hog_start();
		ST_OK(ckpt_cg_write(c, "cgroup.freeze", "1"));
		/* c's "frozen 1": set by c/sub freezing, not by the root */
		ST_OK(ckpt_cg2_wait_frozen(c, true, ST_TIMEOUT_MS));
		if (st_state(root, 0) != 'R') {
			early++;		/* it got through: again */
			goto again;
		}
		/* The root is not frozen: c/sub made c read frozen. */
		ST_EQ(ckpt_cg_is_frozen(sub), 1);
		if (ckpt_ioc_begin(fd, cgfd, root, 0)) {
			ST_CHECK(errno == EAGAIN, "BEGIN: %s", st_errname(errno));
			eagain++;		/* the quirk did not show */
		} else {
			memset(&s, 0, sizeof(s));
			errno = 0;
			ret = ckpt_ioc_scan(fd, recs, ARRAY_SIZE(recs), &s);
			err = errno;
			/* Still held back: then SCAN cannot have been right to succeed. */
			still = st_state(root, 0) == 'R' && !nf_in_trap(root);
			if (still || ret == -1)
				break;
			late++;			/* froze in between: SCAN proves nothing */
			ST_OK(ckpt_ioc_end(fd));
		}
again:
		nf_hog_stop();
		ST_OK(ckpt_cg_write(c, "cgroup.freeze", "0"));
		ST_OK(ckpt_cg2_wait_frozen(c, false, ST_TIMEOUT_MS));
	}
	st_diag("attempt %d: root %s after SCAN; earlier attempts: root froze before BEGIN %d, between BEGIN and SCAN %d, BEGIN EAGAIN %d",
		attempt, still ? "still not frozen" : "frozen", early, late, eagain);

	if (ret != -1 || err != EBUSY)
		st_fail("SCAN with the root not frozen: expected -1/EBUSY, got %d/%s (err_pid %u, %s)",
			ret, ret ? st_errname(err) : "no error", s.err_pid,
			ckpt_scan_err_name(s.err_reason));
	if (s.err_reason != CKPT_SCAN_ERR_NOT_FROZEN)
		st_fail("err_reason %s, expected %s",
			ckpt_scan_err_name(s.err_reason),
			ckpt_scan_err_name(CKPT_SCAN_ERR_NOT_FROZEN));
	ST_EQ(s.err_pid, root);

	/* Transient: once the root may run, it freezes, and SCAN works. */
	nf_hog_stop();
	deadline = ckpt_now_ms() + ST_TIMEOUT_MS;
	while (!nf_in_trap(root)) {
		if (ckpt_now_ms() > deadline) {
			st_dump_task(root);
			st_fail("the root did not freeze after the busy loop stopped");
		}
		ckpt_sleep_ms(2);
	}
	all = st_scan_check(fd, root, &n);
	ST_EQ(n, NF_KIDS + 1);
	free(all);
	ST_OK(ckpt_ioc_regs(fd, root, CKPT_REGS_GP, NULL, 0, &r));
	ST_OK(ckpt_ioc_end(fd));
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
	ST_TEST(scanfail_not_frozen_v2),
	ST_TEST(scanfail_root_killed),
	ST_TEST(scanfail_cgroup_kill),
	ST_TEST(scanfail_member_killed),
};

const struct st_group st_group_scanfail = { "scanfail", tests, ARRAY_SIZE(tests) };
