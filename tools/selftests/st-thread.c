// SPDX-License-Identifier: GPL-2.0
/*
 * st-thread.c: CKPT_IOC_SIGACTIONS and CKPT_IOC_THREAD (group "thread").
 *
 * A process installs known signal handlers, then three threads set known
 * per-thread state: sigaltstack, robust list, set_tid_address, pdeath
 * signal, timer slack, personality, securebits, signal masks and
 * thread-private pending signals; the third thread sleeps in sigsuspend()
 * with a temporary mask.  Each thread reads its state back through the
 * system calls (rt_sigaction, sigaltstack, get_robust_list, prctl,
 * personality, rt_sigprocmask, the rseq syscall's "already registered"
 * answer) into shared memory.  The test freezes the process, begins a
 * session, scans, and checks what the module returns for every thread
 * against those values, the constants set and /proc's SigBlk/SigPnd.
 */
#include <linux/futex.h>
#include <linux/securebits.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include "st.h"

#define NTHR		3
#define SIG_PRIV0	SIGUSR1		/* pending for thread 0 only */
#define SIG_PRIV1	SIGTERM		/* pending for thread 1 only */
#define SIG_SHARED	40		/* pending for the process */
#define BIT(sig)	(1ULL << ((sig) - 1))
#ifndef SS_AUTODISARM
#define SS_AUTODISARM	(1U << 31)	/* linux/signal.h */
#endif
#ifndef SA_RESTORER
#define SA_RESTORER	0x04000000	/* kernel uapi; glibc sets it itself */
#endif

/* ---- ioctl wrappers (@out gets the struct as written back) ---------------------- */

static int ioc_sigactions(int fd, pid_t tid, struct ckpt_sigaction *acts,
			  uint32_t count, struct ckpt_sigactions *out)
{
	struct ckpt_sigactions a = {
		.tid = (__u32)tid,
		.actions = (__u64)(uintptr_t)acts,
		.count = count,
	};
	int ret = ioctl(fd, CKPT_IOC_SIGACTIONS, &a), err = errno;

	if (out)
		*out = a;
	errno = err;
	return ret;
}

static int ioc_thread(int fd, pid_t tid, struct ckpt_thread *out)
{
	struct ckpt_thread t;
	int ret, err;

	memset(&t, 0, sizeof(t));
	t.tid = (__u32)tid;
	ret = ioctl(fd, CKPT_IOC_THREAD, &t);
	err = errno;
	*out = t;
	errno = err;
	return ret;
}

/* ---- the workload ------------------------------------------------------------------ */

struct want {
	pid_t tid;
	uint64_t sas_sp, sas_size;
	uint32_t sas_flags;
	uint64_t ctid, robust, robust_len;
	uint64_t rseq;
	uint32_t rseq_len, rseq_sig;
	uint32_t securebits, personality, pdeath;
	uint64_t slack, default_slack;
	uint64_t blocked, saved;
	bool restore;
};

struct truth {
	struct ckpt_sigaction act[64];	/* rt_sigaction() read-back */
	struct want thr[NTHR];
	int t2_ready;
};

static struct truth *tr;

static char altstk[NTHR][16384];
static struct robust_list_head heads[NTHR];
static int ctids[NTHR];

static const uint32_t want_pdeath[NTHR] = { 36, SIGTERM, 0 };
static const uint64_t want_slack[NTHR] = { 123457, 98765, 0 };	/* 0: unset */
static const uint32_t want_pers[NTHR] = {
	PER_LINUX | ADDR_NO_RANDOMIZE,
	PER_LINUX | ADDR_NO_RANDOMIZE | UNAME26,
	PER_LINUX | ADDR_NO_RANDOMIZE,		/* inherited from thread 0 */
};
static const uint32_t want_secbits[NTHR] = {
	SECBIT_KEEP_CAPS,
	SECBIT_KEEP_CAPS | SECBIT_NO_SETUID_FIXUP,
	SECBIT_KEEP_CAPS,			/* inherited from thread 0 */
};
static const uint64_t want_blocked[NTHR] = {
	BIT(SIG_PRIV0) | BIT(SIG_SHARED),
	BIT(SIG_PRIV1) | BIT(SIG_SHARED) | BIT(64),
	BIT(SIGUSR2) | BIT(SIG_SHARED) | BIT(50),	/* saved by sigsuspend */
};
/* Thread 2's mask while in sigsuspend. */
#define T2_TEMP_MASK	(BIT(SIG_SHARED) | BIT(51) | BIT(52))

static void h_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
}

static void h_plain(int sig)
{
	(void)sig;
}

/* Raw kernel sigsets: glibc's sigset functions refuse its reserved 32/33. */
static void wl_set_mask(uint64_t mask)
{
	WL_CHECK(!syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8));
}

static uint64_t wl_get_mask(void)
{
	uint64_t old = 0;

	WL_CHECK(!syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &old, 8));
	return old;
}

/* The length the kernel registered our rseq area with: the one a repeated
 * registration answers EBUSY for (EINVAL for any other). */
static uint32_t wl_rseq_len(uint64_t area)
{
	uint32_t len;

	if (!area)
		return 0;
	for (len = 16; len <= 1024; len += 4) {
		errno = 0;
		if (syscall(SYS_rseq, (void *)(uintptr_t)area, len, 0, RSEQ_SIG) == -1 &&
		    errno == EBUSY)
			return len;
		WL_CHECK(errno == EINVAL);
	}
	WL_CHECK(!"no rseq length answers EBUSY");
	return 0;
}

/* Set thread @i's state, read it back into tr->thr[i]. */
static void wl_setup_thread(int i)
{
	struct want *w = &tr->thr[i];
	stack_t ss = {
		.ss_sp = altstk[i],
		.ss_size = sizeof(altstk[i]),
		.ss_flags = i == 0 ? SS_AUTODISARM : 0,
	}, old;
	struct robust_list_head *h = NULL;
	size_t hlen = 0;
	int slack;

	w->tid = st_gettid();
	WL_CHECK(!sigaltstack(&ss, NULL));
	WL_CHECK(!sigaltstack(NULL, &old));
	w->sas_sp = (uintptr_t)old.ss_sp;
	w->sas_size = old.ss_size;
	w->sas_flags = (uint32_t)old.ss_flags;

	heads[i].list.next = &heads[i].list;
	heads[i].futex_offset = 0;
	heads[i].list_op_pending = NULL;
	WL_CHECK(!syscall(SYS_set_robust_list, &heads[i], sizeof(heads[i])));
	WL_CHECK(!syscall(SYS_get_robust_list, 0, &h, &hlen));
	w->robust = (uintptr_t)h;
	w->robust_len = hlen;

	WL_CHECK(syscall(SYS_set_tid_address, &ctids[i]) == w->tid);
	w->ctid = (uintptr_t)&ctids[i];

	if (want_pdeath[i])
		WL_CHECK(!prctl(PR_SET_PDEATHSIG, want_pdeath[i]));
	WL_CHECK(!prctl(PR_GET_PDEATHSIG, &w->pdeath));

	slack = prctl(PR_GET_TIMERSLACK);
	WL_CHECK(slack > 0);
	w->default_slack = (uint64_t)slack;	/* the creator's slack */
	if (want_slack[i])
		WL_CHECK(!prctl(PR_SET_TIMERSLACK, want_slack[i]));
	slack = prctl(PR_GET_TIMERSLACK);
	WL_CHECK(slack > 0);
	w->slack = (uint64_t)slack;

	if (i != 2)
		WL_CHECK(personality(want_pers[i]) != -1);
	w->personality = (uint32_t)personality(0xffffffff);

	if (i != 2)
		WL_CHECK(!prctl(PR_SET_SECUREBITS, want_secbits[i]));
	w->securebits = (uint32_t)prctl(PR_GET_SECUREBITS);

	w->rseq = __rseq_size ? (uintptr_t)__builtin_thread_pointer() +
				(uintptr_t)__rseq_offset : 0;
	w->rseq_len = wl_rseq_len(w->rseq);
	w->rseq_sig = w->rseq ? RSEQ_SIG : 0;

	wl_set_mask(want_blocked[i]);
	w->blocked = wl_get_mask();
}

static void *wl_thread1(void *arg)
{
	(void)arg;
	wl_setup_thread(1);
	/* A signal for this thread only, blocked: stays in its ->pending. */
	WL_CHECK(!syscall(SYS_tgkill, getpid(), st_gettid(), SIG_PRIV1));
	st_ready();
	st_idle();
}

static void *wl_thread2(void *arg)
{
	uint64_t temp = T2_TEMP_MASK;

	(void)arg;
	wl_setup_thread(2);
	tr->thr[2].saved = tr->thr[2].blocked;
	tr->thr[2].blocked = temp;
	tr->thr[2].restore = true;
	__atomic_store_n(&tr->t2_ready, 1, __ATOMIC_SEQ_CST);
	for (;;)
		syscall(SYS_rt_sigsuspend, &temp, 8);
	return NULL;
}

static void wl_root(void *arg)
{
	struct sigaction sa;
	int sig;

	(void)arg;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = h_info;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaddset(&sa.sa_mask, SIGTERM);
	WL_CHECK(!sigaction(SIGUSR1, &sa, NULL));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	WL_CHECK(!sigaction(SIGUSR2, &sa, NULL));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_plain;
	sa.sa_flags = SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	WL_CHECK(!sigaction(SIGHUP, &sa, NULL));

	wl_setup_thread(0);
	st_wl_thread(wl_thread1, NULL);
	st_wl_thread(wl_thread2, NULL);
	while (__atomic_load_n(&st_shm->ready, __ATOMIC_SEQ_CST) < 1 ||
	       !__atomic_load_n(&tr->t2_ready, __ATOMIC_SEQ_CST))
		ckpt_sleep_ms(1);
	/* Every thread blocks SIG_SHARED: it stays in the shared pending. */
	WL_CHECK(!kill(getpid(), SIG_SHARED));
	WL_CHECK(!syscall(SYS_tgkill, getpid(), st_gettid(), SIG_PRIV0));
	for (sig = 1; sig <= 64; sig++)
		WL_CHECK(!syscall(SYS_rt_sigaction, sig, NULL, &tr->act[sig - 1], 8));
	st_ready();
	st_idle();
}

/* ---- runner side ---------------------------------------------------------------------- */

/* SigBlk / SigPnd / ShdPnd of /proc/PID/task/TID/status. */
static uint64_t proc_sigset(pid_t pid, pid_t tid, const char *key)
{
	char path[96], buf[4096], k[32];
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	if (ckpt_read_file(path, buf, sizeof(buf)) < 0)
		st_fail("read %s: %s", path, st_errname(errno));
	snprintf(k, sizeof(k), "\n%s:", key);
	p = strstr(buf, k);
	ST_CHECK(p != NULL, "%s has no %s", path, key);
	return strtoull(p + strlen(k), NULL, 16);
}

/* Wait until thread @tid of @pid sleeps in rt_sigsuspend (/proc syscall). */
static void wait_in_sigsuspend(pid_t pid, pid_t tid)
{
	uint64_t deadline = ckpt_now_ms() + ST_TIMEOUT_MS;
	char path[96], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	for (;;) {
		if (ckpt_read_file(path, buf, sizeof(buf)) > 0 &&
		    strtol(buf, NULL, 10) == SYS_rt_sigsuspend &&
		    st_state(pid, tid) == 'S')
			return;
		if (ckpt_now_ms() > deadline)
			st_fail("thread %d is not in sigsuspend: %s", tid, buf);
		ckpt_sleep_ms(2);
	}
}

struct fixture {
	struct ckpt_cg *cg;
	pid_t pid;
	int fd;
};

static void fixture(struct fixture *f, bool v1)
{
	tr = mmap(NULL, sizeof(*tr), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(tr != MAP_FAILED);
	memset(tr, 0, sizeof(*tr));
	f->cg = st_cg_new(v1, "c");
	f->pid = st_spawn(f->cg, wl_root, NULL);
	st_wait_ready(2);
	wait_in_sigsuspend(f->pid, tr->thr[2].tid);
	st_freeze(f->cg);
	f->fd = st_begin(f->cg, f->pid);
}

static void check_actions(const struct ckpt_sigaction *a)
{
	int i;

	for (i = 0; i < 64; i++) {
		const struct ckpt_sigaction *k = &a[i], *u = &tr->act[i];

		if (memcmp(k, u, sizeof(*k)))
			st_fail("signal %d: module {%#llx %#llx %#llx %#llx}, "
				"rt_sigaction {%#llx %#llx %#llx %#llx}", i + 1,
				(unsigned long long)k->handler,
				(unsigned long long)k->flags,
				(unsigned long long)k->restorer,
				(unsigned long long)k->mask,
				(unsigned long long)u->handler,
				(unsigned long long)u->flags,
				(unsigned long long)u->restorer,
				(unsigned long long)u->mask);
	}
	/* And the values installed, literally. */
	ST_EQ(a[SIGUSR1 - 1].handler, (uintptr_t)h_info);
	ST_EQ(a[SIGUSR1 - 1].flags & ~(uint64_t)SA_RESTORER,
	      SA_SIGINFO | SA_RESTART);
	ST_EQ(a[SIGUSR1 - 1].mask, BIT(SIGUSR2) | BIT(SIGTERM));
	ST_CHECK(a[SIGUSR1 - 1].restorer != 0, "glibc sets SA_RESTORER");
	ST_EQ(a[SIGUSR2 - 1].handler, (uintptr_t)SIG_IGN);
	ST_EQ(a[SIGHUP - 1].handler, (uintptr_t)h_plain);
	ST_EQ(a[SIGHUP - 1].flags & ~(uint64_t)SA_RESTORER,
	      SA_ONSTACK | SA_NODEFER | SA_RESETHAND);
	ST_EQ(a[SIGHUP - 1].mask, 0);
	ST_EQ(a[SIGINT - 1].handler, (uintptr_t)SIG_DFL);
	ST_EQ(a[SIGKILL - 1].handler, (uintptr_t)SIG_DFL);
	ST_EQ(a[SIG_SHARED - 1].handler, (uintptr_t)SIG_DFL);
}

static void check_thread(const struct ckpt_thread *t, int i, pid_t pid)
{
	const struct want *w = &tr->thr[i];

	st_diag("thread %d (tid %d): rseq %#llx len %u, robust %#llx, slack %llu",
		i, w->tid, (unsigned long long)t->rseq, t->rseq_len,
		(unsigned long long)t->robust_list,
		(unsigned long long)t->timer_slack_ns);
	ST_EQ(t->flags, 0);
	ST_EQ(t->tid, w->tid);
	ST_EQ(t->reserved, 0);
	/* sigaltstack: as set and as read back */
	ST_EQ(t->sas_ss_sp, (uintptr_t)altstk[i]);
	ST_EQ(t->sas_ss_sp, w->sas_sp);
	ST_EQ(t->sas_ss_size, sizeof(altstk[i]));
	ST_EQ(t->sas_ss_size, w->sas_size);
	ST_EQ(t->sas_ss_flags, i == 0 ? SS_AUTODISARM : 0);
	ST_EQ(t->sas_ss_flags, w->sas_flags);	/* not on the stack now */
	/* set_tid_address, set_robust_list */
	ST_EQ(t->clear_child_tid, (uintptr_t)&ctids[i]);
	ST_EQ(t->clear_child_tid, w->ctid);
	ST_EQ(t->robust_list, (uintptr_t)&heads[i]);
	ST_EQ(t->robust_list, w->robust);
	ST_EQ(t->robust_list_len, sizeof(struct robust_list_head));
	ST_EQ(t->robust_list_len, w->robust_len);
	/* rseq: glibc's registration (__rseq_offset, RSEQ_SIG) */
	ST_EQ(t->rseq, w->rseq);
	ST_EQ(t->rseq_len, w->rseq_len);
	ST_EQ(t->rseq_sig, w->rseq_sig);
	if (__rseq_size) {
		ST_CHECK(t->rseq != 0, "glibc registered rseq");
		ST_CHECK(t->rseq_len >= __rseq_size, "rseq_len %u, __rseq_size %u",
			 t->rseq_len, __rseq_size);
		ST_EQ(t->rseq_sig, RSEQ_SIG);
	} else {
		st_diag("glibc did not register rseq (__rseq_size 0)");
	}
	/* prctl, personality, securebits */
	ST_EQ(t->pdeath_signal, want_pdeath[i]);
	ST_EQ(t->pdeath_signal, w->pdeath);
	if (want_slack[i])
		ST_EQ(t->timer_slack_ns, want_slack[i]);
	ST_EQ(t->timer_slack_ns, w->slack);
	ST_EQ(t->default_timer_slack_ns, w->default_slack);
	if (i == 1)	/* created by thread 0, after it set its slack */
		ST_EQ(t->default_timer_slack_ns, want_slack[0]);
	ST_EQ(t->personality, want_pers[i]);
	ST_EQ(t->personality, w->personality);
	ST_EQ(t->securebits, want_secbits[i]);
	ST_EQ(t->securebits, w->securebits);
	/* signal masks: as set, as read back, as /proc shows them */
	ST_EQ(t->blocked, i == 2 ? T2_TEMP_MASK : want_blocked[i]);
	ST_EQ(t->blocked, w->blocked);
	ST_EQ(t->blocked, proc_sigset(pid, w->tid, "SigBlk"));
	ST_EQ(t->pending, i == 0 ? BIT(SIG_PRIV0) : i == 1 ? BIT(SIG_PRIV1) : 0);
	ST_EQ(t->pending, proc_sigset(pid, w->tid, "SigPnd"));
	ST_EQ(proc_sigset(pid, w->tid, "ShdPnd"), BIT(SIG_SHARED));
	if (w->restore) {
		ST_EQ(t->state, CKPT_THREAD_RESTORE_SIGMASK);
		ST_EQ(t->saved_sigmask, want_blocked[i]);
		ST_EQ(t->saved_sigmask, w->saved);
	} else {
		ST_EQ(t->state, 0);
		ST_EQ(t->saved_sigmask, 0);
	}
}

static void thread_state(bool v1)
{
	struct ckpt_sigaction acts[64], acts2[64];
	struct ckpt_sigactions sa;
	struct ckpt_task *recs;
	struct ckpt_thread t;
	struct fixture f;
	uint32_t n, r;
	int i, seen = 0;

	fixture(&f, v1);
	recs = st_scan_check(f.fd, f.pid, &n);
	ST_EQ(n, NTHR);
	memset(acts, 0xa5, sizeof(acts));
	ST_OK(ioc_sigactions(f.fd, f.pid, acts, 64, &sa));
	ST_EQ(sa.count, 64);
	ST_EQ(sa.tid, f.pid);
	check_actions(acts);
	/* Every thread of the scan: the same (shared) actions, its own state. */
	for (r = 0; r < n; r++) {
		memset(acts2, 0x5a, sizeof(acts2));
		ST_OK(ioc_sigactions(f.fd, recs[r].vpid, acts2, 64, &sa));
		ST_EQ(memcmp(acts, acts2, sizeof(acts)), 0);
		memset(&t, 0xa5, sizeof(t));
		ST_OK(ioc_thread(f.fd, recs[r].vpid, &t));
		for (i = 0; i < NTHR; i++)
			if (tr->thr[i].tid == (pid_t)recs[r].vpid) {
				check_thread(&t, i, f.pid);
				seen |= 1 << i;
			}
	}
	ST_EQ(seen, (1 << NTHR) - 1);
	free(recs);
	/* Reading changes nothing: the same again after END and BEGIN. */
	ST_OK(ckpt_ioc_end(f.fd));
	ST_OK(ckpt_ioc_begin(f.fd, st_cg_fd(f.cg), f.pid, 0));
	for (i = 0; i < NTHR; i++) {
		ST_OK(ioc_thread(f.fd, tr->thr[i].tid, &t));
		check_thread(&t, i, f.pid);
	}
	munmap(tr, sizeof(*tr));
	tr = NULL;
}

static void thread_state_v2(void **state)
{
	(void)state;
	thread_state(false);
}

static void thread_state_v1(void **state)
{
	(void)state;
	thread_state(true);
}

/* ---- capacity and pointers ----------------------------------------------------------- */

/* @n entries ending right at an inaccessible page; *@map, *@maplen: the
 * whole mapping. */
static struct ckpt_sigaction *guarded_acts(size_t n, void **map, size_t *maplen)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (n * sizeof(struct ckpt_sigaction) + pg - 1) / pg * pg;
	char *p = mmap(NULL, len + pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		st_fail("mmap: %s", st_errname(errno));
	ST_OK(mprotect(p + len, pg, PROT_NONE));
	*map = p;
	*maplen = len + pg;
	return (struct ckpt_sigaction *)(p + len) - n;
}

static void thread_sigactions_capacity(void **state)
{
	static const uint32_t small[] = { 0, 1, 63 };
	struct ckpt_sigaction *g, acts[100];
	struct ckpt_sigactions sa;
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 1);
	int fd = st_begin(cg, root);
	size_t i, len;
	void *map;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(small); i++) {
		memset(acts, 0xa5, sizeof(acts));
		ST_ERR(ioc_sigactions(fd, root, small[i] ? acts : NULL,
				      small[i], &sa), ENOSPC);
		ST_EQ(sa.count, CKPT_SIGACTIONS_NR);
		ST_EQ(((uint8_t *)acts)[0], 0xa5);	/* nothing written */
	}
	/* Exactly 64 entries, right before a guard page. */
	g = guarded_acts(64, &map, &len);
	ST_OK(ioc_sigactions(fd, root, g, 64, &sa));
	ST_EQ(sa.count, 64);
	ST_EQ(g[SIGKILL - 1].handler, (uintptr_t)SIG_DFL);
	/* 63 entries of room, capacity says 64: EFAULT. */
	ST_ERR(ioc_sigactions(fd, root, g + 1, 64, &sa), EFAULT);
	ST_EQ(sa.count, 0);
	munmap(map, len);
	/* More room than needed: 64 written, the rest untouched. */
	memset(acts, 0xa5, sizeof(acts));
	ST_OK(ioc_sigactions(fd, root, acts, ARRAY_SIZE(acts), &sa));
	ST_EQ(sa.count, 64);
	for (i = 64 * sizeof(acts[0]); i < sizeof(acts); i++)
		ST_EQ(((uint8_t *)acts)[i], 0xa5);
	ST_OK(ioc_sigactions(fd, root, acts, 0xffffffff, &sa));
	ST_EQ(sa.count, 64);
}

static void thread_bad_pointers(void **state)
{
	struct ckpt_sigactions sa, *sa2;
	struct ckpt_sigaction *acts;
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 1);
	int fd = st_begin(cg, root);
	void *ro, *gone;

	(void)state;
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(ro != MAP_FAILED);
	gone = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(gone != MAP_FAILED);
	ST_OK(munmap(gone, 4096));
	ST_ERR(ioc_sigactions(fd, root, NULL, 64, &sa), EFAULT);
	ST_ERR(ioc_sigactions(fd, root, ro, 64, &sa), EFAULT);
	ST_ERR(ioc_sigactions(fd, root, gone, 64, &sa), EFAULT);
	ST_ERR(ioc_sigactions(fd, root, (void *)0xffff888000000000UL, 64, &sa),
	       EFAULT);
	/* The argument itself, valid but read-only: the command works, the
	 * copy back does not. */
	ST_OK(munmap(ro, 4096));
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	ST_CHECK(ro != MAP_FAILED);
	acts = malloc(64 * sizeof(*acts));
	ST_CHECK(acts != NULL);
	((struct ckpt_thread *)ro)->tid = root;
	sa2 = (struct ckpt_sigactions *)((char *)ro + 2048);
	sa2->tid = root;
	sa2->actions = (uintptr_t)acts;
	sa2->count = 64;
	ST_OK(mprotect(ro, 4096, PROT_READ));
	ST_ERR(ioctl(fd, CKPT_IOC_THREAD, ro), EFAULT);
	ST_ERR(ioctl(fd, CKPT_IOC_SIGACTIONS, sa2), EFAULT);
	/* Unmapped. */
	ST_ERR(ioctl(fd, CKPT_IOC_THREAD, gone), EFAULT);
	ST_ERR(ioctl(fd, CKPT_IOC_SIGACTIONS, gone), EFAULT);
	munmap(ro, 4096);
	free(acts);
}

/* ---- flags, reserved fields, sizes ------------------------------------------------------ */

static void thread_bad_args(void **state)
{
	static const uint32_t bad[] = { 1, 2, 0x80000000, ~0U };
	struct ckpt_sigaction acts[64];
	struct ckpt_sigactions sa;
	struct ckpt_thread t;
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 1);
	int fd = st_begin(cg, root);
	union {
		char raw[4096];
		struct ckpt_sigactions sa;
		struct ckpt_thread t;
	} u;
	size_t i;
	unsigned int at;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		sa = (struct ckpt_sigactions){ .flags = bad[i], .tid = root,
			.actions = (uintptr_t)acts, .count = 64 };
		ST_ERR(ioctl(fd, CKPT_IOC_SIGACTIONS, &sa), EINVAL);
		sa = (struct ckpt_sigactions){ .reserved = bad[i], .tid = root,
			.actions = (uintptr_t)acts, .count = 64 };
		ST_ERR(ioctl(fd, CKPT_IOC_SIGACTIONS, &sa), EINVAL);
		memset(&t, 0, sizeof(t));
		t.tid = root;
		t.flags = bad[i];
		ST_ERR(ioctl(fd, CKPT_IOC_THREAD, &t), EINVAL);
		memset(&t, 0, sizeof(t));
		t.tid = root;
		t.reserved = bad[i];
		ST_ERR(ioctl(fd, CKPT_IOC_THREAD, &t), EINVAL);
	}
	/* Short: EINVAL. */
	for (at = 0; at < CKPT_SIGACTIONS_SIZE_VER0; at += 8) {
		memset(&u, 0, sizeof(u));
		ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_SIGACTIONS, at), &u), EINVAL);
	}
	ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_SIGACTIONS, CKPT_SIGACTIONS_SIZE_VER0 - 1),
		     &u), EINVAL);
	for (at = 0; at < CKPT_THREAD_SIZE_VER0; at += 8) {
		memset(&u, 0, sizeof(u));
		ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_THREAD, at), &u), EINVAL);
	}
	ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_THREAD, CKPT_THREAD_SIZE_VER0 - 1), &u),
	       EINVAL);
	/* Long with a zero tail: works, the tail stays zero. */
	memset(&u, 0, sizeof(u));
	u.sa.tid = root;
	u.sa.actions = (uintptr_t)acts;
	u.sa.count = 64;
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_SIGACTIONS, sizeof(u)), &u));
	ST_EQ(u.sa.count, 64);
	for (i = sizeof(u.sa); i < sizeof(u); i++)
		ST_EQ(u.raw[i], 0);
	memset(&u, 0, sizeof(u));
	u.t.tid = root;
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_THREAD, CKPT_THREAD_SIZE_VER0 + 64), &u));
	ST_EQ(u.t.tid, root);
	ST_EQ(u.t.robust_list_len, sizeof(struct robust_list_head));
	for (i = sizeof(u.t); i < CKPT_THREAD_SIZE_VER0 + 64; i++)
		ST_EQ(u.raw[i], 0);
	/* Long with a nonzero byte past the struct: E2BIG. */
	for (at = sizeof(u.sa); at < sizeof(u.sa) + 64; at += 7) {
		memset(&u, 0, sizeof(u));
		u.sa.tid = root;
		u.sa.actions = (uintptr_t)acts;
		u.sa.count = 64;
		u.raw[at] = 1;
		ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_SIGACTIONS, sizeof(u.sa) + 64), &u),
		       E2BIG);
	}
	for (at = sizeof(u.t); at < sizeof(u.t) + 64; at += 7) {
		memset(&u, 0, sizeof(u));
		u.t.tid = root;
		u.raw[at] = 1;
		ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_THREAD, sizeof(u.t) + 64), &u),
		       E2BIG);
	}
	/* None of that ended the session. */
	ST_OK(ioc_thread(fd, root, &t));
	ST_OK(ioc_sigactions(fd, root, acts, 64, &sa));
}

/* Threads the commands refuse, and no session. */
static void thread_refused(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	struct ckpt_cg *out = st_cg_new(false, "out");
	pid_t root = st_spawn(cg, st_wl_zombie_root, NULL), other, o, z, dead;
	struct ckpt_sigaction acts[64];
	struct ckpt_sigactions sa;
	struct ckpt_thread t;
	int fd, fd2;

	(void)state;
	st_wait_ready(1);
	z = st_find_rep(1, 0)->aux;
	st_wait_state(z, 0, 'Z');
	/* Another tree in the same frozen cgroup, and a task elsewhere. */
	other = st_spawn(cg, st_wl_idle, NULL);
	o = st_spawn(out, st_wl_idle, NULL);
	st_freeze(cg);

	/* No session on this file: ENOENT, as SCAN and REGS. */
	fd = st_dev();
	ST_ERR(ioc_sigactions(fd, root, acts, 64, &sa), ENOENT);
	ST_EQ(sa.count, 0);
	ST_ERR(ioc_thread(fd, root, &t), ENOENT);
	ST_OK(ckpt_ioc_begin(fd, st_cg_fd(cg), root, 0));
	/* A failed THREAD zeroes its out fields. */
	memset(&t, 0xa5, sizeof(t));
	t.flags = 0;
	t.reserved = 0;
	t.tid = other;
	ST_ERR(ioctl(fd, CKPT_IOC_THREAD, &t), EXDEV);
	ST_EQ(t.tid, other);
	ST_EQ(t.state, 0);
	ST_EQ(t.blocked, 0);
	ST_EQ(t.robust_list_len, 0);
	ST_EQ(t.saved_sigmask, 0);

	ST_ERR(ioc_sigactions(fd, other, acts, 64, &sa), EXDEV);
	ST_ERR(ioc_thread(fd, other, &t), EXDEV);
	ST_ERR(ioc_sigactions(fd, o, acts, 64, &sa), EXDEV);	/* other cgroup */
	ST_ERR(ioc_thread(fd, o, &t), EXDEV);
	ST_ERR(ioc_sigactions(fd, getpid(), acts, 64, &sa), EXDEV);
	ST_ERR(ioc_thread(fd, getpid(), &t), EXDEV);
	ST_ERR(ioc_thread(fd, 1, &t), EXDEV);
	ST_ERR(ioc_sigactions(fd, z, acts, 64, &sa), EAGAIN);	/* zombie */
	ST_ERR(ioc_thread(fd, z, &t), EAGAIN);
	dead = st_reaped_pid();
	ST_ERR(ioc_sigactions(fd, dead, acts, 64, &sa), ESRCH);
	ST_ERR(ioc_thread(fd, dead, &t), ESRCH);
	ST_ERR(ioc_sigactions(fd, 0, acts, 64, &sa), ESRCH);
	ST_ERR(ioc_thread(fd, 0, &t), ESRCH);
	ST_ERR(ioc_thread(fd, -1, &t), ESRCH);
	ST_EQ(t.tid, (uint32_t)-1);
	ST_OK(ioc_thread(fd, root, &t));
	ST_OK(ioc_sigactions(fd, root, acts, 64, &sa));

	/* Another file's session does not count, nor an ended one. */
	fd2 = st_dev();
	ST_ERR(ioc_thread(fd2, root, &t), ENOENT);
	ST_OK(ckpt_ioc_end(fd));
	ST_ERR(ioc_thread(fd, root, &t), ENOENT);
	ST_ERR(ioc_sigactions(fd, root, acts, 64, &sa), ENOENT);
}

static void thread_info(void **state)
{
	struct ckpt_info info;
	union {
		struct ckpt_info info;
		char raw[CKPT_INFO_SIZE_VER0];
	} old;
	int fd = st_dev();

	(void)state;
	memset(&info, 0xa5, sizeof(info));
	info.flags = 0;
	ST_OK(ioctl(fd, CKPT_IOC_INFO, &info));
	ST_EQ(info.commands, CKPT_CMD_BIT(CKPT_IOC_INFO) |
			     CKPT_CMD_BIT(CKPT_IOC_BEGIN) |
			     CKPT_CMD_BIT(CKPT_IOC_END) |
			     CKPT_CMD_BIT(CKPT_IOC_SCAN) |
			     CKPT_CMD_BIT(CKPT_IOC_REGS) |
			     CKPT_CMD_BIT(CKPT_IOC_SIGACTIONS) |
			     CKPT_CMD_BIT(CKPT_IOC_THREAD) |
			     CKPT_CMD_BIT(CKPT_IOC_VMAS) |
			     CKPT_CMD_BIT(CKPT_IOC_PAGES));
	ST_EQ(info.commands, 0x1ff);
	ST_EQ(info.sigactions_flags, 0);
	ST_EQ(info.thread_flags, 0);
	ST_EQ(info.abi_version, CKPT_ABI_VERSION);
	/* A caller built against VER0 gets the VER0 part only. */
	memset(&old, 0, sizeof(old));
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_INFO, CKPT_INFO_SIZE_VER0), &old));
	ST_EQ(old.info.abi_version, CKPT_ABI_VERSION);
	ST_EQ(old.info.regs_flags, CKPT_REGS_FLAGS);
}

static const struct CMUnitTest tests[] = {
	ST_TEST(thread_info),
	ST_TEST(thread_state_v2),
	ST_TEST(thread_state_v1),
	ST_TEST(thread_sigactions_capacity),
	ST_TEST(thread_bad_pointers),
	ST_TEST(thread_bad_args),
	ST_TEST(thread_refused),
};

const struct st_group st_group_thread = { "thread", tests, ARRAY_SIZE(tests) };
