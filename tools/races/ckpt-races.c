// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-races: interleavings a reviewer would worry about, each run many
 * times, each checking the end state.  Runs in the test VM as root with
 * ckpt.ko loaded (tools/races/run-in-vm.sh).
 *
 *   ckpt-races [--iters N] [--seed N] [--only NAME]
 *
 * Tests (N iterations each):
 *   end-close      END on one thread, close of the fd (or of its last other
 *                  dup) on another; v2 and v1 in turn
 *   begin-begin    two BEGINs on the same cgroup from two files: exactly one
 *                  wins, the other gets EBUSY
 *   scan-kill      SCAN while tasks of the (v2-frozen) tree are SIGKILLed
 *   scan-rmdir     SCAN while sibling and child cgroups are made and removed
 *   owner-kill     the session owner SIGKILLed while a scan of a large tree
 *                  copies out
 *   unload-open    delete_module/finit_module of ckpt.ko against open/close
 *                  of /dev/ckpt (last: the module is reloaded); N/5
 *                  iterations, as one load/unload cycle takes ~1 s in TCG
 * After every iteration: the cgroup accepts freezer writes again (v1 reads
 * FROZEN), and a fresh BEGIN/END works.  A test passes if every iteration
 * did.  Last line: "ckpt-races: N passed, N failed" (N = tests).
 */
#include <stdarg.h>
#include "fz-common.h"

static uint64_t seed;
static int iters = 200;
static struct fz_rng rng;
static int test_failed;

static void fail(const char *test, int it, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(const char *test, int it, const char *fmt, ...)
{
	va_list ap;

	if (test_failed++ < 10) {
		printf("ckpt-races: FAIL %s iteration %d (seed %llu): ", test, it,
		       (unsigned long long)seed);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
		fflush(stdout);
	}
}

/* ---- a two-thread start line -------------------------------------------- */

struct race {
	void *(*fn[2])(void *);
	void *arg[2];
	int ready;
	int go;
	uint32_t spin[2];
};

static void race_wait(struct race *r, int i)
{
	__atomic_fetch_add(&r->ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		;
	for (volatile uint32_t k = 0; k < r->spin[i]; k++)
		;
}

struct rthr {
	struct race *r;
	int i;
};

static void *race_thread(void *arg)
{
	struct rthr *t = arg;

	race_wait(t->r, t->i);
	return t->r->fn[t->i](t->r->arg[t->i]);
}

static void race_run(struct race *r, uint32_t maxspin)
{
	pthread_t th[2];
	struct rthr t[2] = { { r, 0 }, { r, 1 } };

	r->ready = 0;
	r->go = 0;
	r->spin[0] = fz_below(&rng, maxspin);
	r->spin[1] = fz_below(&rng, maxspin);
	pthread_create(&th[0], NULL, race_thread, &t[0]);
	pthread_create(&th[1], NULL, race_thread, &t[1]);
	while (__atomic_load_n(&r->ready, __ATOMIC_SEQ_CST) < 2)
		;
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
}

/* ---- fixtures --------------------------------------------------------------- */

struct fixture {
	struct ckpt_cg cg;
	struct fz_tree t;
	int cgfd;
};

static int fixture_make(struct fixture *f, bool v1, const char *name, int nkids,
			int nthreads)
{
	if (fz_cg_make(&f->cg, v1, name) ||
	    fz_tree_spawn(&f->cg, nkids, nthreads, &f->t) ||
	    fz_cg_freeze(&f->cg, 60000))
		return -1;
	f->cgfd = ckpt_cg_open(&f->cg);
	return f->cgfd < 0 ? -1 : 0;
}

static void fixture_free(struct fixture *f)
{
	close(f->cgfd);
	fz_cg_empty(&f->cg, 5000);
	fz_reap();
	ckpt_cg_destroy(&f->cg, 10000);
}

/*
 * The end state after an iteration: no session left.  Freezer writes work,
 * v1 reads FROZEN, and a fresh BEGIN + END works.
 */
static bool end_state_ok(const char *test, int it, struct fixture *f)
{
	char buf[64] = "";
	int fd, r;

	if (f->cg.v1) {
		if (ckpt_cg_read(&f->cg, "freezer.state", buf, sizeof(buf)) < 0 ||
		    strcmp(buf, "FROZEN\n")) {
			fail(test, it, "v1 freezer.state reads %s", buf);
			return false;
		}
		r = ckpt_cg_write(&f->cg, "freezer.state", "FROZEN");
	} else {
		r = ckpt_cg_write(&f->cg, "cgroup.freeze", "1");
	}
	if (r) {
		fail(test, it, "freezer write after the session: %s",
		     fz_errname(errno));
		return false;
	}
	fd = ckpt_dev_open();
	if (ckpt_ioc_begin(fd, f->cgfd, f->t.root, 0)) {
		fail(test, it, "fresh BEGIN: %s", fz_errname(errno));
		close(fd);
		return false;
	}
	if (ckpt_ioc_end(fd)) {
		fail(test, it, "fresh END: %s", fz_errname(errno));
		close(fd);
		return false;
	}
	close(fd);
	return true;
}

/* ---- end-close ------------------------------------------------------------------ */

struct ec {
	int fd, closefd;
	int end_ret, end_err;
};

static void *ec_end(void *arg)
{
	struct ec *e = arg;

	e->end_ret = ckpt_ioc_end(e->fd);
	e->end_err = errno;
	return NULL;
}

static void *ec_close(void *arg)
{
	struct ec *e = arg;

	close(e->closefd);
	return NULL;
}

static int t_end_close(void)
{
	struct fixture f[2];
	struct race r;
	int it, ok = 0, ends = 0;

	if (fixture_make(&f[0], false, "ckpt-race-ec2", 2, 1) ||
	    fixture_make(&f[1], true, "ckpt-race-ec1", 2, 1)) {
		fail("end-close", 0, "setup: %s", fz_errname(errno));
		return -1;
	}
	for (it = 0; it < iters; it++) {
		struct fixture *x = &f[it & 1];
		struct ec e = { .fd = ckpt_dev_open() };
		bool dup = fz_one_in(&rng, 2);

		if (ckpt_ioc_begin(e.fd, x->cgfd, x->t.root, 0)) {
			fail("end-close", it, "BEGIN: %s", fz_errname(errno));
			close(e.fd);
			continue;
		}
		e.closefd = dup ? fcntl(e.fd, F_DUPFD_CLOEXEC, 3) : e.fd;
		r.fn[0] = ec_end;
		r.fn[1] = ec_close;
		r.arg[0] = r.arg[1] = &e;
		race_run(&r, 20000);
		if (dup) {
			if (e.end_ret) {
				fail("end-close", it, "END with a dup open: %s",
				     fz_errname(e.end_err));
				close(e.fd);
				continue;
			}
			close(e.fd);
		} else if (e.end_ret && e.end_err != EBADF) {
			fail("end-close", it, "END racing close: %s",
			     fz_errname(e.end_err));
			continue;
		}
		ends += e.end_ret == 0;
		if (end_state_ok("end-close", it, x))
			ok++;
	}
	printf("ckpt-races: end-close: %d iterations, %d ENDs won, %d clean\n",
	       iters, ends, ok);
	fixture_free(&f[0]);
	fixture_free(&f[1]);
	return ok == iters ? 0 : -1;
}

/* ---- begin-begin ---------------------------------------------------------------- */

struct bb {
	int fd;
	struct fixture *f;
	int ret, err;
};

static void *bb_begin(void *arg)
{
	struct bb *b = arg;

	b->ret = ckpt_ioc_begin(b->fd, b->f->cgfd, b->f->t.root, 0);
	b->err = errno;
	return NULL;
}

static int t_begin_begin(void)
{
	struct fixture f[2];
	struct race r;
	int it, ok = 0, first = 0;

	if (fixture_make(&f[0], false, "ckpt-race-bb2", 2, 0) ||
	    fixture_make(&f[1], true, "ckpt-race-bb1", 2, 0)) {
		fail("begin-begin", 0, "setup: %s", fz_errname(errno));
		return -1;
	}
	for (it = 0; it < iters; it++) {
		struct fixture *x = &f[it & 1];
		struct bb b[2] = { { ckpt_dev_open(), x, 0, 0 },
				   { ckpt_dev_open(), x, 0, 0 } };

		r.fn[0] = r.fn[1] = bb_begin;
		r.arg[0] = &b[0];
		r.arg[1] = &b[1];
		race_run(&r, 2000);
		int wins = (b[0].ret == 0) + (b[1].ret == 0);
		int loser = b[0].ret ? 0 : 1;

		if (wins != 1 || b[loser].err != EBUSY)
			fail("begin-begin", it, "results %d/%s and %d/%s",
			     b[0].ret, fz_errname(b[0].ret ? b[0].err : 0),
			     b[1].ret, fz_errname(b[1].ret ? b[1].err : 0));
		else
			first += b[0].ret == 0;
		close(b[0].fd);
		close(b[1].fd);
		if (wins == 1 && b[loser].err == EBUSY &&
		    end_state_ok("begin-begin", it, x))
			ok++;
	}
	printf("ckpt-races: begin-begin: %d iterations, thread 0 won %d, %d clean\n",
	       iters, first, ok);
	fixture_free(&f[0]);
	fixture_free(&f[1]);
	return ok == iters ? 0 : -1;
}

/* ---- scan-kill -------------------------------------------------------------------- */

struct sk {
	struct fz_tree *t;
	pid_t killed[70];
	int nkilled;
	uint32_t delay_us;
	bool kill_root;
};

static void *sk_killer(void *arg)
{
	struct sk *s = arg;

	if (s->delay_us)
		usleep(s->delay_us);
	for (int i = 0; i < s->t->nkids; i++)
		if ((i & 1) || s->kill_root) {
			s->killed[s->nkilled++] = s->t->kids[i];
			kill(s->t->kids[i], SIGKILL);
		}
	if (s->kill_root) {
		s->killed[s->nkilled++] = s->t->root;
		kill(s->t->root, SIGKILL);
	}
	return NULL;
}

struct sk_scan {
	int fd;
	int n, okc, dead, unstable, tolerated, bad;
	struct sk *s;
	char why[200];
};

static bool sk_was_killed(struct sk *s, pid_t p)
{
	for (int i = 0; i < s->nkilled; i++)
		if (s->killed[i] == p)
			return true;
	return false;
}

static void *sk_scanner(void *arg)
{
	struct sk_scan *c = arg;

	for (int i = 0; i < 6; i++) {
		struct ckpt_task *recs = NULL;
		struct ckpt_scan s;
		uint32_t n = 0;
		int r = ckpt_scan_all(c->fd, &recs, &n, &s), e = errno;

		c->n++;
		if (r == 0) {
			if (n < 1 || !(recs[0].flags & CKPT_TASK_ROOT)) {
				c->bad++;
				snprintf(c->why, sizeof(c->why), "scan ok but %u records, first flags %#x",
					 n, n ? recs[0].flags : 0);
			} else {
				c->okc++;
			}
		} else if (e == EAGAIN && s.err_reason == CKPT_SCAN_ERR_DEAD) {
			c->dead++;
		} else if (e == EAGAIN && s.err_reason == CKPT_SCAN_ERR_UNSTABLE) {
			c->unstable++;
		} else if ((e == EBUSY || e == EXDEV) && sk_was_killed(c->s, s.err_pid)) {
			/*
			 * A task we SIGKILLed, caught between leaving the
			 * freezer and PF_EXITING: abi.md promises EAGAIN/DEAD
			 * for it, and the module checks for the pending kill.
			 */
			c->tolerated++;
			c->bad++;
			snprintf(c->why, sizeof(c->why), "%s/%s for killed pid %u",
				 fz_errname(e), ckpt_scan_err_name(s.err_reason), s.err_pid);
		} else {
			struct ckpt_proc_stat st = { .state = '?' };
			pid_t p = s.err_pid;
			const char *who = p == c->s->t->root ? "root" :
					  p == c->s->t->thread ? "root's thread" : "a child";

			ckpt_proc_stat(p, 0, &st);
			c->bad++;
			snprintf(c->why, sizeof(c->why),
				 "scan %d: %s reason %s err_pid %u (%s, %s, state now %c)",
				 i, fz_errname(e), ckpt_scan_err_name(s.err_reason), p, who,
				 sk_was_killed(c->s, p) ? "SIGKILLed" : "not killed",
				 st.state);
		}
		free(recs);
	}
	return NULL;
}

static int t_scan_kill(void)
{
	struct ckpt_cg cg;
	struct race r;
	int it, ok = 0, cgfd;
	long scans = 0, okc = 0, dead = 0, unst = 0, tol = 0;
	char tolwhy[200] = "";

	if (fz_cg_make(&cg, false, "ckpt-race-sk")) {
		fail("scan-kill", 0, "setup: %s", fz_errname(errno));
		return -1;
	}
	cgfd = ckpt_cg_open(&cg);
	for (it = 0; it < iters; it++) {
		struct fz_tree t;
		struct sk s = { .t = &t };
		struct sk_scan c = { .s = &s };

		if (fz_tree_spawn(&cg, 8, 1, &t) || fz_cg_freeze(&cg, 60000)) {
			fail("scan-kill", it, "spawn/freeze: %s", fz_errname(errno));
			break;
		}
		s.delay_us = fz_below(&rng, 3) ? fz_below(&rng, 3000) : 0;
		s.kill_root = fz_one_in(&rng, 5);
		c.fd = ckpt_dev_open();
		if (ckpt_ioc_begin(c.fd, cgfd, t.root, 0)) {
			fail("scan-kill", it, "BEGIN: %s", fz_errname(errno));
			close(c.fd);
		} else {
			r.fn[0] = sk_scanner;
			r.arg[0] = &c;
			r.fn[1] = sk_killer;
			r.arg[1] = &s;
			race_run(&r, 5000);
			int er = ckpt_ioc_end(c.fd);

			if (er)
				fail("scan-kill", it, "END: %s", fz_errname(errno));
			close(c.fd);
			scans += c.n;
			okc += c.okc;
			dead += c.dead;
			unst += c.unstable;
			tol += c.tolerated;
			if (c.tolerated)
				memcpy(tolwhy, c.why, sizeof(tolwhy));
			if (c.bad)
				fail("scan-kill", it, "%s", c.why);
			/* After the session: the cgroup takes freezer writes. */
			if (ckpt_cg_write(&cg, "cgroup.freeze", "1"))
				fail("scan-kill", it, "cgroup.freeze after END: %s",
				     fz_errname(errno));
			else if (!c.bad && !er)
				ok++;
		}
		fz_cg_empty(&cg, 5000);
		fz_reap();
		if (fz_cg_thaw(&cg, 5000))
			fail("scan-kill", it, "thaw: %s", fz_errname(errno));
	}
	printf("ckpt-races: scan-kill: %d iterations, %ld scans: %ld ok, %ld EAGAIN/DEAD, "
	       "%ld EAGAIN/UNSTABLE, %ld EBUSY/EXDEV naming a SIGKILLed task (abi.md: EAGAIN/DEAD)%s%s\n",
	       iters, scans, okc, dead, unst, tol, tol ? " e.g. " : "", tolwhy);
	close(cgfd);
	fz_reap();
	ckpt_cg_destroy(&cg, 10000);
	return ok == iters ? 0 : -1;
}

/* ---- scan-rmdir ------------------------------------------------------------------ */

struct sr {
	struct ckpt_cg parent, child;
	int stop;
	long cycles, errs;
	int last_err;
};

static void *sr_churn(void *arg)
{
	struct sr *s = arg;
	char a[PATH_MAX], b[PATH_MAX];
	long i = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		snprintf(a, sizeof(a), "%.4000s/sib%ld", s->parent.path, i % 4);
		snprintf(b, sizeof(b), "%.4000s/sub%ld", s->child.path, i % 4);
		if (mkdir(a, 0755) || rmdir(a)) {
			s->errs++;
			s->last_err = errno;
		}
		if (mkdir(b, 0755) || rmdir(b)) {
			s->errs++;
			s->last_err = errno;
		}
		s->cycles++;
		i++;
	}
	return NULL;
}

struct sr_scan {
	int fd;
	uint32_t expect;
	int bad;
	struct sr *s;
	char why[160];
};

static void *sr_scanner(void *arg)
{
	struct sr_scan *c = arg;

	for (int i = 0; i < 8; i++) {
		struct ckpt_task *recs = NULL;
		struct ckpt_scan s;
		uint32_t n = 0;

		if (ckpt_scan_all(c->fd, &recs, &n, &s) || n != c->expect) {
			c->bad++;
			snprintf(c->why, sizeof(c->why), "scan: %s reason %s, %u records (want %u)",
				 fz_errname(errno), ckpt_scan_err_name(s.err_reason), n,
				 c->expect);
		}
		free(recs);
	}
	__atomic_store_n(&c->s->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int t_scan_rmdir(void)
{
	struct fixture f;
	struct sr s;
	struct race r;
	int it, ok = 0;
	uint32_t expect;

	if (fz_cg_make(&s.parent, false, "ckpt-race-sr") ||
	    ckpt_cg_mkdir(&f.cg, &s.parent, "c") ||
	    fz_tree_spawn(&f.cg, 5, 2, &f.t) || fz_cg_freeze(&f.cg, 60000) ||
	    (f.cgfd = ckpt_cg_open(&f.cg)) < 0) {
		fail("scan-rmdir", 0, "setup: %s", fz_errname(errno));
		return -1;
	}
	s.child = f.cg;
	s.cycles = s.errs = 0;
	expect = 1 + 2 + 5;
	for (it = 0; it < iters; it++) {
		struct sr_scan c = { .fd = ckpt_dev_open(), .expect = expect, .s = &s };

		if (ckpt_ioc_begin(c.fd, f.cgfd, f.t.root, 0)) {
			fail("scan-rmdir", it, "BEGIN: %s", fz_errname(errno));
			close(c.fd);
			continue;
		}
		s.stop = 0;
		r.fn[0] = sr_scanner;
		r.arg[0] = &c;
		r.fn[1] = sr_churn;
		r.arg[1] = &s;
		race_run(&r, 2000);
		if (c.bad)
			fail("scan-rmdir", it, "%s", c.why);
		if (ckpt_ioc_end(c.fd))
			fail("scan-rmdir", it, "END: %s", fz_errname(errno));
		close(c.fd);
		if (!c.bad && end_state_ok("scan-rmdir", it, &f))
			ok++;
	}
	printf("ckpt-races: scan-rmdir: %d iterations, %ld mkdir/rmdir cycles, %ld errors%s%s\n",
	       iters, s.cycles, s.errs, s.errs ? ", last " : "",
	       s.errs ? fz_errname(s.last_err) : "");
	if (s.errs)
		fail("scan-rmdir", it, "%ld mkdir/rmdir failures (last %s)", s.errs,
		     fz_errname(s.last_err));
	fixture_free(&f);
	ckpt_cg_destroy(&s.parent, 10000);
	return ok == iters && !s.errs ? 0 : -1;
}

/* ---- owner-kill -------------------------------------------------------------------- */

static int t_owner_kill(void)
{
	struct fixture f;
	int it, ok = 0, nthreads = 1000, nkids = 20;
	int *began = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long total_scans = 0;
	uint32_t tasks = 0;

	if (began == MAP_FAILED ||
	    fixture_make(&f, false, "ckpt-race-ok", nkids, nthreads)) {
		fail("owner-kill", 0, "setup: %s", fz_errname(errno));
		return -1;
	}
	{	/* how big is it? */
		int fd = ckpt_dev_open();
		struct ckpt_task *recs;

		if (ckpt_ioc_begin(fd, f.cgfd, f.t.root, 0) ||
		    ckpt_scan_all(fd, &recs, &tasks, NULL)) {
			fail("owner-kill", 0, "first scan: %s", fz_errname(errno));
			close(fd);
			fixture_free(&f);
			return -1;
		}
		free(recs);
		close(fd);
	}
	for (it = 0; it < iters; it++) {
		uint32_t delay = fz_below(&rng, 4000);
		pid_t pid;

		began[0] = 0;
		began[1] = 0;
		pid = fork();
		if (pid == 0) {
			int fd = ckpt_dev_open();
			size_t len = (size_t)(tasks + 64) * sizeof(struct ckpt_task);

			if (ckpt_ioc_begin(fd, f.cgfd, f.t.root, 0))
				_exit(3);
			__atomic_store_n(&began[0], 1, __ATOMIC_RELEASE);
			for (;;) {	/* fresh pages: copy-out faults them in */
				void *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

				ckpt_ioc_scan(fd, m, tasks + 64, NULL);
				__atomic_fetch_add(&began[1], 1, __ATOMIC_RELAXED);
				munmap(m, len);
			}
		}
		while (!__atomic_load_n(&began[0], __ATOMIC_ACQUIRE)) {
			int st;

			if (waitpid(pid, &st, WNOHANG) == pid) {
				fail("owner-kill", it, "owner's BEGIN failed (exit %d)",
				     WEXITSTATUS(st));
				pid = 0;
				break;
			}
		}
		if (!pid)
			continue;
		usleep(delay);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		total_scans += began[1];
		if (end_state_ok("owner-kill", it, &f))
			ok++;
	}
	printf("ckpt-races: owner-kill: %d iterations, tree of %u tasks, %ld scans done before the kills\n",
	       iters, tasks, total_scans);
	fixture_free(&f);
	munmap(began, 4096);
	return ok == iters ? 0 : -1;
}

/* ---- unload-open ------------------------------------------------------------------ */

struct uo {
	int stop;
	long opens, fails, bad;
	int bad_err;
};

static void *uo_opener(void *arg)
{
	struct uo *u = arg;

	while (!__atomic_load_n(&u->stop, __ATOMIC_ACQUIRE)) {
		int fd = ckpt_dev_open();
		struct ckpt_info in;

		if (fd < 0) {
			if (errno != ENOENT && errno != ENXIO && errno != ENODEV) {
				u->bad++;
				u->bad_err = errno;
			}
			u->fails++;
			usleep(20);
			continue;
		}
		u->opens++;
		if (ckpt_ioc_info(fd, &in) || in.abi_version != CKPT_ABI_VERSION) {
			u->bad++;
			u->bad_err = errno;
		}
		close(fd);
	}
	return NULL;
}

static int t_unload_open(void)
{
	struct uo u = { 0 };
	pthread_t th;
	const char *ko = fz_ko_path();
	int it, unloads = 0, loads = 0, bad = 0;
	struct fixture f;

	if (!ko || access(ko, R_OK)) {
		fail("unload-open", 0, "no module file %s (set CKPT_KO)", ko ? ko : "?");
		return -1;
	}
	pthread_create(&th, NULL, uo_opener, &u);
	/* A load/unload cycle costs about a second under TCG: iters / 5. */
	for (it = 0; it < (iters + 4) / 5; it++) {
		int r = fz_delete_module(), e = errno;

		if (r == 0)
			unloads++;
		else if (e != EWOULDBLOCK && e != EBUSY && e != ENOENT) {
			fail("unload-open", it, "delete_module: %s", fz_errname(e));
			bad++;
		}
		if (access("/sys/module/ckpt", F_OK)) {
			r = fz_load_module(ko);
			e = errno;
			if (r == 0)
				loads++;
			else if (e != EEXIST && e != EBUSY) {
				fail("unload-open", it, "finit_module: %s", fz_errname(e));
				bad++;
			}
		}
		usleep(fz_below(&rng, 500));
	}
	__atomic_store_n(&u.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	if (access("/sys/module/ckpt/initstate", F_OK) && fz_load_module(ko)) {
		fail("unload-open", it, "final load: %s", fz_errname(errno));
		bad++;
	}
	if (u.bad) {
		fail("unload-open", it, "%ld bad open/INFO results (last %s)", u.bad,
		     fz_errname(u.bad_err));
		bad++;
	}
	/* The module works: a whole session. */
	if (fixture_make(&f, false, "ckpt-race-uo", 1, 0)) {
		fail("unload-open", it, "setup: %s", fz_errname(errno));
		bad++;
	} else {
		if (!end_state_ok("unload-open", it, &f))
			bad++;
		fixture_free(&f);
	}
	printf("ckpt-races: unload-open: %d iterations, %d unloads, %d loads, %ld opens, %ld failed opens\n",
	       (iters + 4) / 5, unloads, loads, u.opens, u.fails);
	return bad ? -1 : 0;
}

/* ---- main ------------------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{ "end-close", t_end_close },
	{ "begin-begin", t_begin_begin },
	{ "scan-kill", t_scan_kill },
	{ "scan-rmdir", t_scan_rmdir },
	{ "owner-kill", t_owner_kill },
	{ "unload-open", t_unload_open },	/* last: reloads the module */
};

int main(int argc, char **argv)
{
	const char *only = NULL;
	int passed = 0, failed = 0;
	bool have_seed = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iters") && i + 1 < argc) {
			iters = atoi(argv[++i]);
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 0);
			have_seed = true;
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--iters N] [--seed N] [--only NAME]\n",
				argv[0]);
			return 2;
		}
	}
	if (!have_seed)
		seed = (ckpt_now_ms() ^ ((uint64_t)getpid() << 20)) & 0xffffffffffffULL;
	fz_rng_seed(&rng, seed, 1);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("ckpt-races: seed %llu, %d iterations per test\n",
	       (unsigned long long)seed, iters);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
		uint64_t t0 = ckpt_now_ms();
		int r;

		if (only && strcmp(only, tests[i].name))
			continue;
		test_failed = 0;
		r = tests[i].fn();
		if (r == 0 && !test_failed) {
			passed++;
			printf("ckpt-races: ok %s (%llu ms)\n", tests[i].name,
			       (unsigned long long)(ckpt_now_ms() - t0));
		} else {
			failed++;
			printf("ckpt-races: not ok %s (%d failures, %llu ms)\n",
			       tests[i].name, test_failed,
			       (unsigned long long)(ckpt_now_ms() - t0));
		}
		fz_reap();
	}
	printf("ckpt-races: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
