// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-fuzz: a seeded ioctl fuzzer for /dev/ckpt.  Runs in the test VM as
 * root with ckpt.ko loaded (tools/fuzz/run-in-vm.sh).
 *
 *   ckpt-fuzz [--seed N] [--calls N] [--threads N] [--procs N] [--unload]
 *
 * Worker threads issue random and boundary ioctls (command numbers, sizes,
 * flags, reserved fields, pointers, cgroup fds, pids, pidfds) on a shared
 * pool of /dev/ckpt fds that are reopened and dup'ed under them.  Session
 * children (--procs) do the same on their own fds and are SIGKILLed at
 * random moments.  Background threads kill tasks of one frozen v2 tree
 * (respawning it), write freezer.state / cgroup.freeze / cgroup.procs, and
 * the workers try to unload the module now and then.
 *
 * Checked ("invariant checks", counted in the summary line):
 *   - every ioctl returns 0 or -1 with an errno documented for it in
 *     Documentation/abi.md; where the result is certain (unknown command,
 *     short size, bad pointer, nonzero tail) the exact errno;
 *   - INFO and SCAN results are coherent (abi_version, count vs capacity,
 *     err_reason matching the errno, the root record first);
 *   - freezer writes and migrations give 0 or EBUSY;
 *   - delete_module fails with EWOULDBLOCK/EBUSY while fds are open;
 *   - at the end, with every fd closed: v1 freezer.state is not
 *     CHECKPOINTING and refreezes to FROZEN, v2 cgroup.freeze accepts a
 *     write, a fresh BEGIN/END works on each frozen cgroup, and (--unload)
 *     the module unloads.
 * With --threads 1 --procs 0 the call sequence depends only on the seed
 * (its hash is printed); the results may still vary with timing.
 */
#include <stdarg.h>
#include "fz-common.h"

#define NSLOT		12
#define NCMD		8	/* INFO BEGIN END SCAN REGS SIGACTIONS THREAD VMAS */
#define NHIST		(NCMD + 1)	/* and unknown */
#define MAXERR		134
#define ARENA_PAGES	5	/* RW, then one guard page */
#define REC_PAGES	16
#define XS_PAGES	4

static const char *const cmd_names[NHIST] = {
	"INFO", "BEGIN", "END", "SCAN", "REGS", "SIGACT", "THREAD", "VMAS", "other"
};

struct shared {
	uint64_t calls;
	uint64_t passed, failed;
	uint64_t hist[NHIST][MAXERR];
	uint64_t other_ops;
	int stop;
	char first_fail[512];
};

static struct shared *sh;
static uint64_t seed, max_calls = 20000;
static int nthreads = 4, nprocs = 2, do_unload;
static long page;

static struct ckpt_cg cg_top, cg_a, cg_k, cg_t, cg_f, cg_ftop;
static struct fz_tree ta, tt, tf;
static struct fz_tree tk;			/* replaced by the killer */
static pthread_mutex_t tk_lock = PTHREAD_MUTEX_INITIALIZER;
/* Held by the killer while it respawns k: k must stay thawed meanwhile. */
static pthread_mutex_t k_respawn = PTHREAD_MUTEX_INITIALIZER;
static int slots[NSLOT];
static uint32_t xstate_size;

/* fd pools, filled at setup */
static int cgfds[20], ncgfds;
static int pidfds[10], npidfds;
static uint8_t *ro_page, *guard_page;

struct worker {
	struct fz_rng rng;
	int id;
	uint8_t *arena, *arena_end;	/* RW pages, guard follows */
	uint8_t *recs, *recs_end;
	uint8_t *xs, *xs_end;
	uint64_t hash;			/* of the generated sequence */
	uint64_t ncalls;
};

/* ---- reporting (no stdio locks: also used in forked children) ---------- */

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(1, buf, n) < 0)
		return;
}

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	uint64_t nf;

	if (ok) {
		__atomic_fetch_add(&sh->passed, 1, __ATOMIC_RELAXED);
		return;
	}
	nf = __atomic_fetch_add(&sh->failed, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (nf < 50)
		out("ckpt-fuzz: FAIL (seed %llu, call %llu, pid %d): %s\n",
		    (unsigned long long)seed,
		    (unsigned long long)__atomic_load_n(&sh->calls, __ATOMIC_RELAXED),
		    (int)getpid(), buf);
	if (nf == 0)
		snprintf(sh->first_fail, sizeof(sh->first_fail), "%s", buf);
}

/* ---- generation ----------------------------------------------------------- */

static inline uint32_t pick(struct worker *w, uint32_t n)
{
	uint32_t v = fz_below(&w->rng, n);

	w->hash = (w->hash ^ v) * 0x100000001b3ULL;
	return v;
}

static uint64_t rnd64(struct worker *w)
{
	uint64_t v = fz_next(&w->rng);

	w->hash = (w->hash ^ v) * 0x100000001b3ULL;
	return v;
}

static uint32_t tree_pid(struct worker *w)
{
	pid_t tkr, tkk;

	pthread_mutex_lock(&tk_lock);
	tkr = tk.root;
	tkk = tk.nkids ? tk.kids[0] : 0;
	pthread_mutex_unlock(&tk_lock);
	switch (pick(w, 20)) {
	case 0: case 1: case 2: return ta.root;
	case 3: return ta.kids[0];
	case 4: return ta.thread;
	case 5: case 6: return tkr;
	case 7: return tkk;
	case 8: case 9: return tf.root;
	case 10: return tf.kids[0];
	case 11: return tt.root;
	case 12: return 0;
	case 13: return 1;
	case 14: return 2;
	case 15: return getpid();
	case 16: return (uint32_t)syscall(SYS_gettid);
	case 17: return 0x7fffffff;
	case 18: return 0xffffffff;
	default: return 4194303;
	}
}

static uint32_t some_flags(struct worker *w, uint32_t valid)
{
	switch (pick(w, 10)) {
	case 0: return 1U << pick(w, 32);
	case 1: return (uint32_t)rnd64(w);
	case 2: return 0xffffffff;
	case 3: return valid;
	default: return valid & (uint32_t)rnd64(w);
	}
}

static uint32_t some_reserved(struct worker *w)
{
	return pick(w, 12) ? 0 : (pick(w, 2) ? 1U << pick(w, 32) : (uint32_t)rnd64(w));
}

enum ptrkind { P_GOOD, P_MISALIGN, P_STRADDLE, P_NULL, P_LOW, P_GUARD,
	       P_K1, P_K2, P_RO };

static enum ptrkind pick_ptrkind(struct worker *w)
{
	uint32_t v = pick(w, 100);

	if (v < 72)
		return P_GOOD;
	if (v < 80)
		return P_MISALIGN;
	return (enum ptrkind)(P_STRADDLE + (v - 80) % 7);
}

static bool ptr_unmapped(enum ptrkind k)
{
	return k == P_NULL || k == P_LOW || k == P_GUARD || k == P_K1 ||
	       k == P_K2 || k == P_STRADDLE;
}

/* A user pointer of kind @k for @size bytes inside [base, end). */
static uint64_t make_ptr(struct worker *w, enum ptrkind k, uint8_t *base,
			 uint8_t *end, uint32_t size)
{
	switch (k) {
	case P_GOOD: return (uintptr_t)base;
	case P_MISALIGN: return (uintptr_t)base + 1 + pick(w, 7);
	case P_STRADDLE:
		return (uintptr_t)end - (size > 1 ? 1 + pick(w, size - 1) : 0);
	case P_NULL: return 0;
	case P_LOW: return 0x1000;
	case P_GUARD: return (uintptr_t)guard_page + pick(w, 64);
	case P_K1: return 0xffff888000000000ULL;
	case P_K2: return 0xffffffff81000000ULL;
	case P_RO: return (uintptr_t)ro_page;
	}
	return 0;
}

static const uint32_t ver0[NCMD] = {
	CKPT_INFO_SIZE_VER0, CKPT_BEGIN_SIZE_VER0, CKPT_END_SIZE_VER0,
	CKPT_SCAN_SIZE_VER0, CKPT_REGS_SIZE_VER0, CKPT_SIGACTIONS_SIZE_VER0,
	CKPT_THREAD_SIZE_VER0, CKPT_VMAS_SIZE_VER0,
};
static const uint32_t ksz[NCMD] = {
	sizeof(struct ckpt_info), sizeof(struct ckpt_begin),
	sizeof(struct ckpt_end), sizeof(struct ckpt_scan),
	sizeof(struct ckpt_regs), sizeof(struct ckpt_sigactions),
	sizeof(struct ckpt_thread), sizeof(struct ckpt_vmas),
};
static const unsigned int cmds[NCMD] = {
	CKPT_IOC_INFO, CKPT_IOC_BEGIN, CKPT_IOC_END, CKPT_IOC_SCAN, CKPT_IOC_REGS,
	CKPT_IOC_SIGACTIONS, CKPT_IOC_THREAD, CKPT_IOC_VMAS,
};

static bool errno_documented(int c, int e)
{
	static const int info[] = { EINVAL, EFAULT, E2BIG };
	static const int begin[] = { EINVAL, EPERM, EALREADY, EBADF, ENOENT,
		EOPNOTSUPP, ESRCH, EBUSY, EAGAIN, EXDEV, ENOMEM, EFAULT, E2BIG };
	static const int end[] = { EINVAL, ENOENT, EFAULT, E2BIG };
	static const int scan[] = { EINVAL, ENOENT, ENOSPC, EFAULT, EAGAIN,
		EOPNOTSUPP, ENOMEM, EINTR, EBUSY, EXDEV, EPERM, E2BIG };
	static const int regs[] = { EINVAL, ENOENT, ESRCH, EXDEV, EBUSY, EPERM,
		EAGAIN, ENOSPC, EOPNOTSUPP, EFAULT, E2BIG };
	static const int sigact[] = { EINVAL, ENOENT, ESRCH, EXDEV, EBUSY,
		EPERM, EAGAIN, ENOSPC, EOPNOTSUPP, EFAULT, ENOMEM, E2BIG };
	static const int thread[] = { EINVAL, ENOENT, ESRCH, EXDEV, EBUSY,
		EPERM, EAGAIN, EOPNOTSUPP, EFAULT, E2BIG };
	static const int vmas[] = { EINVAL, ENOENT, ESRCH, EXDEV, EBUSY,
		EPERM, EAGAIN, EOPNOTSUPP, ENOSPC, EFAULT, ENOMEM, EINTR, E2BIG };
	static const struct { const int *v; size_t n; } t[NCMD] = {
		{ info, ARRAY_SIZE(info) }, { begin, ARRAY_SIZE(begin) },
		{ end, ARRAY_SIZE(end) }, { scan, ARRAY_SIZE(scan) },
		{ regs, ARRAY_SIZE(regs) }, { sigact, ARRAY_SIZE(sigact) },
		{ thread, ARRAY_SIZE(thread) }, { vmas, ARRAY_SIZE(vmas) },
	};
	size_t i;

	for (i = 0; i < t[c].n; i++)
		if (t[c].v[i] == e)
			return true;
	return false;
}

static uint32_t pick_size(struct worker *w, int c)
{
	switch (pick(w, 40)) {
	case 0: return 0;
	case 1: return ver0[c] - 1;
	case 2: return ver0[c] + 8;
	case 3: return 4096;
	case 4: return 16383;
	case 5: return pick(w, 16384);
	case 6: return ver0[c] + pick(w, 64);
	default: return ver0[c];
	}
}

/* One ioctl call, generated, issued and checked. */
static void one_ioctl(struct worker *w)
{
	static const uint8_t other_types[] = { 0x01, 0x42, 0xb8, 0xba, 0xff };
	uint32_t type = CKPT_IOC_MAGIC, nr, dir, size;
	int c = -1, fd, ret, err, hc;
	enum ptrkind pk = pick_ptrkind(w);
	uint8_t *buf = w->arena;
	size_t room = (size_t)(w->arena_end - w->arena);
	uint64_t uptr;
	bool tail_nonzero = false;
	unsigned int cmd;
	enum ptrkind rk = P_GOOD;
	uint32_t cap = 0;

	if (pick(w, 10)) {			/* a known command */
		static const int8_t mix[20] = { 0, 1, 1, 1, 2, 3, 3, 3, 3, 3,
						4, 4, 4, 4, 4, 1, 5, 5, 6, 6 };

		c = mix[pick(w, 20)];
		nr = _IOC_NR(cmds[c]);
		dir = _IOC_DIR(cmds[c]);
		size = pick_size(w, c);
		if (!pick(w, 30))
			dir = pick(w, 4);
	} else {				/* anything */
		if (!pick(w, 2))
			type = other_types[pick(w, ARRAY_SIZE(other_types))];
		nr = pick(w, 3) ? pick(w, 8) : pick(w, 256);
		dir = pick(w, 4);
		size = pick(w, 2) ? pick_size(w, pick(w, NCMD)) : pick(w, 16384);
	}
	cmd = _IOC(dir, type, nr, size);
	/* Which command does the module see? */
	c = -1;
	if (type == CKPT_IOC_MAGIC)
		for (int i = 0; i < NCMD; i++)
			if (nr == _IOC_NR(cmds[i]) && dir == _IOC_DIR(cmds[i]))
				c = i;
	hc = c < 0 ? NCMD : c;

	/* The argument: the struct, then a tail that is usually zero. */
	memset(buf, 0, size < room ? size : room);
	if (c < 0 || pick(w, 50) == 0) {	/* garbage struct, zero tail */
		for (size_t i = 0; i < (c < 0 ? 64 : ksz[c]) && i < room; i++)
			buf[i] = (uint8_t)rnd64(w);
	} else if (c == 0) {
		struct ckpt_info *in = (void *)buf;

		in->flags = pick(w, 5) ? 0 : some_flags(w, 0);
	} else if (c == 1) {
		struct ckpt_begin *b = (void *)buf;

		if (pick(w, 2)) {	/* a matching cgroup and root */
			uint32_t v = pick(w, 5);

			b->flags = v == 4 ? CKPT_BEGIN_ROOT_PIDFD : 0;
			switch (v) {
			case 0: b->cgroup_fd = cgfds[0]; b->root = ta.root; break;
			case 1: b->cgroup_fd = cgfds[2]; b->root = ta.kids[0]; break;
			case 2:
				b->cgroup_fd = cgfds[3];
				pthread_mutex_lock(&tk_lock);
				b->root = tk.root;
				pthread_mutex_unlock(&tk_lock);
				break;
			case 3: b->cgroup_fd = cgfds[5]; b->root = tf.root; break;
			default: b->cgroup_fd = cgfds[1]; b->root = pidfds[0]; break;
			}
			b->reserved = pick(w, 20) ? 0 : some_reserved(w);
		} else {
			b->flags = pick(w, 3) ? 0 : some_flags(w, CKPT_BEGIN_FLAGS);
			b->cgroup_fd = cgfds[pick(w, ncgfds)];
			if (b->flags == CKPT_BEGIN_ROOT_PIDFD && pick(w, 4))
				b->root = pidfds[pick(w, npidfds)];
			else
				b->root = tree_pid(w);
			b->reserved = some_reserved(w);
		}
	} else if (c == 2) {
		struct ckpt_end *e = (void *)buf;

		e->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		e->reserved = some_reserved(w);
	} else if (c == 3) {
		struct ckpt_scan *s = (void *)buf;
		static const uint32_t caps[] = { 0, 1, 2, 3, 8, 100, 1000, 1638,
						 5000, 0x7fffffff, 0xffffffff };

		s->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		s->capacity = cap = caps[pick(w, ARRAY_SIZE(caps))];
		rk = pick(w, 4) ? P_GOOD : pick_ptrkind(w);
		s->records = make_ptr(w, rk, w->recs, w->recs_end,
				      cap > 100 ? 4000 : cap * 40);
		if (rk == P_GOOD && pick(w, 4) == 0)	/* room for 2 records */
			s->records = (uintptr_t)w->recs_end - 80;
		s->count = (uint32_t)rnd64(w);
		s->reserved = some_reserved(w);
	} else if (c == 4) {
		struct ckpt_regs *r = (void *)buf;
		static const uint32_t sizes[] = { 0, 1, 512, 576, 4096,
						  XS_PAGES * 4096, 0xffffffff };

		switch (pick(w, 6)) {
		case 0: r->flags = CKPT_REGS_GP; break;
		case 1: r->flags = CKPT_REGS_XSTATE; break;
		case 2: r->flags = CKPT_REGS_FLAGS; break;
		default: r->flags = some_flags(w, CKPT_REGS_FLAGS);
		}
		r->tid = tree_pid(w);
		r->xstate_size = pick(w, 3) ? xstate_size :
				 sizes[pick(w, ARRAY_SIZE(sizes))];
		r->xstate = make_ptr(w, pick(w, 3) ? P_GOOD : pick_ptrkind(w),
				     w->xs, w->xs_end, r->xstate_size);
		r->reserved = some_reserved(w);
	} else if (c == 5) {
		struct ckpt_sigactions *a = (void *)buf;
		static const uint32_t counts[] = { 0, 1, 63, 64, 65, 128,
						   0x7fffffff, 0xffffffff };

		a->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		a->tid = tree_pid(w);
		a->count = pick(w, 3) ? CKPT_SIGACTIONS_NR :
			   counts[pick(w, ARRAY_SIZE(counts))];
		/* w->xs holds 4 pages: room for 64 entries (2 KiB) */
		a->actions = make_ptr(w, pick(w, 3) ? P_GOOD : pick_ptrkind(w),
				      w->xs, w->xs_end,
				      CKPT_SIGACTIONS_NR * CKPT_SIGACTION_SIZE);
		if (!pick(w, 8))	/* room for 63 entries only */
			a->actions = (uintptr_t)w->xs_end -
				     63 * CKPT_SIGACTION_SIZE;
		a->reserved = some_reserved(w);
	} else if (c == 6) {
		struct ckpt_thread *t = (void *)buf;

		t->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		t->tid = tree_pid(w);
		t->reserved = some_reserved(w);
		if (!pick(w, 4))	/* out fields: ignored on input */
			t->blocked = rnd64(w);
	} else if (c == 7) {
		struct ckpt_vmas *v = (void *)buf;
		static const uint32_t counts[] = { 0, 1, 2, 16, 255, 256, 257,
						   0x7fffffff, 0xffffffff };

		v->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		v->pid = tree_pid(w);
		/* w->xs holds 4 pages: room for 256 entries */
		v->count = cap = pick(w, 3) ? 256 : counts[pick(w, ARRAY_SIZE(counts))];
		v->vmas = make_ptr(w, pick(w, 3) ? P_GOOD : pick_ptrkind(w),
				   w->xs, w->xs_end, 256 * CKPT_VMA_SIZE);
		if (!pick(w, 8))	/* room for 3 entries only */
			v->vmas = (uintptr_t)w->xs_end - 3 * CKPT_VMA_SIZE;
		v->reserved = some_reserved(w);
	}
	if (c >= 0 && size > ksz[c] && size <= room && !pick(w, 6) &&
	    (pk == P_GOOD || pk == P_MISALIGN)) {
		buf[ksz[c] + pick(w, size - ksz[c])] = 1 + pick(w, 255);
		tail_nonzero = true;
	}
	if (pk == P_STRADDLE && size <= room && size > 1) {
		/* Move the struct so that it ends in the guard page. */
		uint32_t cut = 1 + pick(w, size - 1);

		memmove(w->arena_end - (size - cut), buf, size - cut);
		uptr = (uintptr_t)(w->arena_end - (size - cut));
	} else if (pk == P_STRADDLE) {
		pk = P_GOOD;
		uptr = (uintptr_t)buf;
	} else if (pk == P_MISALIGN) {
		uint32_t off = 1 + pick(w, 7);

		if (size + off <= room) {
			memmove(buf + off, buf, size);
			uptr = (uintptr_t)buf + off;
		} else {
			pk = P_GOOD;
			uptr = (uintptr_t)buf;
		}
	} else {
		uptr = make_ptr(w, pk, buf, w->arena_end, size);
	}
	if (size > room && (pk == P_GOOD || pk == P_MISALIGN))
		pk = P_STRADDLE;	/* runs into the guard page */

	fd = slots[pick(w, NSLOT)];
	w->hash = (w->hash ^ cmd) * 0x100000001b3ULL;
	errno = 0;
	ret = ioctl(fd, cmd, (unsigned long)uptr);
	err = ret < 0 ? errno : 0;
	__atomic_fetch_add(&sh->calls, 1, __ATOMIC_RELAXED);
	w->ncalls++;
	__atomic_fetch_add(&sh->hist[hc][err < MAXERR ? err : 0], 1,
			   __ATOMIC_RELAXED);

#define CMDFMT "cmd %#x (%s nr %u dir %u size %u) ptr %#llx kind %d: "
#define CMDARGS cmd, cmd_names[hc], nr, dir, size, (unsigned long long)uptr, pk
	if (ret != 0 && ret != -1) {
		check(false, CMDFMT "returned %d", CMDARGS, ret);
		return;
	}
	if (c < 0) {
		check(ret == -1 && err == ENOTTY, CMDFMT "expected ENOTTY, got %s",
		      CMDARGS, fz_errname(err));
		return;
	}
	if (size < ver0[c]) {
		check(ret == -1 && err == EINVAL, CMDFMT "short size: expected EINVAL, got %s",
		      CMDARGS, fz_errname(err));
		return;
	}
	if (ptr_unmapped(pk)) {
		check(ret == -1 && err == EFAULT, CMDFMT "bad pointer: expected EFAULT, got %s",
		      CMDARGS, fz_errname(err));
		return;
	}
	if (tail_nonzero) {
		check(ret == -1 && err == E2BIG, CMDFMT "nonzero tail: expected E2BIG, got %s",
		      CMDARGS, fz_errname(err));
		return;
	}
	if (ret == -1 && !errno_documented(c, err)) {
		check(false, CMDFMT "undocumented errno %s", CMDARGS, fz_errname(err));
		return;
	}
	if (pk == P_RO && (_IOC_DIR(cmds[c]) & _IOC_READ) && ret == 0) {
		check(false, CMDFMT "copy-back to a read-only page succeeded", CMDARGS);
		return;
	}
	if (pk != P_GOOD && pk != P_MISALIGN) {
		check(true, "ok");
		return;
	}
	/* Coherence of what came back. */
	if (c == 0 && ret == 0) {
		struct ckpt_info in;

		memcpy(&in, (void *)(uintptr_t)uptr, sizeof(in));
		check(in.abi_version == CKPT_ABI_VERSION &&
		      in.task_record_size == sizeof(struct ckpt_task) &&
		      in.begin_flags == CKPT_BEGIN_FLAGS &&
		      in.regs_flags == CKPT_REGS_FLAGS &&
		      (size < CKPT_INFO_SIZE_VER1 ||
		       (in.commands == 0xff && in.sigactions_flags == 0 &&
			in.thread_flags == 0)),
		      CMDFMT "INFO: abi %u rec %u", CMDARGS, in.abi_version,
		      in.task_record_size);
		return;
	}
	if (c == 5) {
		struct ckpt_sigactions a;

		memcpy(&a, (void *)(uintptr_t)uptr, sizeof(a));
		check(ret == 0 ? a.count == CKPT_SIGACTIONS_NR :
		      err == ENOSPC ? a.count == CKPT_SIGACTIONS_NR : a.count == 0,
		      CMDFMT "SIGACTIONS %s: count %u", CMDARGS, fz_errname(err),
		      a.count);
		return;
	}
	if (c == 7) {
		struct ckpt_vmas v;

		memcpy(&v, (void *)(uintptr_t)uptr, sizeof(v));
		/* Written: 1..capacity (a process has VMAs); ENOSPC: the
		 * number needed, more than the capacity; else 0. */
		check(ret == 0 ? v.count > 0 && v.count <= cap :
		      err == ENOSPC ? v.count > cap : v.count == 0,
		      CMDFMT "VMAS %s: count %u cap %u", CMDARGS, fz_errname(err),
		      v.count, cap);
		return;
	}
	if (c == 6) {
		struct ckpt_thread t;

		memcpy(&t, (void *)(uintptr_t)uptr, sizeof(t));
		/* Failed: every out field is 0 (some inputs set blocked). */
		check(ret == 0 ? t.robust_list_len == 24 && t.reserved == 0 &&
		      !(t.state & ~(CKPT_THREAD_RESTORE_SIGMASK | CKPT_THREAD_SIGTIMEDWAIT)) :
		      t.robust_list_len == 0 && t.blocked == 0 && t.state == 0,
		      CMDFMT "THREAD: robust_list_len %llu state %#x", CMDARGS,
		      (unsigned long long)t.robust_list_len, t.state);
		return;
	}
	if (c == 3) {
		struct ckpt_scan s;
		bool ok = true;

		memcpy(&s, (void *)(uintptr_t)uptr, sizeof(s));
		if (ret == 0) {
			ok = s.count <= cap;
			if (ok && s.count && rk == P_GOOD &&
			    s.records == (uintptr_t)w->recs)
				ok = ((struct ckpt_task *)w->recs)[0].flags &
				     CKPT_TASK_ROOT;
		} else if (err == ENOSPC) {
			ok = s.count > cap;
		} else if (err == EBUSY) {
			ok = s.err_reason == CKPT_SCAN_ERR_NOT_FROZEN ||
			     s.err_reason == CKPT_SCAN_ERR_PTRACED;
		} else if (err == EXDEV) {
			ok = s.err_reason == CKPT_SCAN_ERR_CGROUP;
		} else if (err == EPERM) {
			ok = s.err_reason == CKPT_SCAN_ERR_ACCESS;
		} else if (err == EAGAIN) {
			ok = s.err_reason == CKPT_SCAN_ERR_DEAD ||
			     s.err_reason == CKPT_SCAN_ERR_UNSTABLE;
		}
		check(ok, CMDFMT "SCAN %s: count %u cap %u err_pid %u reason %s",
		      CMDARGS, fz_errname(err), s.count, cap, s.err_pid,
		      ckpt_scan_err_name(s.err_reason));
		return;
	}
	check(true, "ok");
}

static void one_op(struct worker *w)
{
	uint32_t v = pick(w, 1000);
	int i = pick(w, NSLOT), j = pick(w, NSLOT), nfd;

	if (v < 30) {				/* close + reopen a slot */
		nfd = ckpt_dev_open();
		check(nfd >= 0, "open /dev/ckpt: %s", fz_errname(errno));
		if (nfd >= 0) {
			dup3(nfd, slots[i], O_CLOEXEC);
			close(nfd);
		}
		__atomic_fetch_add(&sh->other_ops, 1, __ATOMIC_RELAXED);
	} else if (v < 45) {			/* share one file between slots */
		if (i != j)
			dup3(slots[j], slots[i], O_CLOEXEC);
		__atomic_fetch_add(&sh->other_ops, 1, __ATOMIC_RELAXED);
	} else if (v < 46) {			/* try to unload the module */
		int r = fz_delete_module(), e = errno;

		check(r == -1 && (e == EWOULDBLOCK || e == EBUSY),
		      "delete_module(ckpt) with open fds: %d/%s", r, fz_errname(e));
		__atomic_fetch_add(&sh->other_ops, 1, __ATOMIC_RELAXED);
		if (r == 0) {
			out("ckpt-fuzz: the module unloaded under open fds: stopping\n");
			sh->stop = 1;
		}
	} else {
		one_ioctl(w);
	}
}

static void worker_setup(struct worker *w, int id)
{
	size_t len = (ARENA_PAGES + 1 + REC_PAGES + 1 + XS_PAGES + 1) * page;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	w->id = id;
	fz_rng_seed(&w->rng, seed, id);
	w->hash = 0xcbf29ce484222325ULL;
	w->arena = m;
	w->arena_end = m + ARENA_PAGES * page;
	mprotect(w->arena_end, page, PROT_NONE);
	w->recs = w->arena_end + page;
	w->recs_end = w->recs + REC_PAGES * page;
	mprotect(w->recs_end, page, PROT_NONE);
	w->xs = w->recs_end + page;
	w->xs_end = w->xs + XS_PAGES * page;
	mprotect(w->xs_end, page, PROT_NONE);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&sh->calls, __ATOMIC_RELAXED) < max_calls)
		one_op(w);
	return NULL;
}

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

static void *procs_main(void *arg)
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

static void *killer_main(void *arg)
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

static void *writer_main(void *arg)
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
			ret = ckpt_cg_write(&cg_a, "cgroup.freeze", "0");
			e = errno;
			if (!ret)
				check(fz_cg_freeze(&cg_a, 20000) == 0,
				      "refreeze a: %s", fz_errname(errno));
			errno = e;
			break;
		case 4:
			ret = ckpt_cg_write(&cg_f, "freezer.state", "THAWED");
			e = errno;
			if (!ret)
				check(fz_cg_freeze(&cg_f, 20000) == 0,
				      "refreeze f: %s", fz_errname(errno));
			errno = e;
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

static void *reaper_main(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		fz_reap();
		ckpt_sleep_ms(5);
	}
	return NULL;
}

/* ---- setup and end checks ------------------------------------------------ */

static void die(const char *what)
{
	out("ckpt-fuzz: setup failed: %s: %s\n", what, fz_errname(errno));
	out("ckpt-fuzz: 0 passed, 1 failed\n");
	exit(1);
}

static void setup(void)
{
	struct ckpt_info info;

	if (fz_cg_make(&cg_top, false, "ckpt-fuzz"))
		die("mkdir v2 ckpt-fuzz");
	if (ckpt_cg_mkdir(&cg_a, &cg_top, "a") || ckpt_cg_mkdir(&cg_k, &cg_top, "k") ||
	    ckpt_cg_mkdir(&cg_t, &cg_top, "t"))
		die("mkdir v2 children");
	if (fz_cg_make(&cg_ftop, true, "ckpt-fuzz") ||
	    ckpt_cg_mkdir(&cg_f, &cg_ftop, "f"))
		die("mkdir v1 freezer cgroups");
	if (fz_tree_spawn(&cg_a, 4, 2, &ta) || fz_tree_spawn(&cg_k, 6, 1, &tk) ||
	    fz_tree_spawn(&cg_t, 2, 0, &tt) || fz_tree_spawn(&cg_f, 3, 1, &tf))
		die("spawn trees");
	if (fz_cg_freeze(&cg_a, 30000) || fz_cg_freeze(&cg_k, 30000) ||
	    fz_cg_freeze(&cg_f, 30000))
		die("freeze");

	for (int i = 0; i < NSLOT; i++) {
		slots[i] = ckpt_dev_open();
		if (slots[i] < 0)
			die("open /dev/ckpt");
	}
	if (ckpt_ioc_info(slots[0], &info))
		die("CKPT_IOC_INFO");
	xstate_size = info.xstate_size;

	/* cgroup fds: real and bogus */
	cgfds[ncgfds++] = ckpt_cg_open(&cg_a);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_a);
	cgfds[ncgfds++] = open(cg_a.path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_k);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_k);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_f);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_f);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_t);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_top);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_ftop);
	cgfds[ncgfds++] = open(ckpt_cgroup2_mount(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cgfds[ncgfds++] = open("/proc/version", O_RDONLY | O_CLOEXEC);
	cgfds[ncgfds++] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	{
		char p[PATH_MAX];

		if (ckpt_cg_file(&cg_a, "cgroup.procs", p, sizeof(p)))
			die("path");
		cgfds[ncgfds++] = open(p, O_RDONLY | O_CLOEXEC);
	}
	cgfds[ncgfds++] = slots[0];
	cgfds[ncgfds++] = 1000;		/* a closed fd number */
	cgfds[ncgfds++] = -1;
	cgfds[ncgfds++] = 0x7fffffff;
	cgfds[ncgfds++] = 0;
	for (int i = 0; i < ncgfds; i++)
		if (cgfds[i] < 0 && i < 14)
			die("open a cgroup fd");
	close(1000);

	pidfds[npidfds++] = ckpt_pidfd_open(ta.root, 0);
	pidfds[npidfds++] = ckpt_pidfd_open(ta.root, 0);
	pidfds[npidfds++] = ckpt_pidfd_open(tf.root, 0);
	pidfds[npidfds++] = ckpt_pidfd_open(tk.root, 0);	/* goes stale */
	pidfds[npidfds++] = ckpt_pidfd_open(ta.kids[0], 0);
	pidfds[npidfds++] = cgfds[11];		/* a regular file */
	pidfds[npidfds++] = cgfds[0];		/* a cgroup dir */
	pidfds[npidfds++] = 1000;
	pidfds[npidfds++] = -1;
	for (int i = 0; i < 5; i++)
		if (pidfds[i] < 0)
			die("pidfd_open");

	page = sysconf(_SC_PAGESIZE);
	ro_page = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro_page == MAP_FAILED)
		die("mmap");
	memset(ro_page, 0, page);
	mprotect(ro_page, page, PROT_READ);
	guard_page = ro_page + page;
	mprotect(guard_page, page, PROT_NONE);
}

/* BEGIN + SCAN + END on @cg with @root must work on a fresh fd. */
static void end_check_session(const struct ckpt_cg *cg, pid_t root)
{
	int fd = ckpt_dev_open(), cgfd = ckpt_cg_open(cg), r = -1;
	uint64_t deadline = ckpt_now_ms() + 20000;
	struct ckpt_task *recs = NULL;
	uint32_t n = 0;

	for (;;) {
		r = ckpt_ioc_begin(fd, cgfd, root, 0);
		if (!r || errno != EAGAIN || ckpt_now_ms() > deadline)
			break;
		ckpt_sleep_ms(10);
	}
	check(r == 0, "end: BEGIN on %s: %s", cg->path, fz_errname(errno));
	if (!r) {
		r = ckpt_scan_all(fd, &recs, &n, NULL);
		check(r == 0 && n >= 1, "end: SCAN on %s: %s", cg->path,
		      fz_errname(errno));
		free(recs);
		check(ckpt_ioc_end(fd) == 0, "end: END on %s: %s", cg->path,
		      fz_errname(errno));
	}
	close(fd);
	close(cgfd);
}

static void end_checks(void)
{
	char buf[64];

	char num[24];

	for (int i = 0; i < NSLOT; i++)
		close(slots[i]);
	snprintf(num, sizeof(num), "%d", ta.kids[2]);
	check(ckpt_cg_write(&cg_a, "cgroup.procs", num) == 0,
	      "end: move %s back into a: %s", num, fz_errname(errno));
	/* v1: not left CHECKPOINTING, and it refreezes */
	check(ckpt_cg_read(&cg_f, "freezer.state", buf, sizeof(buf)) > 0 &&
	      !strstr(buf, "CHECKPOINTING"),
	      "end: v1 freezer.state reads %s", buf);
	check(ckpt_cg_freeze(&cg_f, 20000) == 0 &&
	      ckpt_cg_read(&cg_f, "freezer.state", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "FROZEN\n"),
	      "end: v1 refreeze: %s, state %s", fz_errname(errno), buf);
	/* v2: writes work (no EBUSY), and the cgroups are frozen */
	check(ckpt_cg_write(&cg_a, "cgroup.freeze", "1") == 0,
	      "end: write a/cgroup.freeze: %s", fz_errname(errno));
	check(ckpt_cg_write(&cg_k, "cgroup.freeze", "1") == 0,
	      "end: write k/cgroup.freeze: %s", fz_errname(errno));
	check(ckpt_cg_freeze(&cg_a, 20000) == 0, "end: a frozen: %s",
	      fz_errname(errno));
	end_check_session(&cg_a, ta.root);
	end_check_session(&cg_f, tf.root);
}

static void print_summary(uint64_t hash)
{
	out("ckpt-fuzz: %llu ioctl calls, %llu other ops (reopen/dup/unload), seed %llu\n",
	    (unsigned long long)sh->calls, (unsigned long long)sh->other_ops,
	    (unsigned long long)seed);
	if (nthreads == 1 && nprocs == 0)
		out("ckpt-fuzz: call sequence hash %016llx\n",
		    (unsigned long long)hash);
	for (int c = 0; c < NHIST; c++) {
		char line[1024];
		int n = snprintf(line, sizeof(line), "ckpt-fuzz:   %-6s", cmd_names[c]);

		for (int e = 0; e < MAXERR; e++)
			if (sh->hist[c][e] && n < (int)sizeof(line) - 40)
				n += snprintf(line + n, sizeof(line) - n, " %s=%llu",
					      fz_errname(e),
					      (unsigned long long)sh->hist[c][e]);
		out("%s\n", line);
	}
}

int main(int argc, char **argv)
{
	pthread_t th[64], bg[4];
	struct worker *ws;
	int nbg = 0;
	bool have_seed = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--seed") && v) {
			seed = strtoull(v, NULL, 0);
			have_seed = true;
			i++;
		} else if (!strcmp(a, "--calls") && v) {
			max_calls = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--threads") && v) {
			nthreads = atoi(v);
			i++;
		} else if (!strcmp(a, "--procs") && v) {
			nprocs = atoi(v);
			i++;
		} else if (!strcmp(a, "--unload")) {
			do_unload = 1;
		} else {
			fprintf(stderr, "usage: %s [--seed N] [--calls N] [--threads N] "
				"[--procs N] [--unload]\n", argv[0]);
			return 2;
		}
	}
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 64)
		nthreads = 64;
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec * 1000003ULL) ^ (uint64_t)ts.tv_nsec ^
		       ((uint64_t)getpid() << 32);
		seed &= 0xffffffffffffULL;
	}
	out("ckpt-fuzz: seed %llu (replay: --seed %llu --calls %llu --threads %d --procs %d)\n",
	    (unsigned long long)seed, (unsigned long long)seed,
	    (unsigned long long)max_calls, nthreads, nprocs);

	page = sysconf(_SC_PAGESIZE);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setup();

	uint64_t t0 = ckpt_now_ms();

	pthread_create(&bg[nbg++], NULL, reaper_main, NULL);
	if (nthreads > 1) {
		pthread_create(&bg[nbg++], NULL, killer_main, NULL);
		pthread_create(&bg[nbg++], NULL, writer_main, NULL);
	}
	if (nprocs > 0)
		pthread_create(&bg[nbg++], NULL, procs_main, NULL);

	ws = calloc(nthreads, sizeof(*ws));
	for (int i = 0; i < nthreads; i++)
		worker_setup(&ws[i], i);
	for (int i = 1; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker_main, &ws[i]);
	worker_main(&ws[0]);
	for (int i = 1; i < nthreads; i++)
		pthread_join(th[i], NULL);
	/* background threads stop on the call count; the reaper on stop */
	for (int i = 1; i < nbg; i++)
		pthread_join(bg[i], NULL);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(bg[0], NULL);
	fz_reap();
	out("ckpt-fuzz: %llu calls in %llu ms\n", (unsigned long long)sh->calls,
	    (unsigned long long)(ckpt_now_ms() - t0));

	end_checks();

	/* tear down the workloads */
	fz_cg_empty(&cg_a, 5000);
	fz_cg_empty(&cg_k, 5000);
	fz_cg_empty(&cg_t, 5000);
	fz_cg_empty(&cg_f, 5000);
	fz_reap();
	for (int i = 0; i < ncgfds; i++)
		if (i != 14 && cgfds[i] > 2 && cgfds[i] != 1000 && cgfds[i] != 0x7fffffff)
			close(cgfds[i]);
	for (int i = 0; i < 5; i++)
		close(pidfds[i]);
	ckpt_cg_destroy(&cg_top, 10000);
	ckpt_cg_destroy(&cg_ftop, 10000);
	if (do_unload) {
		int r = fz_delete_module();

		check(r == 0, "end: delete_module(ckpt) with every fd closed: %s",
		      fz_errname(errno));
	}
	print_summary(ws[0].hash);
	if (sh->failed)
		out("ckpt-fuzz: first failure: %s\n", sh->first_fail);
	out("ckpt-fuzz: %llu passed, %llu failed\n",
	    (unsigned long long)sh->passed, (unsigned long long)sh->failed);
	return sh->failed ? 1 : 0;
}
