// SPDX-License-Identifier: GPL-2.0
/*
 * st-scan.c: scan results against the truth from /proc (group "scan").
 *
 * Every test builds a tree of a known shape, freezes it, begins a session
 * and compares every record (ids, flags, depth) with what /proc says
 * (st-truth.c), checks the DFS order, and checks the shape it built.
 */
#include <sched.h>
#include "st.h"

static void check_stable(int fd, const struct ckpt_task *recs, uint32_t n)
{
	struct ckpt_task *again;
	uint32_t m;

	ST_OK(ckpt_scan_all(fd, &again, &m, NULL));
	ST_EQ(m, n);
	ST_EQ(memcmp(again, recs, n * sizeof(*recs)), 0);
	free(again);
}

/* ---- a deep chain ---------------------------------------------------------------- */

#define CHAIN_DEPTH	200

static void chain_fn(void *arg)
{
	long left = (long)arg;

	if (left > 0)
		st_wl_fork(chain_fn, (void *)(left - 1));
	st_ready();
	st_idle();
}

static void scan_chain(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = st_spawn(cg, chain_fn, (void *)(long)CHAIN_DEPTH);
	struct ckpt_task *r;
	uint32_t n, i;
	int fd;

	st_wait_ready(CHAIN_DEPTH + 1);
	st_freeze(cg);
	fd = st_begin(cg, root);
	r = st_scan_check(fd, root, &n);
	ST_EQ(n, CHAIN_DEPTH + 1);
	for (i = 1; i < n; i++) {
		ST_EQ(r[i].ppid, r[i - 1].pid);
		ST_EQ(r[i].depth, i);
		ST_EQ(r[i].flags, CKPT_TASK_LEADER);
	}
	ST_EQ(r[0].flags, CKPT_TASK_LEADER | CKPT_TASK_ROOT);
	ST_EQ(r[0].ppid, getpid());
	check_stable(fd, r, n);
	free(r);
}

static void scan_chain_v2(void **state)
{
	(void)state;
	scan_chain(false);
}

static void scan_chain_v1(void **state)
{
	(void)state;
	scan_chain(true);
}

/* ---- a wide fan ------------------------------------------------------------------ */

#define FAN_WIDTH	500

static void fan_fn(void *arg)
{
	long i, n = (long)arg;

	for (i = 0; i < n; i++)
		st_wl_fork(NULL, NULL);
	st_ready();
	st_idle();
}

static void scan_fan(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_spawn(cg, fan_fn, (void *)(long)FAN_WIDTH);
	struct ckpt_task *r;
	uint32_t n, i;
	int fd;

	(void)state;
	st_wait_ready(FAN_WIDTH + 1);
	st_freeze(cg);
	fd = st_begin(cg, root);
	r = st_scan_check(fd, root, &n);
	ST_EQ(n, FAN_WIDTH + 1);
	for (i = 1; i < n; i++) {
		ST_EQ(r[i].ppid, root);
		ST_EQ(r[i].depth, 1);
	}
	free(r);
}

/* ---- threads ------------------------------------------------------------------------ */

enum { R_C2 = 1, R_C2_FORKED, R_G_FORKED, R_THREAD };

static void *c2_thread_fn(void *arg)
{
	pid_t g;

	(void)arg;
	g = st_wl_fork(NULL, NULL);		/* G, forked by a thread */
	st_report(R_G_FORKED, 0, g, 0);
	st_ready();
	st_idle();
}

static void c2_fn(void *arg)
{
	(void)arg;
	st_report(R_C2, 0, 0, 0);
	st_wl_thread(c2_thread_fn, NULL);
	st_ready();
	st_idle();
}

static void *forker_thread_fn(void *arg)
{
	pid_t c2;

	(void)arg;
	st_report(R_THREAD, 0, 0, 0);
	c2 = st_wl_fork(c2_fn, NULL);		/* C2, forked by a thread */
	st_report(R_C2_FORKED, 0, c2, 0);
	st_ready();
	st_idle();
}

static void c1_fn(void *arg)
{
	(void)arg;
	st_wl_thread(NULL, NULL);
	st_wl_thread(NULL, NULL);
	st_ready();
	st_idle();
}

static void threads_root(void *arg)
{
	(void)arg;
	st_wl_thread(NULL, NULL);
	st_wl_thread(forker_thread_fn, NULL);
	st_wl_thread(NULL, NULL);
	st_wl_fork(c1_fn, NULL);
	st_ready();
	st_idle();
}

static void scan_threads(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = st_spawn(cg, threads_root, NULL), c2, g, forker;
	const struct ckpt_task *x;
	struct ckpt_task *r;
	uint32_t n, i, threads = 0;
	int fd;

	/* root + 3 threads, C1 + 2, C2 + 1, G */
	st_wait_ready(10);
	st_freeze(cg);
	fd = st_begin(cg, root);
	r = st_scan_check(fd, root, &n);
	ST_EQ(n, 10);
	for (i = 0; i < n; i++)
		threads += !!(r[i].flags & CKPT_TASK_THREAD);
	ST_EQ(threads, 6);
	/* The root's threads follow it, before any child. */
	for (i = 1; i < 4; i++) {
		ST_EQ(r[i].tgid, root);
		ST_EQ(r[i].flags, CKPT_TASK_THREAD);
		ST_EQ(r[i].depth, 0);
		ST_EQ(r[i].ppid, r[0].ppid);
	}
	/* C2 was forked by a thread of the root: a child of the process. */
	forker = st_find_rep(R_THREAD, 0)->tid;
	ST_CHECK(forker != root);
	c2 = st_find_rep(R_C2_FORKED, 0)->aux;
	x = st_find_rec(r, n, c2);
	ST_EQ(x->ppid, root);
	ST_EQ(x->depth, 1);
	ST_EQ(x->flags, CKPT_TASK_LEADER);
	/* G was forked by a thread of C2. */
	g = st_find_rep(R_G_FORKED, 0)->aux;
	x = st_find_rec(r, n, g);
	ST_EQ(x->ppid, c2);
	ST_EQ(x->depth, 2);
	free(r);
}

static void scan_threads_v2(void **state)
{
	(void)state;
	scan_threads(false);
}

static void scan_threads_v1(void **state)
{
	(void)state;
	scan_threads(true);
}

/* ---- zombies ---------------------------------------------------------------------------- */

enum { R_Z1 = 1, R_M };

static void m_fn(void *arg)
{
	pid_t mz;

	(void)arg;
	st_wl_fork(NULL, NULL);			/* MC */
	mz = st_wl_fork(st_wl_exit, NULL);	/* MZ: a zombie child */
	st_report(R_M, 0, mz, 0);
	st_wl_thread(NULL, NULL);		/* T keeps M alive ... */
	syscall(SYS_exit, 0);			/* ... after its leader exits */
}

static void zombies_root(void *arg)
{
	pid_t z1;

	(void)arg;
	z1 = st_wl_fork(st_wl_exit, NULL);	/* Z1: exits, not reaped */
	st_report(R_Z1, 0, z1, 0);
	st_wl_fork(m_fn, NULL);
	st_ready();
	st_idle();
}

static void scan_zombies(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_spawn(cg, zombies_root, NULL), z1, m, mz;
	const struct ckpt_task *x;
	struct ckpt_task *r;
	uint32_t n, i, zombies = 0;
	int fd;

	(void)state;
	st_wait_ready(3);			/* root, MC, T */
	z1 = st_find_rep(R_Z1, 0)->aux;
	m = st_find_rep(R_M, 0)->pid;
	mz = st_find_rep(R_M, 0)->aux;
	st_wait_state(z1, 0, 'Z');
	st_wait_state(mz, 0, 'Z');
	st_wait_state(m, 0, 'Z');		/* M's leader */
	st_freeze(cg);
	fd = st_begin(cg, root);
	r = st_scan_check(fd, root, &n);
	ST_EQ(n, 6);				/* root, Z1, M, T, MC, MZ */
	for (i = 0; i < n; i++)
		zombies += !!(r[i].flags & CKPT_TASK_ZOMBIE);
	ST_EQ(zombies, 3);
	x = st_find_rec(r, n, z1);
	ST_EQ(x->flags, CKPT_TASK_LEADER | CKPT_TASK_ZOMBIE);
	ST_EQ(x->ppid, root);
	x = st_find_rec(r, n, m);
	ST_EQ(x->flags, CKPT_TASK_LEADER | CKPT_TASK_ZOMBIE);
	ST_EQ(x[1].tgid, m);			/* its live thread */
	ST_EQ(x[1].flags, CKPT_TASK_THREAD);
	x = st_find_rec(r, n, mz);
	ST_EQ(x->flags, CKPT_TASK_LEADER | CKPT_TASK_ZOMBIE);
	ST_EQ(x->ppid, m);
	ST_EQ(x->depth, 2);
	free(r);
}

/* ---- process groups and sessions ----------------------------------------------------------- */

enum { R_A = 1, R_B, R_C, R_D, R_ROOT };

static void c_fn(void *arg)
{
	(void)arg;
	st_report(R_C, 0, 0, 0);
	st_ready();
	st_idle();
}

static void b_fn(void *arg)
{
	(void)arg;
	WL_CHECK(!setpgid(0, 0));		/* a group in A's session */
	st_report(R_B, 0, 0, 0);
	st_wl_fork(c_fn, NULL);			/* C: in B's group */
	st_ready();
	st_idle();
}

static void a_fn(void *arg)
{
	(void)arg;
	WL_CHECK(setsid() > 0);
	st_report(R_A, 0, 0, 0);
	st_wl_thread(NULL, NULL);
	st_wl_fork(b_fn, NULL);
	st_ready();
	st_idle();
}

static void d_fn(void *arg)
{
	(void)arg;
	WL_CHECK(!setpgid(0, 0));
	st_report(R_D, 0, 0, 0);
	st_ready();
	st_idle();
}

static void sessions_root(void *arg)
{
	(void)arg;
	st_report(R_ROOT, 0, 0, 0);
	st_wl_fork(a_fn, NULL);
	st_wl_fork(d_fn, NULL);
	st_ready();
	st_idle();
}

static void expect_ids(const struct ckpt_task *r, uint32_t n, int role,
		       uint32_t flags)
{
	const struct st_rep *rep = st_find_rep(role, 0);
	const struct ckpt_task *x = st_find_rec(r, n, rep->pid);

	ST_EQ(x->pid, rep->pid);
	ST_EQ(x->ppid, rep->ppid);
	ST_EQ(x->pgid, rep->pgid);
	ST_EQ(x->sid, rep->sid);
	ST_EQ(x->flags & ~CKPT_TASK_ROOT, flags);
}

static void scan_sessions(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_spawn(cg, sessions_root, NULL);
	const struct st_rep *a, *b;
	struct ckpt_task *r;
	uint32_t n, i, leaders = 0;
	int fd;

	(void)state;
	st_wait_ready(6);		/* root, A + thread, B, C, D */
	st_freeze(cg);
	fd = st_begin(cg, root);
	r = st_scan_check(fd, root, &n);
	ST_EQ(n, 6);
	a = st_find_rep(R_A, 0);
	b = st_find_rep(R_B, 0);
	/* What each process saw of itself, and the layout built. */
	expect_ids(r, n, R_ROOT, CKPT_TASK_LEADER);
	expect_ids(r, n, R_A, CKPT_TASK_LEADER | CKPT_TASK_SESSION_LEADER);
	expect_ids(r, n, R_B, CKPT_TASK_LEADER);
	expect_ids(r, n, R_C, CKPT_TASK_LEADER);
	expect_ids(r, n, R_D, CKPT_TASK_LEADER);
	ST_EQ(a->sid, a->pid);
	ST_EQ(b->pgid, b->pid);
	ST_EQ(b->sid, a->pid);
	ST_EQ(st_find_rep(R_C, 0)->pgid, b->pid);
	ST_EQ(st_find_rep(R_D, 0)->pgid, st_find_rep(R_D, 0)->pid);
	ST_EQ(st_find_rep(R_D, 0)->sid, getsid(0));
	for (i = 0; i < n; i++)
		leaders += !!(r[i].flags & CKPT_TASK_SESSION_LEADER);
	ST_EQ(leaders, 1);		/* not A's thread */
	free(r);
}

/* ---- a pid namespace --------------------------------------------------------------------------- */

enum { N_H = 1, N_R, N_A, N_B, N_P, N_Q };

static void ns_b(void *arg)
{
	(void)arg;
	WL_CHECK(!setpgid(0, 0));
	st_report(N_B, 0, 0, 0);
	st_ready();
	st_idle();
}

static void ns_a(void *arg)
{
	(void)arg;
	WL_CHECK(setsid() > 0);
	st_report(N_A, 0, 0, 0);
	st_wl_fork(ns_b, NULL);
	st_ready();
	st_idle();
}

static void ns_p(void *arg)
{
	pid_t q;

	(void)arg;
	WL_CHECK(!unshare(CLONE_NEWPID));	/* Q: init of a nested ns */
	q = fork();
	WL_CHECK(q >= 0);
	if (q == 0) {
		st_report(N_Q, 0, 0, 0);
		st_wl_fork(NULL, NULL);		/* pid 2 there */
		st_ready();
		st_idle();
	}
	st_report(N_P, 0, q, 0);
	st_ready();
	st_idle();
}

static void ns_helper(void *arg)
{
	pid_t r;

	(void)arg;
	WL_CHECK(!unshare(CLONE_NEWPID));
	r = fork();
	WL_CHECK(r >= 0);
	if (r == 0) {			/* R: pid 1 of the new namespace */
		st_report(N_R, 0, 0, 0);
		st_wl_fork(ns_a, NULL);
		st_wl_fork(ns_p, NULL);
		st_wl_thread(NULL, NULL);
		st_ready();
		st_idle();
	}
	st_report(N_H, 0, r, 0);
	st_idle();
}

static const struct ckpt_task *rec_by_pid(const struct ckpt_task *r,
					  uint32_t n, pid_t pid)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (r[i].pid == (uint32_t)pid && (r[i].flags & CKPT_TASK_LEADER))
			return &r[i];
	st_fail("no process %d (root namespace) in the scan", pid);
}

static void scan_pidns(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	const struct st_rep *rr, *ra, *rb, *rp, *rq;
	const struct ckpt_task *x;
	struct ckpt_task *r;
	uint32_t n, i, inits = 0;
	pid_t root;
	int fd;

	(void)state;
	st_spawn(cg, ns_helper, NULL);
	/* R + thread, A, B, P, Q, Q's child */
	st_wait_ready(7);
	root = st_find_rep(N_H, 0)->aux;
	st_freeze(cg);
	fd = st_begin(cg, root);
	r = st_scan_check(fd, root, &n);	/* /proc, mapped through NSpid */
	ST_EQ(n, 7);

	/* And what each task reported about itself, from inside. */
	rr = st_find_rep(N_R, 0);
	ST_EQ(rr->pid, 1);
	ST_EQ(rr->ppid, 0);
	ST_EQ(r[0].vpid, root);
	ST_EQ(r[0].pid, 1);
	ST_EQ(r[0].tgid, 1);
	ST_EQ(r[0].ppid, 0);		/* H is not visible in there */
	ST_EQ(r[0].pgid, rr->pgid);
	ST_EQ(r[0].sid, rr->sid);
	ST_EQ(r[0].pgid, 0);
	ST_EQ(r[0].flags, CKPT_TASK_LEADER | CKPT_TASK_ROOT |
			  CKPT_TASK_PIDNS_INIT);

	ra = st_find_rep(N_A, 0);
	x = rec_by_pid(r, n, ra->pid);
	ST_EQ(x->ppid, ra->ppid);
	ST_EQ(x->ppid, 1);
	ST_EQ(x->pgid, ra->pgid);
	ST_EQ(x->sid, ra->sid);
	ST_EQ(x->flags, CKPT_TASK_LEADER | CKPT_TASK_SESSION_LEADER);

	rb = st_find_rep(N_B, 0);
	x = rec_by_pid(r, n, rb->pid);
	ST_EQ(x->ppid, rb->ppid);
	ST_EQ(x->pgid, rb->pgid);
	ST_EQ(x->sid, rb->sid);
	ST_EQ(x->sid, ra->pid);

	rp = st_find_rep(N_P, 0);
	x = rec_by_pid(r, n, rp->pid);
	ST_EQ(x->ppid, rp->ppid);
	ST_EQ(x->pgid, rp->pgid);
	ST_EQ(x->sid, rp->sid);

	/* Q: init of its own namespace, numbered in R's. */
	rq = st_find_rep(N_Q, 0);
	ST_EQ(rq->pid, 1);
	ST_EQ(rq->ppid, 0);
	x = rec_by_pid(r, n, rp->aux);
	ST_EQ(x->ppid, rp->pid);
	ST_EQ(x->depth, 2);
	ST_EQ(x->flags, CKPT_TASK_LEADER | CKPT_TASK_PIDNS_INIT);

	for (i = 0; i < n; i++)
		inits += !!(r[i].flags & CKPT_TASK_PIDNS_INIT);
	ST_EQ(inits, 2);
	free(r);
}

/* ---- where the root and the tree are -------------------------------------------------------------- */

enum { K_KID = 1 };

static void kids_root(void *arg)
{
	long i, n = (long)arg;

	for (i = 0; i < n; i++)
		st_report(K_KID, (int)i, st_wl_fork(NULL, NULL), 0);
	st_ready();
	st_idle();
}

/* Part of the tree in a descendant cgroup: that is inside. */
static void scan_nested_cgroups(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c"), *sub = st_cg_child(cg, "sub");
	pid_t root = st_spawn(cg, kids_root, (void *)3L);
	uint32_t n;
	int fd;

	st_wait_ready(4);
	ST_OK(ckpt_cg_attach(sub, st_find_rep(K_KID, 1)->aux));
	st_freeze(cg);
	fd = st_begin(cg, root);
	free(st_scan_check(fd, root, &n));
	ST_EQ(n, 4);
}

static void scan_nested_cgroups_v2(void **state)
{
	(void)state;
	scan_nested_cgroups(false);
}

static void scan_nested_cgroups_v1(void **state)
{
	(void)state;
	scan_nested_cgroups(true);
}

/* Two trees in one cgroup: a scan lists its root's only. */
static void scan_two_trees(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t r1 = st_spawn(cg, kids_root, (void *)2L);
	pid_t r2 = st_spawn(cg, fan_fn, (void *)3L);
	uint32_t n;
	int fd;

	(void)state;
	st_wait_ready(3 + 4);
	st_freeze(cg);
	fd = st_begin(cg, r1);
	free(st_scan_check(fd, r1, &n));
	ST_EQ(n, 3);
	ST_OK(ckpt_ioc_end(fd));
	ST_OK(ckpt_ioc_begin(fd, st_cg_fd(cg), r2, 0));
	free(st_scan_check(fd, r2, &n));
	ST_EQ(n, 4);
}

/* The root in the middle of a tree: its subtree, its real parent id. */
static void mid_fn(void *arg)
{
	(void)arg;
	st_report(K_KID, 0, 0, 0);
	st_wl_fork(NULL, NULL);
	st_wl_fork(NULL, NULL);
	st_ready();
	st_idle();
}

static void mid_root(void *arg)
{
	(void)arg;
	st_wl_fork(mid_fn, NULL);
	st_wl_fork(NULL, NULL);
	st_ready();
	st_idle();
}

static void scan_root_mid_tree(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t top = st_spawn(cg, mid_root, NULL), mid;
	struct ckpt_task *r;
	uint32_t n;
	int fd;

	(void)state;
	st_wait_ready(5);
	st_freeze(cg);
	mid = st_find_rep(K_KID, 0)->pid;
	fd = st_begin(cg, mid);
	r = st_scan_check(fd, mid, &n);
	ST_EQ(n, 3);
	ST_EQ(r[0].vpid, mid);
	ST_EQ(r[0].ppid, top);
	ST_EQ(r[0].depth, 0);
	free(r);
}

static const struct CMUnitTest tests[] = {
	ST_TEST(scan_chain_v2),
	ST_TEST(scan_chain_v1),
	ST_TEST(scan_fan),
	ST_TEST(scan_threads_v2),
	ST_TEST(scan_threads_v1),
	ST_TEST(scan_zombies),
	ST_TEST(scan_sessions),
	ST_TEST(scan_pidns),
	ST_TEST(scan_nested_cgroups_v2),
	ST_TEST(scan_nested_cgroups_v1),
	ST_TEST(scan_two_trees),
	ST_TEST(scan_root_mid_tree),
};

const struct st_group st_group_scan = { "scan", tests, ARRAY_SIZE(tests) };
