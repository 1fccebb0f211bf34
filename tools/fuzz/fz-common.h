/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fz-common.h: helpers shared by ckpt-fuzz and ckpt-races (run in the test
 * VM as root with ckpt.ko loaded): a seeded PRNG, errno names, workload
 * trees in cgroups, module load/unload.  Header-only; built on ckpt-util.h.
 */
#ifndef CKPT_FZ_COMMON_H
#define CKPT_FZ_COMMON_H

#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "ckpt-util.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#ifndef O_NONBLOCK
#define O_NONBLOCK	04000
#endif

/* ---- PRNG: splitmix64 (seeding) + xorshift64* ------------------------- */

static inline uint64_t fz_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct fz_rng {
	uint64_t s;
};

static inline void fz_rng_seed(struct fz_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);

	r->s = fz_splitmix(&x) | 1;
}

static inline uint64_t fz_next(struct fz_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n). */
static inline uint32_t fz_below(struct fz_rng *r, uint32_t n)
{
	return n ? (uint32_t)((fz_next(r) >> 32) % n) : 0;
}

/* True with probability 1/n. */
static inline bool fz_one_in(struct fz_rng *r, uint32_t n)
{
	return fz_below(r, n) == 0;
}

/* ---- errno names -------------------------------------------------------- */

static inline const char *fz_errname(int e)
{
	static char buf[4][16];
	static int i;
	char *b;

	switch (e) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case ENXIO: return "ENXIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOTTY: return "ENOTTY";
	case ENOSPC: return "ENOSPC";
	case EFBIG: return "EFBIG";
	case EIO: return "EIO";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EALREADY: return "EALREADY";
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECHILD: return "ECHILD";
	}
	b = buf[__atomic_fetch_add(&i, 1, __ATOMIC_RELAXED) & 3];
	snprintf(b, sizeof(buf[0]), "errno%d", e);
	return b;
}

/* ---- cgroups ---------------------------------------------------------------- */

/* A fresh cgroup @name under the v2 mount or the v1 freezer mount. */
static inline int fz_cg_make(struct ckpt_cg *out, bool v1, const char *name)
{
	struct ckpt_cg top;

	if (ckpt_cg_init(&top, v1 ? ckpt_freezer_mount() : ckpt_cgroup2_mount(),
			 v1))
		return -1;
	if (ckpt_cg_sub(out, &top, name))
		return -1;
	if (access(out->path, F_OK) == 0)
		ckpt_cg_destroy(out, 10000);
	return ckpt_cg_mkdir(out, &top, name);
}

/* Write @s to @cg's freezer file until it is not EBUSY (bounded). */
static inline int fz_cg_write_retry(const struct ckpt_cg *cg, const char *file,
				    const char *s, unsigned int timeout_ms)
{
	uint64_t deadline = ckpt_now_ms() + timeout_ms;

	for (;;) {
		if (!ckpt_cg_write(cg, file, s))
			return 0;
		if (errno != EBUSY || ckpt_now_ms() >= deadline)
			return -1;
		ckpt_sleep_ms(1);
	}
}

/* Freeze @cg and wait until frozen, retrying while a BEGIN holds it. */
static inline int fz_cg_freeze(const struct ckpt_cg *cg, unsigned int timeout_ms)
{
	uint64_t deadline = ckpt_now_ms() + timeout_ms;

	for (;;) {
		if (!ckpt_cg_freeze(cg, timeout_ms))
			return 0;
		if (errno != EBUSY || ckpt_now_ms() >= deadline)
			return -1;
		ckpt_sleep_ms(1);
	}
}

static inline int fz_cg_thaw(const struct ckpt_cg *cg, unsigned int timeout_ms)
{
	return fz_cg_write_retry(cg, cg->v1 ? "freezer.state" : "cgroup.freeze",
				 cg->v1 ? "THAWED" : "0", timeout_ms);
}

/* ---- workload trees ------------------------------------------------------------ */

struct fz_tree {
	pid_t root;
	pid_t kids[64];
	int nkids;
	pid_t thread;		/* a non-leader thread of the root, or 0 */
};

static void *fz_idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/*
 * Fork a tree into @cg (which must not be frozen): a root with @nkids idle
 * child processes and @nthreads extra idle threads.  The root reports the
 * pids through a pipe once everything exists.  Does not freeze.
 */
static inline int fz_tree_spawn(const struct ckpt_cg *cg, int nkids,
				int nthreads, struct fz_tree *t)
{
	int go[2], rep[2], i;
	pid_t pid;

	if (nkids > (int)ARRAY_SIZE(t->kids))
		nkids = ARRAY_SIZE(t->kids);
	memset(t, 0, sizeof(*t));
	if (pipe2(go, O_CLOEXEC))
		return -1;
	if (pipe2(rep, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		char c;
		pid_t msg[2 + ARRAY_SIZE(t->kids)];
		int n = 0;

		/* Hold no /dev/ckpt file or cgroup fd of the parent. */
		for (int fd = 3; fd < 1024; fd++)
			if (fd != go[0] && fd != rep[1])
				close(fd);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		for (i = 0; i < nkids; i++) {
			pid_t k = fork();

			if (k == 0) {
				for (;;)
					pause();
			}
			if (k > 0)
				msg[2 + n++] = k;
		}
		msg[1] = 0;
		for (i = 0; i < nthreads; i++) {
			pthread_t th;
			pthread_attr_t at;

			pthread_attr_init(&at);
			pthread_attr_setstacksize(&at, 65536);
			if (pthread_create(&th, &at, fz_idle_thread, NULL))
				break;
			pthread_attr_destroy(&at);
		}
		if (nthreads > 0) {
			/* The first thread's tid: the lowest task other than us. */
			pid_t *tids;
			size_t nt, j;

			if (!ckpt_proc_tasks(getpid(), &tids, &nt)) {
				for (j = 0; j < nt; j++)
					if (tids[j] != getpid()) {
						msg[1] = tids[j];
						break;
					}
				free(tids);
			}
		}
		msg[0] = n;
		if (write(rep[1], msg, sizeof(pid_t) * (2 + n)) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(go[0]);
	close(rep[1]);
	t->root = pid;
	if (ckpt_cg_attach(cg, pid) || write(go[1], "g", 1) != 1) {
		kill(pid, SIGKILL);
		goto fail;
	}
	{
		pid_t msg[2 + ARRAY_SIZE(t->kids)];
		struct pollfd pfd = { .fd = rep[0], .events = POLLIN };
		ssize_t r = -1;

		/* A root frozen before it could fork never answers. */
		if (poll(&pfd, 1, 30000) == 1)
			r = read(rep[0], msg, sizeof(msg));

		if (r < (ssize_t)(2 * sizeof(pid_t))) {
			kill(pid, SIGKILL);
			goto fail;
		}
		t->nkids = msg[0];
		t->thread = msg[1];
		for (i = 0; i < t->nkids; i++)
			t->kids[i] = msg[2 + i];
	}
	close(go[1]);
	close(rep[0]);
	return 0;
fail:
	close(go[1]);
	close(rep[0]);
	errno = EIO;
	return -1;
}

/* Kill every task of @cg (v2: cgroup.kill; v1: SIGKILL each) and wait empty. */
static inline void fz_cg_empty(const struct ckpt_cg *cg, unsigned int timeout_ms)
{
	uint64_t deadline = ckpt_now_ms() + timeout_ms;
	pid_t *pids;
	size_t n, i;

	if (!cg->v1)
		ckpt_cg_write(cg, "cgroup.kill", "1");
	for (;;) {
		if (ckpt_cg_procs(cg, &pids, &n))
			return;
		for (i = 0; i < n; i++)
			kill(pids[i], SIGKILL);
		free(pids);
		if (!n || ckpt_now_ms() >= deadline)
			return;
		if (cg->v1)	/* v1-frozen tasks die only once thawed */
			ckpt_cg_write(cg, "freezer.state", "THAWED");
		ckpt_sleep_ms(2);
	}
}

/* Reap every exited child without blocking. */
static inline void fz_reap(void)
{
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

/* Is @pid alive (exists and is not a zombie)? */
static inline bool fz_alive(pid_t pid)
{
	struct ckpt_proc_stat st;

	if (ckpt_proc_stat(pid, 0, &st))
		return false;
	return st.state != 'Z' && st.state != 'X';
}

/* ---- the module -------------------------------------------------------------- */

static inline const char *fz_ko_path(void)
{
	static char buf[PATH_MAX];
	const char *p = getenv("CKPT_KO");
	struct utsname_buf { char s[6][65]; } u;

	if (p && *p)
		return p;
	if (syscall(SYS_uname, &u))
		return NULL;
	snprintf(buf, sizeof(buf), "build/%s/kmod/ckpt.ko", u.s[2]);
	return buf;
}

static inline int fz_delete_module(void)
{
	return (int)syscall(SYS_delete_module, "ckpt", O_NONBLOCK);
}

static inline int fz_load_module(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret, err;

	if (fd < 0)
		return -1;
	ret = (int)syscall(SYS_finit_module, fd, "", 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

#endif /* CKPT_FZ_COMMON_H */
