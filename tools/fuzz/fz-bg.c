// SPDX-License-Identifier: GPL-2.0
/*
 * fz-bg.c: what runs beside ckpt-fuzz's workers: session children (forked
 * workers on their own /dev/ckpt files, SIGKILLed at random moments), the
 * killer (SIGKILLs tasks of the frozen v2 tree k and respawns it), the
 * freezer writer (freezer.state, cgroup.freeze, cgroup.procs) and the reaper.
 */
#include "fz-internal.h"

/* Held by the killer while it respawns k: k must stay thawed meanwhile. */
static pthread_mutex_t k_respawn = PTHREAD_MUTEX_INITIALIZER;

/* ---- session children --------------------------------------------------- */

static pid_t spawn_session_child(int id)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	pthread_mutex_init(&tk_lock, NULL);	/* may have been held at fork */
	/* Own /dev/ckpt files: the inherited slots are shared with the parent. */
	for (int i = 0; i < NSLOT; i++) {
		int nfd = ckpt_dev_open();

		if (nfd >= 0) {
			dup3(nfd, slots[i], O_CLOEXEC);
			close(nfd);
		}
	}
	struct worker w;

	worker_setup(&w, 1000 + id);
	for (;;) {
		if (__atomic_load_n(&sh->stop, __ATOMIC_RELAXED))
			_exit(0);
		one_op(&w);
	}
}

void *procs_main(void *arg)
{
	struct fz_rng r;
	pid_t kids[16];
	int n = nprocs > 16 ? 16 : nprocs, gen = 0, i;

	(void)arg;
	fz_rng_seed(&r, seed, 500);
	for (i = 0; i < n; i++)
		kids[i] = spawn_session_child(gen++);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&sh->calls, __ATOMIC_RELAXED) < max_calls) {
		ckpt_sleep_ms(1 + fz_below(&r, 40));
		i = fz_below(&r, n);
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
		kids[i] = spawn_session_child(gen++);
	}
	for (i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	out("ckpt-fuzz: %d session children SIGKILLed at random moments\n", gen);
	return NULL;
}

/* ---- background: killer, freezer writer, reaper ---------------------------- */

static int respawn_k(void)
{
	struct fz_tree t;
	int r = -1;

	pthread_mutex_lock(&k_respawn);
	fz_cg_empty(&cg_k, 5000);
	if (fz_cg_thaw(&cg_k, 200))
		goto out;	/* a session holds k: later */
	if (fz_tree_spawn(&cg_k, 6, 1, &t))
		goto out;
	pthread_mutex_lock(&tk_lock);
	tk = t;
	pthread_mutex_unlock(&tk_lock);
	r = fz_cg_freeze(&cg_k, 20000);
out:
	pthread_mutex_unlock(&k_respawn);
	return r;
}

void *killer_main(void *arg)
{
	struct fz_rng r;
	int killed = 0, respawns = 0, kills = 0, respawn_retries = 0;

	(void)arg;
	fz_rng_seed(&r, seed, 600);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&sh->calls, __ATOMIC_RELAXED) < max_calls) {
		ckpt_sleep_ms(2 + fz_below(&r, 10));
		pthread_mutex_lock(&tk_lock);
		pid_t victim = fz_one_in(&r, 12) ? tk.root :
			       tk.kids[fz_below(&r, tk.nkids ? tk.nkids : 1)];
		pthread_mutex_unlock(&tk_lock);
		if (victim > 0 && kill(victim, SIGKILL) == 0) {
			kills++;
			killed++;
		}
		if (killed >= 5) {
			if (respawn_k() == 0) {
				respawns++;
				killed = 0;
			} else if (errno != EBUSY && errno != ETIMEDOUT &&
				   errno != EIO) {
				/*
				 * EBUSY/ETIMEDOUT: a session holds the cgroup.
				 * EIO: the new root was frozen (by the writer
				 * thread) before it could fork, or a session
				 * began and refused the move.  Both are this
				 * program's own concurrency: try again later.
				 */
				check(false, "respawn the v2 kill tree: %s",
				      fz_errname(errno));
			} else {
				respawn_retries++;
			}
		}
	}
	out("ckpt-fuzz: killer: %d SIGKILLs of frozen tasks, %d tree respawns (%d deferred)\n",
	    kills, respawns, respawn_retries);
	return NULL;
}

/*
 * Thaws @cg by writing @thawed to @file, then freezes it again, which must
 * get through (a session's guard refuses the thaw, never a later freeze).
 * Returns the thaw write's result, with its errno.
 */
static int thaw_refreeze(const struct ckpt_cg *cg, const char *file, const char *thawed,
			 const char *name)
{
	int ret = ckpt_cg_write(cg, file, thawed), e = errno;

	if (!ret)
		check(fz_cg_freeze(cg, 20000) == 0, "refreeze %s: %s", name, fz_errname(errno));
	errno = e;
	return ret;
}

void *writer_main(void *arg)
{
	struct fz_rng r;
	int writes = 0, busy = 0, ret, e;
	char num[24];

	(void)arg;
	fz_rng_seed(&r, seed, 700);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&sh->calls, __ATOMIC_RELAXED) < max_calls) {
		ckpt_sleep_ms(1 + fz_below(&r, 3));
		switch (fz_below(&r, 8)) {
		case 0:
			ret = ckpt_cg_write(&cg_a, "cgroup.freeze", "1");
			break;
		case 1:
			ret = ckpt_cg_write(&cg_f, "freezer.state", "FROZEN");
			break;
		case 2:
			pthread_mutex_lock(&k_respawn);
			ret = ckpt_cg_write(&cg_k, "cgroup.freeze", "1");
			pthread_mutex_unlock(&k_respawn);
			break;
		case 3:	/* thaw, then freeze again (must get through) */
			ret = thaw_refreeze(&cg_a, "cgroup.freeze", "0", "a");
			break;
		case 4:
			ret = thaw_refreeze(&cg_f, "freezer.state", "THAWED", "f");
			break;
		case 5:	/* a task of a into a itself */
			snprintf(num, sizeof(num), "%d", ta.kids[1]);
			ret = ckpt_cg_write(&cg_a, "cgroup.procs", num);
			break;
		case 6:	/* a task of a out to t and back */
			snprintf(num, sizeof(num), "%d", ta.kids[2]);
			ret = ckpt_cg_write(&cg_t, "cgroup.procs", num);
			e = errno;
			if (!ret && fz_cg_write_retry(&cg_a, "cgroup.procs", num,
						      2000) && errno != EBUSY)
				check(false, "move back into a: %s",
				      fz_errname(errno));	/* EBUSY: next time */
			errno = e;
			break;
		default:	/* v1: a task of f into f */
			snprintf(num, sizeof(num), "%d", tf.kids[1]);
			ret = ckpt_cg_write(&cg_f, "tasks", num);
			break;
		}
		e = ret ? errno : 0;
		writes++;
		busy += e == EBUSY;
		check(e == 0 || e == EBUSY, "freezer/migration write: %s",
		      fz_errname(e));
	}
	out("ckpt-fuzz: writer: %d freezer/migration writes, %d EBUSY\n",
	    writes, busy);
	return NULL;
}

void *reaper_main(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		fz_reap();
		ckpt_sleep_ms(5);
	}
	return NULL;
}
