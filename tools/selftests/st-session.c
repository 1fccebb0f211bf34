// SPDX-License-Identifier: GPL-2.0
/*
 * st-session.c: the session state machine (group "session").
 *
 * BEGIN's preconditions and their errnos, what CHECKPOINTING looks like
 * from userspace (v1: freezer.state reads CHECKPOINTING; v2: a write to
 * cgroup.freeze fails with EBUSY), and every way a session ends: END,
 * close of the last fd, death of the owner.
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include "st.h"

/* The cgroup is held CHECKPOINTING. */
static void expect_checkpointing(const struct ckpt_cg *cg)
{
	char buf[64];

	if (cg->v1) {
		ST_OK(ckpt_cg_read(cg, "freezer.state", buf, sizeof(buf)));
		if (strcmp(buf, "CHECKPOINTING\n"))
			st_fail("%s/freezer.state reads '%s', not CHECKPOINTING",
				cg->path, buf);
		/* Writing FROZEN would change nothing, yet it is refused. */
		ST_ERR(ckpt_cg_write(cg, "freezer.state", "FROZEN"), EBUSY);
	} else {
		ST_ERR(ckpt_cg_write(cg, "cgroup.freeze", "1"), EBUSY);
		ST_EQ(ckpt_cg_is_frozen(cg), 1);
	}
}

/* The cgroup is plain FROZEN again: frozen, and its file writable. */
static void expect_frozen(const struct ckpt_cg *cg)
{
	char buf[64];

	if (cg->v1) {
		ST_OK(ckpt_cg_read(cg, "freezer.state", buf, sizeof(buf)));
		if (strcmp(buf, "FROZEN\n"))
			st_fail("%s/freezer.state reads '%s', not FROZEN",
				cg->path, buf);
		ST_OK(ckpt_cg_write(cg, "freezer.state", "FROZEN"));
	} else {
		ST_OK(ckpt_cg_read(cg, "cgroup.freeze", buf, sizeof(buf)));
		ST_CHECK(!strcmp(buf, "1\n"), "cgroup.freeze reads '%s'", buf);
		ST_EQ(ckpt_cg_is_frozen(cg), 1);
		ST_OK(ckpt_cg_write(cg, "cgroup.freeze", "1"));
	}
}

/* A counter process (counter[0]) in @cg, frozen: the session root. */
static pid_t frozen_counter(const struct ckpt_cg *cg)
{
	pid_t pid = st_spawn(cg, st_wl_counter, (void *)0L);

	st_wait_ready(1);
	st_expect_counter_moves(0);
	st_freeze(cg);
	return pid;
}

/* ---- BEGIN needs a cgroup frozen by itself -------------------------------------- */

static void begin_thawed(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = st_spawn(cg, st_wl_counter, (void *)0L);
	int fd = st_dev(), cgfd = st_cg_fd(cg);

	st_wait_ready(1);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, root, 0), EAGAIN);
	/* Nothing was held: the cgroup can still be frozen and thawed. */
	st_expect_counter_moves(0);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
	st_freeze(cg);
	ST_OK(ckpt_ioc_begin(fd, cgfd, root, 0));
	ST_OK(ckpt_ioc_end(fd));
	st_thaw(cg);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, root, 0), EAGAIN);
	st_expect_counter_moves(0);
}

static void session_begin_thawed_v2(void **state)
{
	(void)state;
	begin_thawed(false);
}

static void session_begin_thawed_v1(void **state)
{
	(void)state;
	begin_thawed(true);
}

/*
 * v1 records FROZEN only when freezer.state is read and every task is
 * frozen: right after writing FROZEN, before any read, BEGIN must refuse.
 */
static void session_begin_v1_frozen_unread(void **state)
{
	struct ckpt_cg *cg = st_cg_new(true, "c");
	pid_t root = st_spawn(cg, st_wl_counter, (void *)0L);
	int fd = st_dev(), cgfd = st_cg_fd(cg);

	(void)state;
	st_wait_ready(1);
	ST_OK(ckpt_cg_write(cg, "freezer.state", "FROZEN"));
	ST_ERR(ckpt_ioc_begin(fd, cgfd, root, 0), EAGAIN);
	st_freeze(cg);		/* reads it back until FROZEN */
	ST_OK(ckpt_ioc_begin(fd, cgfd, root, 0));
	expect_checkpointing(cg);
}

/*
 * A cgroup frozen only because its parent is: not frozen by its own
 * setting, so EAGAIN.  The parent, with the root task in the child, works.
 */
static void begin_parent_frozen(bool v1)
{
	struct ckpt_cg *p = st_cg_new(v1, "p"), *c = st_cg_child(p, "c");
	pid_t root = st_spawn(c, st_wl_counter, (void *)0L);
	int fd = st_dev();

	st_wait_ready(1);
	st_freeze(p);
	ST_EQ(ckpt_cg_is_frozen(c), 1);	/* frozen, by the parent */
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(c), root, 0), EAGAIN);
	ST_OK(ckpt_ioc_begin(fd, st_cg_fd(p), root, 0));
	expect_checkpointing(p);
	free(st_scan_check(fd, root, NULL));
	ST_OK(ckpt_ioc_end(fd));
	expect_frozen(p);
}

static void session_begin_parent_frozen_v2(void **state)
{
	(void)state;
	begin_parent_frozen(false);
}

static void session_begin_parent_frozen_v1(void **state)
{
	(void)state;
	begin_parent_frozen(true);
}

/*
 * v2 sets "frozen 1" on a cgroup as soon as its own tasks are frozen, while
 * tasks in a descendant may still be on their way to the freezer (see
 * cgroup_update_frozen() in kernel/cgroup/freezer.c: it looks at the
 * cgroup's own tasks only).  BEGIN must not take such a cgroup: it must say
 * EAGAIN until every task is frozen.
 *
 * The window is made wide on purpose: the tasks in c/sub are pinned to CPU
 * 1, where a SCHED_FIFO busy loop (outside the cgroups, bounded to 2 s, and
 * cut short by RT throttling anyway) keeps them from running, so they cannot
 * reach the freezer; the root in c, on CPU 0, freezes at once.
 */
#define DESC_KIDS	8
#define DESC_ROUNDS	3

static void desc_root(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < DESC_KIDS; i++)
		st_report(1, (int)i, st_wl_fork(NULL, NULL), 0);
	st_ready();
	st_idle();
}

static void pin(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ST_OK(sched_setaffinity(pid, sizeof(set), &set));
}

static void hog_fn(void *arg)
{
	struct sched_param sp = { .sched_priority = 10 };
	uint64_t end = ckpt_now_ms() + 2000;
	cpu_set_t set;

	(void)arg;
	CPU_ZERO(&set);
	CPU_SET(1, &set);
	WL_CHECK(!sched_setaffinity(0, sizeof(set), &set));
	WL_CHECK(!sched_setscheduler(0, SCHED_FIFO, &sp));
	__atomic_store_n(&st_shm->flag, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&st_shm->flag, __ATOMIC_SEQ_CST) == 1 &&
	       ckpt_now_ms() < end)
		;
	_exit(0);
}

static void session_begin_descendants_frozen_v2(void **state)
{
	struct ckpt_cg *c = st_cg_new(false, "c"), *sub = st_cg_child(c, "sub");
	pid_t root = st_spawn(c, desc_root, NULL), hog;
	int fd = st_dev(), cgfd = st_cg_fd(c), round, i, window = 0, eagain;
	cpu_set_t saved;
	struct ckpt_task *recs;
	struct ckpt_scan s;
	uint64_t deadline;
	uint32_t n;

	(void)state;
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		st_fail("needs 2 CPUs to set up the race");
	ST_OK(sched_getaffinity(0, sizeof(saved), &saved));
	st_wait_ready(DESC_KIDS + 1);
	pin(0, 0);
	pin(root, 0);
	for (i = 0; i < DESC_KIDS; i++) {
		ST_OK(ckpt_cg_attach(sub, st_find_rep(1, i)->aux));
		pin(st_find_rep(1, i)->aux, 1);
	}
	for (round = 0; round < DESC_ROUNDS; round++) {
		st_shm->flag = 0;
		hog = st_spawn(NULL, hog_fn, NULL);
		while (!__atomic_load_n(&st_shm->flag, __ATOMIC_SEQ_CST))
			ckpt_sleep_ms(1);
		ST_OK(ckpt_cg_write(c, "cgroup.freeze", "1"));
		/* c's own "frozen 1", as a naive user would wait for it */
		ST_OK(ckpt_cg2_wait_frozen(c, true, ST_TIMEOUT_MS));
		if (ckpt_cg_is_frozen(sub) == 0)
			window++;
		eagain = 0;
		deadline = ckpt_now_ms() + ST_TIMEOUT_MS;
		while (ckpt_ioc_begin(fd, cgfd, root, 0)) {
			ST_CHECK(errno == EAGAIN, "BEGIN: %s", st_errname(errno));
			ST_CHECK(ckpt_now_ms() < deadline, "BEGIN: EAGAIN for too long");
			/* Right: now let c/sub freeze. */
			if (!eagain++)
				__atomic_store_n(&st_shm->flag, 2, __ATOMIC_SEQ_CST);
			ckpt_sleep_ms(1);
		}
		/* Taken: every task must be frozen, right now (hog or not). */
		if (ckpt_scan_all(fd, &recs, &n, &s))
			st_fail("round %d: BEGIN took c while c/sub was %s frozen (EAGAIN %d times); SCAN: %s (%s, task %u%s)",
				round, ckpt_cg_is_frozen(sub) ? "already" : "not yet",
				eagain, st_errname(errno),
				ckpt_scan_err_name(s.err_reason), s.err_pid,
				st_in_cgroup((pid_t)s.err_pid, sub) ?
				", in c/sub" : "");
		__atomic_store_n(&st_shm->flag, 2, __ATOMIC_SEQ_CST);
		ST_OK(waitpid(hog, NULL, 0));
		st_diag("round %d: c/sub %s when c read frozen; BEGIN said EAGAIN %d times",
			round, window > round ? "was not frozen" : "was frozen",
			eagain);
		ST_EQ(n, DESC_KIDS + 1);
		free(recs);
		ST_OK(ckpt_ioc_end(fd));
		ST_OK(ckpt_cg_write(c, "cgroup.freeze", "0"));
		ST_OK(ckpt_cg2_wait_frozen(c, false, ST_TIMEOUT_MS));
	}
	ST_OK(sched_setaffinity(0, sizeof(saved), &saved));
	/* The race must have been set up, or this test proved nothing. */
	ST_CHECK(window > 0, "c/sub was always frozen together with c");
}

/* ---- CHECKPOINTING and the ways back to FROZEN ----------------------------------- */

static void checkpointing_end(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = frozen_counter(cg);
	int fd;

	expect_frozen(cg);
	fd = st_begin(cg, root);
	expect_checkpointing(cg);
	st_expect_counter_stuck(0, 200);
	ST_OK(ckpt_ioc_end(fd));
	/* FROZEN again, and END thawed nothing. */
	expect_frozen(cg);
	st_expect_counter_stuck(0, 200);
	/* A new session on the same file and cgroup works. */
	ST_OK(ckpt_ioc_begin(fd, st_cg_fd(cg), root, 0));
	expect_checkpointing(cg);
	ST_OK(ckpt_ioc_end(fd));
	st_thaw(cg);
	st_expect_counter_moves(0);
}

static void session_end_v2(void **state)
{
	(void)state;
	checkpointing_end(false);
}

static void session_end_v1(void **state)
{
	(void)state;
	checkpointing_end(true);
}

static void checkpointing_close(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = frozen_counter(cg);
	int fd = st_begin(cg, root);

	expect_checkpointing(cg);
	st_close(fd);
	expect_frozen(cg);
	st_expect_counter_stuck(0, 200);
	st_thaw(cg);
	st_expect_counter_moves(0);
}

static void session_close_v2(void **state)
{
	(void)state;
	checkpointing_close(false);
}

static void session_close_v1(void **state)
{
	(void)state;
	checkpointing_close(true);
}

/* The session belongs to the open file: it ends with the last fd. */
static void session_close_last_dup(void **state)
{
	struct ckpt_cg *cg = st_cg_new(true, "c");
	pid_t root = frozen_counter(cg);
	int fd = st_begin(cg, root);
	int fd2 = st_track_fd(ST_OK(dup(fd)));
	struct ckpt_task recs[4];

	(void)state;
	st_close(fd);
	expect_checkpointing(cg);
	ST_OK(ckpt_ioc_scan(fd2, recs, 4, NULL));	/* same session */
	st_close(fd2);
	expect_frozen(cg);
}

/* The owner: a child that opens /dev/ckpt itself and begins a session. */
static const struct ckpt_cg *owner_cg;
static pid_t owner_root;

static void owner_fn(void *arg)
{
	int fd = ckpt_dev_open(), cgfd = ckpt_cg_open(owner_cg);

	(void)arg;
	WL_CHECK(fd >= 0 && cgfd >= 0);
	st_shm->res[0].ret = ckpt_ioc_begin(fd, cgfd, owner_root, 0);
	st_shm->res[0].err = errno;
	st_ready();
	st_idle();
}

static void owner_killed(bool v1, int sig)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t owner;
	int status;

	owner_cg = cg;
	owner_root = frozen_counter(cg);
	owner = st_spawn(NULL, owner_fn, NULL);
	st_wait_ready(2);
	ST_EQ(st_shm->res[0].ret, 0);
	expect_checkpointing(cg);
	ST_OK(kill(owner, sig));
	ST_OK(waitpid(owner, &status, 0));
	ST_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig);
	expect_frozen(cg);
	st_expect_counter_stuck(0, 200);
}

static void session_owner_sigkill_v2(void **state)
{
	(void)state;
	owner_killed(false, SIGKILL);
}

static void session_owner_sigkill_v1(void **state)
{
	(void)state;
	owner_killed(true, SIGKILL);
}

static void session_owner_sigterm_v1(void **state)
{
	(void)state;
	owner_killed(true, SIGTERM);
}

/* ---- one session per cgroup subtree, per file ---------------------------------------- */

static void second_session(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = st_simple_tree(cg, 2);
	int fd1 = st_begin(cg, root), fd2 = st_dev(), cgfd = st_cg_fd(cg);

	ST_ERR(ckpt_ioc_begin(fd2, cgfd, root, 0), EBUSY);
	ST_ERR(ckpt_ioc_end(fd2), ENOENT);
	expect_checkpointing(cg);
	ST_OK(ckpt_ioc_end(fd1));
	ST_OK(ckpt_ioc_begin(fd2, cgfd, root, 0));
	ST_ERR(ckpt_ioc_begin(fd1, cgfd, root, 0), EBUSY);
	ST_OK(ckpt_ioc_end(fd2));
}

static void session_second_same_cgroup_v2(void **state)
{
	(void)state;
	second_session(false);
}

static void session_second_same_cgroup_v1(void **state)
{
	(void)state;
	second_session(true);
}

/* Ancestor and descendant cgroups: both frozen by themselves. */
static void nested_sessions(bool v1)
{
	struct ckpt_cg *p = st_cg_new(v1, "p"), *c = st_cg_child(p, "c");
	pid_t rp, rc;
	int fdp = st_dev(), fdc = st_dev();
	int cgp = st_cg_fd(p), cgc = st_cg_fd(c);

	rc = st_spawn(c, st_wl_counter, (void *)1L);
	rp = st_spawn(p, st_wl_counter, (void *)0L);
	st_wait_ready(2);
	st_freeze(c);
	st_freeze(p);

	ST_OK(ckpt_ioc_begin(fdp, cgp, rp, 0));
	ST_ERR(ckpt_ioc_begin(fdc, cgc, rc, 0), EBUSY);
	ST_OK(ckpt_ioc_end(fdp));

	ST_OK(ckpt_ioc_begin(fdc, cgc, rc, 0));
	ST_ERR(ckpt_ioc_begin(fdp, cgp, rp, 0), EBUSY);
	ST_ERR(ckpt_ioc_begin(fdp, cgp, rc, 0), EBUSY);
	expect_checkpointing(c);
	ST_OK(ckpt_ioc_end(fdc));

	ST_OK(ckpt_ioc_begin(fdp, cgp, rp, 0));
	ST_OK(ckpt_ioc_end(fdp));
}

static void session_nested_v2(void **state)
{
	(void)state;
	nested_sessions(false);
}

static void session_nested_v1(void **state)
{
	(void)state;
	nested_sessions(true);
}

/* Unrelated cgroups, on both hierarchies, have sessions side by side. */
static void session_parallel(void **state)
{
	struct ckpt_cg *a = st_cg_new(false, "a"), *b = st_cg_new(false, "b");
	struct ckpt_cg *v = st_cg_new(true, "v");
	pid_t ra = st_simple_tree(a, 1), rb = st_simple_tree(b, 2);
	pid_t rv = st_simple_tree(v, 3);
	int fa = st_begin(a, ra), fb = st_begin(b, rb), fv = st_begin(v, rv);
	uint32_t n;

	(void)state;
	expect_checkpointing(a);
	expect_checkpointing(b);
	expect_checkpointing(v);
	free(st_scan_check(fa, ra, &n));
	ST_EQ(n, 2);
	free(st_scan_check(fb, rb, &n));
	ST_EQ(n, 3);
	free(st_scan_check(fv, rv, &n));
	ST_EQ(n, 4);
	ST_OK(ckpt_ioc_end(fb));
	expect_frozen(b);
	expect_checkpointing(a);
	expect_checkpointing(v);
	free(st_scan_check(fa, ra, &n));
	ST_OK(ckpt_ioc_end(fa));
	ST_OK(ckpt_ioc_end(fv));
	expect_frozen(v);
}

static void session_begin_twice_ealready(void **state)
{
	struct ckpt_cg *a = st_cg_new(false, "a"), *b = st_cg_new(true, "b");
	pid_t ra = st_simple_tree(a, 1), rb = st_simple_tree(b, 1);
	int fd = st_begin(a, ra);

	(void)state;
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(a), ra, 0), EALREADY);
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(b), rb, 0), EALREADY);
	expect_frozen(b);	/* b was not taken */
	expect_checkpointing(a);
	free(st_scan_check(fd, ra, NULL));	/* still a's session */
}

static void session_end_without_session(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 1);
	int fd = st_dev();

	(void)state;
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
	ST_OK(ckpt_ioc_begin(fd, st_cg_fd(cg), root, 0));
	ST_OK(ckpt_ioc_end(fd));
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
}

/* ---- the root task ---------------------------------------------------------------- */

static void session_begin_pidfd(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	struct ckpt_cg *out = st_cg_new(false, "out");
	pid_t root = st_simple_tree(cg, 3), other, dead;
	int fd = st_dev(), cgfd = st_cg_fd(cg), pidfd, ofd, dfd;
	uint32_t n;

	(void)state;
	other = st_spawn(out, st_wl_idle, NULL);
	dead = st_spawn(out, st_wl_exit, NULL);
	dfd = st_track_fd(ST_OK(ckpt_pidfd_open(dead, 0)));
	ofd = st_track_fd(ST_OK(ckpt_pidfd_open(other, 0)));
	ST_OK(waitpid(dead, NULL, 0));
	pidfd = st_track_fd(ST_OK(ckpt_pidfd_open(root, 0)));

	/* The pidfd is resolved: outside the cgroup, dead. */
	ST_ERR(ckpt_ioc_begin(fd, cgfd, ofd, CKPT_BEGIN_ROOT_PIDFD), EXDEV);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, dfd, CKPT_BEGIN_ROOT_PIDFD), ESRCH);
	ST_OK(ckpt_ioc_begin(fd, cgfd, pidfd, CKPT_BEGIN_ROOT_PIDFD));
	expect_checkpointing(cg);
	free(st_scan_check(fd, root, &n));
	ST_EQ(n, 4);
}

/* BEGIN takes O_PATH fds of cgroup directories too. */
static void begin_opath(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = st_simple_tree(cg, 1);
	int fd = st_dev();
	int cgfd = st_track_fd(ST_OK(open(cg->path, O_PATH | O_DIRECTORY)));

	ST_OK(ckpt_ioc_begin(fd, cgfd, root, 0));
	expect_checkpointing(cg);
}

static void session_begin_opath_v2(void **state)
{
	(void)state;
	begin_opath(false);
}

static void session_begin_opath_v1(void **state)
{
	(void)state;
	begin_opath(true);
}

static void *thread_report(void *arg)
{
	(void)arg;
	st_report(1, 0, 0, 0);
	st_ready();
	st_idle();
}

static void threaded_fn(void *arg)
{
	(void)arg;
	st_wl_thread(thread_report, NULL);
	st_ready();
	st_idle();
}

static void session_root_thread_einval(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t pid = st_spawn(cg, threaded_fn, NULL);
	int fd = st_dev(), cgfd = st_cg_fd(cg);
	pid_t tid;

	(void)state;
	st_wait_ready(2);
	st_freeze(cg);
	tid = st_find_rep(1, 0)->tid;
	ST_CHECK(tid != pid);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, tid, 0), EINVAL);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
	ST_OK(ckpt_ioc_begin(fd, cgfd, pid, 0));
}

static void session_root_outside_exdev(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	struct ckpt_cg *out = st_cg_new(false, "out");
	struct ckpt_cg *cg1 = st_cg_new(true, "c");
	pid_t root = st_simple_tree(cg, 1);
	pid_t other = st_spawn(out, st_wl_idle, NULL);
	pid_t root1 = st_simple_tree(cg1, 1);
	int fd = st_dev();

	(void)state;
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(cg), other, 0), EXDEV);
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(cg), getpid(), 0), EXDEV);
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(cg), 1, 0), EXDEV);
	/* In a frozen cgroup, but of the other hierarchy. */
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(cg), root1, 0), EXDEV);
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(cg1), root, 0), EXDEV);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
	/* A failed BEGIN leaves nothing behind. */
	expect_frozen(cg);
	expect_frozen(cg1);
}

static void session_root_zombie_esrch(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t z = st_spawn(cg, st_wl_exit, NULL);
	int fd = st_dev();

	(void)state;
	st_wait_state(z, 0, 'Z');
	st_freeze(cg);
	ST_ERR(ckpt_ioc_begin(fd, st_cg_fd(cg), z, 0), ESRCH);
}

/* ---- the cgroup -------------------------------------------------------------------------- */

static void removed_cgroup(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "gone");
	int fd = st_dev(), cgfd = st_cg_fd(cg);

	ST_OK(rmdir(cg->path));
	ST_ERR(ckpt_ioc_begin(fd, cgfd, getpid(), 0), ENOENT);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
}

static void session_removed_cgroup_v2(void **state)
{
	(void)state;
	removed_cgroup(false);
}

static void session_removed_cgroup_v1(void **state)
{
	(void)state;
	removed_cgroup(true);
}

/* A v1 hierarchy without the freezer controller (a named one). */
static void session_v1_no_freezer(void **state)
{
	char dir[64], name[64];
	int fd = st_dev(), cgfd;

	(void)state;
	snprintf(dir, sizeof(dir), "/run/ckpt-st-named.%d", getpid());
	snprintf(name, sizeof(name), "none,name=ckptst%d", getpid());
	ST_OK(mkdir(dir, 0755));
	if (mount("none", dir, "cgroup", 0, name)) {
		int err = errno;

		rmdir(dir);
		st_fail("mount -t cgroup -o %s: %s", name, st_errname(err));
	}
	st_track_mount(dir);
	cgfd = st_track_fd(ST_OK(open(dir, O_RDONLY | O_DIRECTORY)));
	ST_ERR(ckpt_ioc_begin(fd, cgfd, getpid(), 0), EOPNOTSUPP);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
}

/* ---- privileges ------------------------------------------------------------------------ */

struct priv_case {
	uid_t uid;
	int caps[2];
	int ncaps;
	int fd, cgfd;
	pid_t root;
};

static int priv_begin(void *arg)
{
	struct priv_case *pc = arg;
	struct ckpt_task recs[16];
	int ret;

	if (st_drop_privs(pc->uid, pc->uid, pc->caps, pc->ncaps))
		return 100;
	ret = ckpt_ioc_begin(pc->fd, pc->cgfd, pc->root, 0);
	st_shm->res[0].ret = ret;
	st_shm->res[0].err = errno;
	if (ret == 0) {
		st_shm->res[1].ret = ckpt_ioc_scan(pc->fd, recs, 16,
						   &st_shm->res[1].scan);
		st_shm->res[1].err = errno;
		ckpt_ioc_end(pc->fd);
	}
	return 0;
}

static void run_priv(struct priv_case *pc, int want_err)
{
	memset(st_shm->res, 0, sizeof(st_shm->res));
	ST_EQ(st_run_child(priv_begin, pc), 0);
	if (want_err) {
		if (st_shm->res[0].ret != -1 || st_shm->res[0].err != want_err)
			st_fail("BEGIN as uid %d with %d caps: expected %s, got %d/%s",
				pc->uid, pc->ncaps, st_errname(want_err),
				st_shm->res[0].ret,
				st_errname(st_shm->res[0].err));
	} else {
		if (st_shm->res[0].ret != 0)
			st_fail("BEGIN as uid %d with %d caps: %s", pc->uid,
				pc->ncaps, st_errname(st_shm->res[0].err));
		ST_EQ(st_shm->res[1].ret, 0);
	}
}

/* A root task (and child) owned by nobody, traceable by nobody. */
static void nobody_kid(void *arg)
{
	(void)arg;
	WL_CHECK(!prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0));
	st_ready();
	st_idle();
}

static void nobody_root(void *arg)
{
	(void)arg;
	WL_CHECK(!setgroups(0, NULL) && !setresgid(65534, 65534, 65534) &&
		 !setresuid(65534, 65534, 65534));
	WL_CHECK(!prctl(PR_SET_DUMPABLE, 1, 0, 0, 0));
	WL_CHECK(!prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0));
	st_wl_fork(nobody_kid, NULL);
	st_ready();
	st_idle();
}

static void session_begin_unprivileged(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	struct ckpt_cg *cgn = st_cg_new(false, "n");
	pid_t root = st_simple_tree(cg, 1), nroot;
	struct priv_case pc = { .fd = st_dev(), .cgfd = st_cg_fd(cg),
				.root = root };

	(void)state;
	nroot = st_spawn(cgn, nobody_root, NULL);
	st_wait_ready(2 + 2);
	st_freeze(cgn);

	/* No capability at all: EPERM, as nobody and as root. */
	pc.uid = 65534;
	run_priv(&pc, EPERM);
	pc.uid = 0;
	run_priv(&pc, EPERM);
	/* Capable, but may not ptrace root's tasks: EPERM. */
	pc.uid = 65534;
	pc.caps[0] = CAP_CHECKPOINT_RESTORE;
	pc.ncaps = 1;
	run_priv(&pc, EPERM);
	expect_frozen(cg);

	/* nobody's own tasks: the capability is what decides. */
	pc.cgfd = st_cg_fd(cgn);
	pc.root = nroot;
	pc.ncaps = 0;
	run_priv(&pc, EPERM);
	pc.caps[0] = CAP_CHECKPOINT_RESTORE;
	pc.ncaps = 1;
	run_priv(&pc, 0);
	ST_EQ(st_shm->res[1].scan.count, 2);
	pc.caps[0] = CAP_SYS_ADMIN;
	run_priv(&pc, 0);
	ST_EQ(st_shm->res[1].scan.count, 2);
	/* Some other capability does not do. */
	pc.caps[0] = CAP_SYS_PTRACE;
	run_priv(&pc, EPERM);
	expect_frozen(cgn);
}

static const struct CMUnitTest tests[] = {
	ST_TEST(session_begin_thawed_v2),
	ST_TEST(session_begin_thawed_v1),
	ST_TEST(session_begin_v1_frozen_unread),
	ST_TEST(session_begin_parent_frozen_v2),
	ST_TEST(session_begin_parent_frozen_v1),
	ST_TEST(session_begin_descendants_frozen_v2),
	ST_TEST(session_end_v2),
	ST_TEST(session_end_v1),
	ST_TEST(session_close_v2),
	ST_TEST(session_close_v1),
	ST_TEST(session_close_last_dup),
	ST_TEST(session_owner_sigkill_v2),
	ST_TEST(session_owner_sigkill_v1),
	ST_TEST(session_owner_sigterm_v1),
	ST_TEST(session_second_same_cgroup_v2),
	ST_TEST(session_second_same_cgroup_v1),
	ST_TEST(session_nested_v2),
	ST_TEST(session_nested_v1),
	ST_TEST(session_parallel),
	ST_TEST(session_begin_twice_ealready),
	ST_TEST(session_end_without_session),
	ST_TEST(session_begin_pidfd),
	ST_TEST(session_begin_opath_v2),
	ST_TEST(session_begin_opath_v1),
	ST_TEST(session_root_thread_einval),
	ST_TEST(session_root_outside_exdev),
	ST_TEST(session_root_zombie_esrch),
	ST_TEST(session_removed_cgroup_v2),
	ST_TEST(session_removed_cgroup_v1),
	ST_TEST(session_v1_no_freezer),
	ST_TEST(session_begin_unprivileged),
};

const struct st_group st_group_session = { "session", tests, ARRAY_SIZE(tests) };
