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
 * PAGES writes only into this run's scratch files: each worker's own file on
 * a 16 MiB tmpfs mounted for the run (opened read-write, write-only,
 * read-only, O_APPEND and O_DIRECT), or an fd that is not a regular file or
 * not open (a pipe, a directory, /dev/ckpt, closed numbers); a garbage
 * struct gets one of those too.  Its ranges point into the fuzzer's own
 * memory (which the workload trees share as forks: its text, the shared
 * stats page), into memory that is not mapped, or are malformed; its target
 * is a pid, or with CKPT_PAGES_PIDFD a pidfd (of the fuzzer, of the trees)
 * or an fd that is none.  The struct is passed at its VER0 size (32: no
 * @hash), at its VER1 size (40) and at other sizes (33..39 pass only the
 * low bytes of @hash).  With CKPT_PAGES_XXH64 and/or a @hash, the state it
 * points to (in a page of the worker's own, before a guard page) starts a
 * new hash, continues the worker's chain (the state the last successful
 * hashed call stored), or is an arbitrary valid state, a state with a bad
 * len, or it is NULL, read-only (the copy back fails), unmapped or straddles
 * the guard page.
 *
 * Checked ("invariant checks", counted in the summary line):
 *   - every ioctl returns 0 or -1 with an errno documented for it in
 *     Documentation/abi.md; where the result is certain (unknown command,
 *     short size, bad pointer, nonzero tail) the exact errno;
 *   - INFO and SCAN results are coherent (abi_version, count vs capacity,
 *     err_reason matching the errno, the root record first);
 *   - PAGES, in abi.md's order: the argument rules give EINVAL (EFAULT for
 *     an unreadable ranges array); then EBADF or EINVAL for a bad fd,
 *     EBADF for a pidfd that is none; on the fuzzer itself, EFAULT for
 *     unmapped memory, otherwise success (or ENOSPC from the scratch file
 *     system), and then the file holds exactly the pages; the argument is
 *     never written back;
 *   - PAGES' hash state (CKPT_PAGES_XXH64), between the ranges and the fd
 *     checks as ckpt_pages() orders them: the flag without @hash or @hash
 *     without the flag EINVAL, an unreadable state EFAULT, a len that is
 *     not a multiple of 32 EINVAL; then an fd not open for reading EBADF;
 *     a state that cannot be written back EFAULT after the write.  A failed
 *     call leaves the state as it was.  A successful hashed call (any
 *     target) stored len = len in + bytes written and the XXH64 (libxxhash,
 *     seed 0) of what the scratch file holds (pread): the one-shot XXH64 of
 *     the written range for a new hash, of the concatenation of everything
 *     the chain wrote for a continued one, and for every state (arbitrary
 *     ones too) the len, accumulators and digest libxxhash reaches from
 *     the state passed in;
 *   - INFO at VER2 size: vmas_flags 0, pages_flags what setup read (with
 *     CKPT_PAGES_PIDFD, within CKPT_PAGES_FLAGS);
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
#include <stddef.h>
#include <sys/mount.h>
#define XXH_STATIC_LINKING_ONLY		/* XXH64_state_t: continue a state */
#include <xxhash.h>
#include "fz-common.h"

/* The reference continues the module's state in libxxhash's own. */
_Static_assert(offsetof(XXH64_state_t, total_len) == 0 &&
	       offsetof(XXH64_state_t, v) == 8 &&
	       sizeof(((XXH64_state_t *)0)->v) == 32,
	       "libxxhash's XXH64_state_t is not {total_len, v[4], ...}");

#define NSLOT		12
#define NCMD		9	/* INFO BEGIN END SCAN REGS SIGACTIONS THREAD VMAS PAGES */
#define C_PAGES		8
#define NHIST		(NCMD + 1)	/* and unknown */
#define MAXERR		134
#define ARENA_PAGES	5	/* RW, then one guard page */
#define REC_PAGES	16
#define XS_PAGES	4
#define SRC_PAGES	4	/* PAGES' source: a pattern, never written */
#define PAGES_VERIFY_MAX (256 * 1024)	/* check the file after smaller calls */
#define HS_PAGES	1	/* PAGES' hash states, then a guard */
#define CHAIN_MAX	(1024 * 1024)	/* bytes a hash chain keeps, at most */
#define HSZ		((uint32_t)sizeof(struct ckpt_pages_xxh64))

static const char *const cmd_names[NHIST] = {
	"INFO", "BEGIN", "END", "SCAN", "REGS", "SIGACT", "THREAD", "VMAS", "PAGES",
	"other"
};

struct shared {
	uint64_t calls;
	uint64_t passed, failed;
	uint64_t hist[NHIST][MAXERR];
	uint64_t other_ops;
	/* PAGES with CKPT_PAGES_XXH64 that succeeded and were checked */
	uint64_t hashed, hashed_new, hashed_chain, hashed_arb, hashed_bytes;
	uint64_t hash_refused;	/* refused for the hash state or the fd, as predicted */
	uint64_t chain_max;	/* the longest chain (calls) */
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
/* PAGES' scratch file system and fds that are not regular files */
static char scratch_dir[64];
static int scratch_mounted, pipe_fds[2] = { -1, -1 }, scratch_dirfd = -1;
static int self_pidfd = -1;		/* a pidfd of the fuzzer process */
static pid_t fuzzer_pid;
static uint64_t pages_offered;		/* CKPT_IOC_INFO's pages_flags */

struct worker {
	struct fz_rng rng;
	int id;
	uint8_t *arena, *arena_end;	/* RW pages, guard follows */
	uint8_t *recs, *recs_end;
	uint8_t *xs, *xs_end;
	uint8_t *src;			/* SRC_PAGES of pattern, then a guard */
	int sfd, sfd_wo, sfd_ro, sfd_app;	/* own scratch file: RW, WRONLY,
						 * RDONLY, WRONLY|APPEND */
	int sfd_direct;			/* WRONLY|O_DIRECT, or -1 (6.1's tmpfs) */
	uint8_t *hs, *hs_end;		/* PAGES' hash states; guard follows */
	/* The chain: the state the last successful hashed call stored, and
	 * the bytes (as the file held them then) it covers. */
	bool chain_ok;
	struct ckpt_pages_xxh64 chain_st;
	uint8_t *chain_buf;		/* CHAIN_MAX */
	size_t chain_len;
	uint64_t chain_calls;
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
	CKPT_THREAD_SIZE_VER0, CKPT_VMAS_SIZE_VER0, CKPT_PAGES_SIZE_VER0,
};
static const uint32_t ksz[NCMD] = {
	sizeof(struct ckpt_info), sizeof(struct ckpt_begin),
	sizeof(struct ckpt_end), sizeof(struct ckpt_scan),
	sizeof(struct ckpt_regs), sizeof(struct ckpt_sigactions),
	sizeof(struct ckpt_thread), sizeof(struct ckpt_vmas),
	sizeof(struct ckpt_pages),
};
static const unsigned int cmds[NCMD] = {
	CKPT_IOC_INFO, CKPT_IOC_BEGIN, CKPT_IOC_END, CKPT_IOC_SCAN, CKPT_IOC_REGS,
	CKPT_IOC_SIGACTIONS, CKPT_IOC_THREAD, CKPT_IOC_VMAS, CKPT_IOC_PAGES,
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
	/* ENOSPC, EFBIG, EIO: from the (tmpfs) scratch file system */
	static const int pages[] = { EINVAL, E2BIG, EFAULT, EBADF, ESRCH,
		EOPNOTSUPP, EAGAIN, EPERM, EINTR, ENOSPC, EFBIG, EIO, ENOMEM };
	static const struct { const int *v; size_t n; } t[NCMD] = {
		{ info, ARRAY_SIZE(info) }, { begin, ARRAY_SIZE(begin) },
		{ end, ARRAY_SIZE(end) }, { scan, ARRAY_SIZE(scan) },
		{ regs, ARRAY_SIZE(regs) }, { sigact, ARRAY_SIZE(sigact) },
		{ thread, ARRAY_SIZE(thread) }, { vmas, ARRAY_SIZE(vmas) },
		{ pages, ARRAY_SIZE(pages) },
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
	case 7: return ksz[c];	/* this header's size (INFO: VER2) */
	default:		/* PAGES: VER1 (2/3) or VER0 (no @hash) */
		return c == C_PAGES && pick(w, 3) ? ksz[c] : ver0[c];
	}
}

/* ---- PAGES ------------------------------------------------------------------ */

enum { RK_SRC, RK_TEXT, RK_GUARD, RK_SHM, RK_UNMAPPED, RK_BIG, RK_BAD, RK_NKIND };
enum { FD_GOOD, FD_EBADF, FD_EINVAL };

#define UNMAPPED_BASE	0x200000000000ULL	/* nothing of ours is there */
#define GIB		(1ULL << 30)

/* What a generated PAGES argument is, for the checks after the call. */
struct pgen {
	bool garbage;		/* random bytes: only the documented errnos */
	bool scalar_bad;	/* flags, count or offset breaks a rule */
	bool ranges_unreadable;	/* the array cannot be read at all */
	bool ranges_partial;	/* only its first entries can be read */
	bool entry_bad;		/* a readable entry breaks a rule */
	bool unmapped;		/* a readable entry is not mapped in the fuzzer */
	bool shm;		/* a readable entry is the (changing) stats page */
	bool self;		/* pid names the fuzzer (process or thread) */
	bool huge_off;		/* offset at or past the largest file offset */
	bool pidfd_bad;		/* CKPT_PAGES_PIDFD with an fd that is none */
	int fdk;
	/* The hash state, as the module sees it (only the first @size bytes
	 * of the struct: a short one passes a part of @hash, or none). */
	uint64_t hash_ptr;	/* @hash as the module sees it */
	int hash_err;		/* what the flag, @hash and the state give */
	int hash_acc;		/* HA_*: the memory at hash_ptr */
	int hash_kind;		/* HK_*: what was generated */
	bool hashing;		/* the module hashes (flag and a usable state) */
	struct ckpt_pages_xxh64 hs_before;	/* the state passed (HA_RW/RO) */
	uint64_t total;		/* of the readable entries, saturated */
	uint8_t before[sizeof(struct ckpt_pages)];	/* the argument as passed */
};

static uint8_t src_byte(size_t i)
{
	return (uint8_t)(i * 13 + 7 + (i >> 12) * 3);
}

/* A page of the fuzzer's text: the same in every fork of it. */
static uintptr_t text_page(void)
{
	return (uintptr_t)text_page & ~(uintptr_t)(page - 1);
}

static void pages_entry(struct worker *w, int kind, struct ckpt_page_range *r)
{
	static const uint64_t big[] = { 256ULL << 20, 768ULL << 20, GIB, GIB + 4096 };
	uint32_t i;

	switch (kind) {
	case RK_SRC:
		i = pick(w, SRC_PAGES);
		r->start = (uintptr_t)w->src + i * page;
		r->len = (1 + pick(w, SRC_PAGES - i)) * page;
		break;
	case RK_TEXT:
		r->start = text_page();
		r->len = page;
		break;
	case RK_GUARD:		/* PROT_NONE, never touched: zeros */
		r->start = (uintptr_t)guard_page;
		r->len = page;
		break;
	case RK_SHM:
		r->start = (uintptr_t)sh;
		r->len = page;
		break;
	case RK_UNMAPPED:
		r->start = UNMAPPED_BASE + pick(w, 1024) * page;
		r->len = (1 + pick(w, 4)) * page;
		break;
	case RK_BIG:
		r->start = UNMAPPED_BASE;
		r->len = big[pick(w, ARRAY_SIZE(big))];
		break;
	default:		/* breaks a rule */
		switch (pick(w, 9)) {
		case 0: r->start = (uintptr_t)w->src + 1 + pick(w, page - 1); r->len = page; break;
		case 1: r->start = (uintptr_t)w->src; r->len = 1 + pick(w, page - 1); break;
		case 2: r->start = (uintptr_t)w->src; r->len = 0; break;
		case 3: r->start = (uintptr_t)w->src; r->len = 0 - (uint64_t)page; break;
		case 4: r->start = 0xffff888000000000ULL; r->len = page; break;
		case 5: r->start = 0xffffffffff600000ULL; r->len = page; break;
		case 6: r->start = 1ULL << 57; r->len = page; break;
		case 7: r->start = (uintptr_t)w->src; r->len = page + 1 + pick(w, page - 1); break;
		default: r->start = rnd64(w) | 1; r->len = rnd64(w); break;
		}
	}
}

/* Account one readable entry. */
static void pages_account(struct pgen *g, const struct ckpt_page_range *r)
{
	/* Every good range generated lies below 2^47; every bad one is
	 * unaligned, empty, wraps or lies above 2^56. */
	if ((r->start | r->len) & (page - 1) || !r->len ||
	    r->start + r->len < r->start || r->start + r->len > (1ULL << 47))
		g->entry_bad = true;
	if (r->start >= UNMAPPED_BASE && r->start < UNMAPPED_BASE + (4ULL << 30))
		g->unmapped = true;
	if (r->start == (uintptr_t)sh)
		g->shm = true;
	g->total = g->total + r->len < g->total ? UINT64_MAX : g->total + r->len;
}

/* The memory a hash state pointer names, for HSZ bytes. */
enum { HA_NONE, HA_RW, HA_RO, HA_UNKNOWN };
/* What gen_pages_hash() generated. */
enum { HK_OFF, HK_NEW, HK_CHAIN, HK_ARB, HK_BADLEN, HK_NOPTR, HK_STRAY,
       HK_UNREAD, HK_RO };

static int hash_access(const struct worker *w, uint64_t p)
{
	uint64_t hs = (uintptr_t)w->hs, hs_end = (uintptr_t)w->hs_end;
	uint64_t ro = (uintptr_t)ro_page, pg0, len;
	unsigned char vec[2];

	if (p >= (1ULL << 47) - page)	/* past the user address space */
		return HA_NONE;
	if (p >= hs && p + HSZ <= hs_end)
		return HA_RW;
	if (p >= ro && p + HSZ <= ro + page)
		return HA_RO;
	/* Into the page after the states or after ro_page (guard_page). */
	if ((p > hs_end - HSZ && p < hs_end + page) ||
	    (p > ro + page - HSZ && p < (uintptr_t)guard_page + page))
		return HA_NONE;
	/* Anything else: unmapped (mincore says ENOMEM), or not used. */
	pg0 = p & ~(uint64_t)(page - 1);
	len = (p + HSZ - pg0 + page - 1) & ~(uint64_t)(page - 1);
	if (mincore((void *)(uintptr_t)pg0, len, vec) && errno == ENOMEM)
		return HA_NONE;
	return HA_UNKNOWN;
}

/* @hash as the module sees it when the struct is @size bytes. */
static uint64_t hash_seen(uint64_t hash, uint32_t size)
{
	uint32_t n;

	if (size >= CKPT_PAGES_SIZE_VER1)
		return hash;
	n = size > CKPT_PAGES_SIZE_VER0 ? size - CKPT_PAGES_SIZE_VER0 : 0;
	return n ? hash & ((1ULL << (8 * n)) - 1) : 0;
}

/*
 * Never let the module store a state into memory that is not ours: a
 * pointer (a short struct's part of one, a garbage struct's) that is not
 * a state page, ro_page, or unmapped is dropped.
 */
static void pages_safe_hash(struct worker *w, struct ckpt_pages *a, uint32_t size)
{
	uint64_t hp = hash_seen(a->hash, size);

	if (hp && hash_access(w, hp) == HA_UNKNOWN)
		a->hash = 0;
}

/*
 * The flag and @hash: mostly a usable state (new, continuing the chain,
 * arbitrary), else each way of getting them wrong.  Predicts what the
 * module's hash checks give (g->hash_err) and whether it hashes.
 */
static void gen_pages_hash(struct worker *w, struct ckpt_pages *a,
			   struct pgen *g, uint32_t size)
{
	static const int8_t kinds[15] = { HK_NEW, HK_NEW, HK_NEW, HK_CHAIN,
		HK_CHAIN, HK_CHAIN, HK_CHAIN, HK_CHAIN, HK_ARB, HK_BADLEN,
		HK_NOPTR, HK_STRAY, HK_UNREAD, HK_UNREAD, HK_RO };
	/* Mostly where the struct has @hash (2 calls in 3). */
	uint32_t v = pick(w, size >= CKPT_PAGES_SIZE_VER1 ? 22 : 90);
	int k = v < ARRAY_SIZE(kinds) ? kinds[v] : HK_OFF;
	struct ckpt_pages_xxh64 st;
	uint64_t hp;
	uint8_t *at;

	if (k == HK_CHAIN && !w->chain_ok)
		k = HK_NEW;
	a->hash = 0;
	memset(&st, 0, sizeof(st));
	switch (k) {
	case HK_NEW:
	case HK_STRAY:		/* len 0: acc and digest are ignored */
		if (pick(w, 2))
			for (int i = 0; i < 4; i++)
				st.acc[i] = rnd64(w);
		st.digest = pick(w, 2) ? rnd64(w) : 0;
		break;
	case HK_CHAIN:
		st = w->chain_st;
		if (pick(w, 2))
			st.digest = rnd64(w);	/* in: ignored */
		break;
	case HK_ARB:		/* any len that is a multiple of 32, but 0 */
		st.len = pick(w, 3) ? (1 + pick(w, 1U << 20)) * 32ULL :
			 (rnd64(w) & ~31ULL) | 32;
		for (int i = 0; i < 4; i++)
			st.acc[i] = rnd64(w);
		st.digest = rnd64(w);
		break;
	case HK_BADLEN:
		st.len = (pick(w, 2) ? 32ULL * pick(w, 1024) : rnd64(w) & ~31ULL) |
			 (1 + pick(w, 31));
		break;
	}
	switch (k) {
	case HK_NEW: case HK_STRAY: case HK_CHAIN: case HK_ARB: case HK_BADLEN:
		switch (pick(w, 8)) {
		case 0: at = w->hs + 1 + pick(w, 7); break;	/* misaligned */
		case 1: at = w->hs + 8 * pick(w, (page - HSZ) / 8 + 1); break;
		case 2: at = w->hs_end - HSZ; break;		/* ends at the guard */
		default: at = w->hs;
		}
		memcpy(at, &st, HSZ);
		a->hash = (uintptr_t)at;
		break;
	case HK_RO:		/* zeros: a new hash, but no copy back */
		a->hash = (uintptr_t)ro_page + 8 * pick(w, (page - HSZ) / 8 + 1);
		break;
	case HK_UNREAD:
		switch (pick(w, 7)) {
		case 0: a->hash = (uintptr_t)w->hs_end - 1 - pick(w, HSZ - 1); break;
		case 1: a->hash = (uintptr_t)guard_page + pick(w, 64); break;
		case 2: a->hash = 0x1000; break;
		case 3: a->hash = 0xffff888000000000ULL; break;
		case 4: a->hash = 0xffffffff81000000ULL; break;
		case 5: a->hash = UNMAPPED_BASE + pick(w, 1024) * page + pick(w, page); break;
		default: a->hash = 1ULL << 47; break;
		}
		break;
	}
	if (k == HK_STRAY)
		a->flags &= ~CKPT_PAGES_XXH64;
	else if (k != HK_OFF)
		a->flags |= CKPT_PAGES_XXH64;
	/* (HK_OFF keeps flags as picked: some_flags() may have set it.) */

	pages_safe_hash(w, a, size);
	hp = hash_seen(a->hash, size);
	g->hash_kind = k;
	g->hash_ptr = hp;
	g->hash_acc = hp ? hash_access(w, hp) : HA_NONE;
	if (g->hash_acc == HA_RW || g->hash_acc == HA_RO)
		memcpy(&g->hs_before, (void *)(uintptr_t)hp, HSZ);
	if (!(a->flags & CKPT_PAGES_XXH64)) {
		g->hash_err = hp ? EINVAL : 0;
	} else if (!hp) {
		g->hash_err = EINVAL;
	} else if (g->hash_acc == HA_NONE) {
		g->hash_err = EFAULT;
	} else {
		if (g->hs_before.len % 32)
			g->hash_err = EINVAL;
		else
			g->hashing = true;
	}
}

static void gen_pages(struct worker *w, struct ckpt_pages *a, struct pgen *g,
		      uint32_t size)
{
	static const uint32_t counts[] = { 0, 4, 8, 64, 4095, 4096, 4097, 65536,
					   0xffffffff };
	static const uint64_t huge[] = { 0x7ffffffffffff000ULL, 1ULL << 63,
					 0xfffffffffffff000ULL };
	const uint32_t cap = REC_PAGES * page / sizeof(struct ckpt_page_range);
	struct ckpt_page_range *arr = (void *)w->recs;
	uint32_t n, room = cap, i, base;
	enum ptrkind rk;
	pid_t self = getpid(), tid = (pid_t)syscall(SYS_gettid);

	a->flags = pick(w, 25) ? 0 : some_flags(w, CKPT_PAGES_FLAGS);
	switch (pick(w, 8)) {
	case 0: case 1: case 2: a->pid = self; break;
	case 3: a->pid = tid; break;
	default: a->pid = tree_pid(w);
	}
	if (!pick(w, 6)) {		/* by pidfd */
		a->flags = CKPT_PAGES_PIDFD;
		switch (pick(w, 5)) {
		case 0: case 1: a->pid = self_pidfd; break;
		case 2: a->pid = pidfds[pick(w, npidfds)]; break;
		case 3: a->pid = w->sfd; break;
		default: a->pid = pick(w, 2) ? ~0U : 1000;
		}
	}
	if (a->flags & CKPT_PAGES_PIDFD) {
		/* Session children inherit the fuzzer's own pidfd. */
		g->self = a->pid == (uint32_t)self_pidfd && self == fuzzer_pid;
		g->pidfd_bad = a->pid == (uint32_t)w->sfd || a->pid == ~0U ||
			       a->pid == 1000;
	} else {
		g->self = a->pid == (uint32_t)self || a->pid == (uint32_t)tid;
	}
	n = a->count = pick(w, 5) ? 1 + pick(w, 3) : counts[pick(w, ARRAY_SIZE(counts))];

	/* The array: w->recs holds exactly 4096 entries before its guard. */
	rk = pick(w, 12) ? P_GOOD : pick_ptrkind(w);
	if (rk == P_GOOD && n >= 1 && n <= cap && !pick(w, 10)) {
		room = n - 1;		/* the last entry is in the guard page */
		arr = (void *)(w->recs_end - room * sizeof(*arr));
	} else if (rk == P_MISALIGN) {
		arr = (void *)(w->recs + 8);
		room = cap - 1;
	} else if (rk == P_RO) {
		arr = (void *)ro_page;	/* zeros: every entry is empty */
		room = page / sizeof(*arr);
	} else if (rk != P_GOOD) {
		arr = NULL;
		room = 0;
		g->ranges_unreadable = true;
		a->ranges = rk == P_STRADDLE ? (uintptr_t)w->recs_end - 8 :
			    make_ptr(w, rk, w->recs, w->recs_end, 16);
	}
	if (arr) {
		a->ranges = (uintptr_t)arr;
		base = pick(w, 4) ? (pick(w, 3) ? RK_SRC : RK_TEXT) : pick(w, RK_NKIND);
		for (i = 0; i < n && i < room; i++) {
			if (rk != P_RO)
				pages_entry(w, pick(w, 8) ? base : pick(w, RK_NKIND), &arr[i]);
			pages_account(g, &arr[i]);
		}
		if (n > room && n <= CKPT_PAGES_MAX_RANGES)
			g->ranges_partial = true;
	}

	switch (pick(w, 10)) {
	case 0: a->offset = pick(w, 64) * page + 1 + pick(w, page - 1); break;
	case 1:
		a->offset = huge[pick(w, ARRAY_SIZE(huge))];
		g->huge_off = true;
		break;
	case 2: a->offset = (1ULL << 40) + pick(w, 64) * page; break;
	default: a->offset = pick(w, 64) * page;
	}

	switch (pick(w, 12)) {
	case 7: a->fd = w->sfd_wo; g->fdk = FD_GOOD; break;
	case 8: {
		const int bad[] = { -1, 1000, 0x7fffffff, w->sfd_ro };

		a->fd = bad[pick(w, ARRAY_SIZE(bad))];
		g->fdk = FD_EBADF;
		break;
	}
	case 9: {
		/* (A directory: never open for writing, so EBADF first.) */
		const int bad[] = { pipe_fds[1], scratch_dirfd, slots[pick(w, NSLOT)],
				    w->sfd_app, w->sfd_direct >= 0 ? w->sfd_direct :
				    w->sfd_app };

		a->fd = bad[pick(w, ARRAY_SIZE(bad))];
		g->fdk = a->fd == (uint32_t)scratch_dirfd ? FD_EBADF : FD_EINVAL;
		break;
	}
	default: a->fd = w->sfd; g->fdk = FD_GOOD;
	}
	gen_pages_hash(w, a, g, size);
	g->scalar_bad = (a->flags & ~pages_offered) || !n ||
			n > CKPT_PAGES_MAX_RANGES || (a->offset & (page - 1)) ||
			a->offset > (uint64_t)INT64_MAX;
}

/* Never an fd of anything but the scratch files, something that is not
 * a regular file, or no file: gen_pages() picks only those; a garbage
 * struct gets one. */
static void pages_safe_fd(struct worker *w, struct ckpt_pages *a)
{
	const int ok[] = { w->sfd, w->sfd_wo, w->sfd_ro, w->sfd_app, pipe_fds[1],
			   scratch_dirfd, -1, 1000, 0x7fffffff, w->sfd_direct };

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		if (a->fd == (uint32_t)ok[i])
			return;
	for (int i = 0; i < NSLOT; i++)
		if (a->fd == (uint32_t)slots[i])
			return;
	a->fd = ok[pick(w, ARRAY_SIZE(ok))];
}

/* After a successful call: does the file hold the ranges' bytes? */
static bool pages_verify(struct worker *w, const struct ckpt_pages *a,
			 char *why, size_t whylen)
{
	const struct ckpt_page_range *r = (const void *)(uintptr_t)a->ranges;
	uint64_t at = 0;
	uint8_t *got = malloc(PAGES_VERIFY_MAX);
	bool ok = true;
	ssize_t n;

	if (!got)
		return true;
	for (uint32_t i = 0; ok && i < a->count; at += r[i].len, i++) {
		const uint8_t *want = (const uint8_t *)(uintptr_t)r[i].start;

		n = pread(w->sfd, got, r[i].len, (off_t)(a->offset + at));
		if (n != (ssize_t)r[i].len) {
			snprintf(why, whylen, "range %u: pread at %#llx: %zd (%s)", i,
				 (unsigned long long)(a->offset + at), n,
				 fz_errname(n < 0 ? errno : 0));
			ok = false;
			break;
		}
		for (uint64_t j = 0; j < r[i].len; j++) {
			uint8_t e = r[i].start == (uintptr_t)guard_page ? 0 : want[j];

			if (got[j] != e) {
				snprintf(why, whylen,
					 "range %u {%#llx, %#llx}: file offset %#llx has %#x, memory %#x",
					 i, (unsigned long long)r[i].start,
					 (unsigned long long)r[i].len,
					 (unsigned long long)(a->offset + at + j), got[j], e);
				ok = false;
				break;
			}
		}
	}
	free(got);
	return ok;
}

/* libxxhash from the state @in (len 0: a new hash) over @p, as the module's. */
static void ref_xxh64(const struct ckpt_pages_xxh64 *in, const void *p, size_t n,
		      struct ckpt_pages_xxh64 *out)
{
	XXH64_state_t s;

	XXH64_reset(&s, 0);
	if (in->len) {
		s.total_len = in->len;
		memcpy(s.v, in->acc, sizeof(s.v));
	}
	XXH64_update(&s, p, n);
	memset(out, 0, sizeof(*out));
	out->len = s.total_len;
	memcpy(out->acc, s.v, sizeof(out->acc));	/* whole stripes: no rest */
	out->digest = XXH64_digest(&s);
}

/*
 * After a successful hashed call: the state it stored against libxxhash
 * over what the file holds now at [offset, offset + total); a new hash
 * against the one-shot XXH64 of those bytes, a continued chain against the
 * one-shot XXH64 of everything the chain wrote.  Then extends the chain.
 */
static bool pages_hash_verify(struct worker *w, const struct ckpt_pages *a,
			      const struct pgen *g, char *why, size_t whylen)
{
	const struct ckpt_pages_xxh64 *in = &g->hs_before;
	bool chain = g->hash_kind == HK_CHAIN;
	size_t pre = chain ? w->chain_len : 0, done = 0;
	uint64_t n = g->total, one;
	struct ckpt_pages_xxh64 got, ref;
	uint8_t *buf, *d;
	bool ok = true;
	ssize_t r;

	memcpy(&got, (void *)(uintptr_t)g->hash_ptr, HSZ);
	if (n > (64ULL << 20)) {	/* more than the scratch fs holds */
		snprintf(why, whylen, "succeeded with %#llx bytes", (unsigned long long)n);
		return false;
	}
	buf = malloc(pre + n);
	if (!buf)
		return true;
	memcpy(buf, w->chain_buf, pre);
	d = buf + pre;
	while (done < n) {
		r = pread(w->sfd, d + done, n - done, (off_t)(a->offset + done));
		if (r <= 0) {
			snprintf(why, whylen, "pread at %#llx: %zd (%s)",
				 (unsigned long long)(a->offset + done), r,
				 fz_errname(r < 0 ? errno : 0));
			free(buf);
			return false;
		}
		done += r;
	}
	ref_xxh64(in, d, n, &ref);
	if (got.len != ref.len || memcmp(got.acc, ref.acc, sizeof(got.acc)) ||
	    got.digest != ref.digest) {
		snprintf(why, whylen,
			 "XXH64 state in {len %#llx acc0 %016llx}: stored {len %#llx acc0 %016llx digest %016llx}, libxxhash {len %#llx acc0 %016llx digest %016llx}",
			 (unsigned long long)in->len, (unsigned long long)in->acc[0],
			 (unsigned long long)got.len, (unsigned long long)got.acc[0],
			 (unsigned long long)got.digest, (unsigned long long)ref.len,
			 (unsigned long long)ref.acc[0], (unsigned long long)ref.digest);
		ok = false;
	} else if (!in->len && got.digest != (one = XXH64(d, n, 0))) {
		snprintf(why, whylen, "new XXH64: digest %016llx, XXH64 of the file's %#llx bytes %016llx",
			 (unsigned long long)got.digest, (unsigned long long)n,
			 (unsigned long long)one);
		ok = false;
	} else if (chain && got.digest != (one = XXH64(buf, pre + n, 0))) {
		snprintf(why, whylen, "continued XXH64 (chain of %llu calls): digest %016llx, one-shot XXH64 of the %#zx + %#llx bytes %016llx",
			 (unsigned long long)w->chain_calls,
			 (unsigned long long)got.digest, pre,
			 (unsigned long long)n, (unsigned long long)one);
		ok = false;
	}
	if (ok) {
		__atomic_fetch_add(&sh->hashed, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&sh->hashed_bytes, n, __ATOMIC_RELAXED);
		if (!in->len)
			__atomic_fetch_add(&sh->hashed_new, 1, __ATOMIC_RELAXED);
		else if (chain)
			__atomic_fetch_add(&sh->hashed_chain, 1, __ATOMIC_RELAXED);
		else
			__atomic_fetch_add(&sh->hashed_arb, 1, __ATOMIC_RELAXED);
	}
	/* The chain: a new hash starts one, a continued one grows it. */
	if (ok && !in->len && n <= CHAIN_MAX) {
		memcpy(w->chain_buf, d, n);
		w->chain_len = n;
		w->chain_calls = 1;
		w->chain_st = got;
		w->chain_ok = true;
	} else if (ok && chain && pre + n <= CHAIN_MAX) {
		memcpy(w->chain_buf + pre, d, n);
		w->chain_len = pre + n;
		w->chain_st = got;
		if (++w->chain_calls > __atomic_load_n(&sh->chain_max, __ATOMIC_RELAXED))
			__atomic_store_n(&sh->chain_max, w->chain_calls, __ATOMIC_RELAXED);
	} else if (chain || !in->len) {
		w->chain_ok = false;	/* too long to keep, or broken */
	}
	free(buf);
	return ok;
}

#define CMDFMT "cmd %#x (%s nr %u dir %u size %u) ptr %#llx kind %d: "
#define CMDARGS cmd, cmd_names[hc], nr, dir, size, (unsigned long long)uptr, pk

static void check_pages(struct worker *w, const struct pgen *g, uint64_t uptr,
			int ret, int err, unsigned int cmd, int hc, uint32_t nr,
			uint32_t dir, uint32_t size, enum ptrkind pk)
{
	const struct ckpt_pages *a = (const void *)(uintptr_t)uptr;
	char why[256] = "";
	const char *want;
	bool ok;

	if (memcmp(a, g->before, sizeof(*a))) {
		check(false, CMDFMT "PAGES wrote to its argument", CMDARGS);
		return;
	}
	if (g->garbage) {
		check(true, "ok");
		return;
	}
	/* A state the call did not store is as it was. */
	if (g->hash_acc == HA_RW && (ret != 0 || !g->hashing) &&
	    memcmp((void *)(uintptr_t)g->hash_ptr, &g->hs_before, HSZ)) {
		check(false, CMDFMT "PAGES (%s, hash kind %d) changed the hash state at %#llx",
		      CMDARGS, fz_errname(err), g->hash_kind,
		      (unsigned long long)g->hash_ptr);
		return;
	}
	if (g->scalar_bad) {
		ok = err == EINVAL;
		want = "EINVAL (flags, count or offset)";
	} else if (g->ranges_unreadable) {
		ok = err == EFAULT;
		want = "EFAULT (ranges not readable)";
	} else if (g->ranges_partial) {
		/* (The module checks the 1 GiB total as it goes.) */
		ok = err == EFAULT ||
		     (err == EINVAL && (g->entry_bad || g->total > GIB));
		want = "EFAULT (ranges run into a guard page)";
	} else if (g->entry_bad || g->total > GIB ||
		   g->total > (uint64_t)INT64_MAX - a->offset) {
		ok = err == EINVAL;
		want = "EINVAL (a range, more than 1 GiB, or past LLONG_MAX)";
	} else if (g->hash_err) {
		ok = err == g->hash_err;
		want = g->hash_err == EFAULT ? "EFAULT (hash state not readable)" :
		       "EINVAL (CKPT_PAGES_XXH64 without @hash, @hash without it, or len % 32)";
		if (ok)
			__atomic_fetch_add(&sh->hash_refused, 1, __ATOMIC_RELAXED);
	} else if (g->fdk == FD_EBADF) {
		ok = err == EBADF;
		want = "EBADF";
	} else if (g->fdk == FD_EINVAL) {
		ok = err == EINVAL;
		want = "EINVAL (not a regular file, O_APPEND or O_DIRECT)";
	} else if (g->hashing && a->fd == (uint32_t)w->sfd_wo) {
		ok = err == EBADF;
		want = "EBADF (hashing, the fd is not open for reading)";
		if (ok)
			__atomic_fetch_add(&sh->hash_refused, 1, __ATOMIC_RELAXED);
	} else if (g->pidfd_bad) {
		ok = err == EBADF;
		want = "EBADF (not a pidfd)";
	} else if (g->self && g->unmapped) {
		ok = err == EFAULT || err == ENOSPC || (g->huge_off && err == EFBIG);
		want = "EFAULT (not mapped)";
	} else if (g->self && g->hashing && g->hash_acc == HA_RO) {
		ok = err == EFAULT || err == ENOSPC || (g->huge_off && err == EFBIG);
		want = "EFAULT (the hash state cannot be written back)";
	} else if (g->self) {
		ok = ret == 0 || err == ENOSPC || (g->huge_off && err == EFBIG);
		want = "success";
		if (ret == 0 && !g->shm && g->total <= PAGES_VERIFY_MAX &&
		    !pages_verify(w, a, why, sizeof(why))) {
			check(false, CMDFMT "PAGES of the fuzzer at %#llx: %s", CMDARGS,
			      (unsigned long long)a->offset, why);
			return;
		}
	} else {
		ok = true;	/* another target: any documented errno */
		want = "";
	}
	if (ok && ret == 0 && g->hashing && g->hash_acc == HA_RO) {
		ok = false;
		want = "EFAULT (the hash state cannot be written back)";
	}
	if (ok && ret == 0 && g->hashing &&
	    !pages_hash_verify(w, a, g, why, sizeof(why))) {
		check(false, CMDFMT "PAGES pid %u count %u offset %#llx total %#llx hash kind %d at %#llx: %s",
		      CMDARGS, a->pid, a->count, (unsigned long long)a->offset,
		      (unsigned long long)g->total, g->hash_kind,
		      (unsigned long long)g->hash_ptr, why);
		return;
	}
	check(ok, CMDFMT "PAGES pid %u fd %d count %u offset %#llx total %#llx hash kind %d %#llx: expected %s, got %s",
	      CMDARGS, a->pid, (int)a->fd, a->count, (unsigned long long)a->offset,
	      (unsigned long long)g->total, g->hash_kind,
	      (unsigned long long)g->hash_ptr, want, fz_errname(err));
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
	struct pgen pg;

	if (pick(w, 10)) {			/* a known command */
		static const int8_t mix[24] = { 0, 1, 1, 1, 2, 3, 3, 3, 3, 3,
						4, 4, 4, 4, 4, 1, 5, 5, 6, 6,
						7, 8, 8, 8 };

		c = mix[pick(w, 24)];
		nr = _IOC_NR(cmds[c]);
		dir = _IOC_DIR(cmds[c]);
		size = pick_size(w, c);
		if (!pick(w, 30))
			dir = pick(w, 4);
	} else {				/* anything */
		if (!pick(w, 2))
			type = other_types[pick(w, ARRAY_SIZE(other_types))];
		nr = pick(w, 3) ? pick(w, NCMD) : pick(w, 256);
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
	memset(&pg, 0, sizeof(pg));
	if (c < 0 || pick(w, 50) == 0) {	/* garbage struct, zero tail */
		for (size_t i = 0; i < (c < 0 ? 64 : ksz[c]) && i < room; i++)
			buf[i] = (uint8_t)rnd64(w);
		pg.garbage = true;
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
	} else if (c == C_PAGES) {
		gen_pages(w, (struct ckpt_pages *)buf, &pg, size);
	}
	if (c == C_PAGES) {
		pages_safe_fd(w, (struct ckpt_pages *)buf);
		pages_safe_hash(w, (struct ckpt_pages *)buf, size);
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
	if (c == C_PAGES && (pk == P_GOOD || pk == P_MISALIGN))
		memcpy(pg.before, (void *)(uintptr_t)uptr, sizeof(pg.before));
	w->hash = (w->hash ^ cmd) * 0x100000001b3ULL;
	errno = 0;
	ret = ioctl(fd, cmd, (unsigned long)uptr);
	err = ret < 0 ? errno : 0;
	__atomic_fetch_add(&sh->calls, 1, __ATOMIC_RELAXED);
	w->ncalls++;
	__atomic_fetch_add(&sh->hist[hc][err < MAXERR ? err : 0], 1,
			   __ATOMIC_RELAXED);

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
	if (c == C_PAGES) {
		check_pages(w, &pg, uptr, ret, err, cmd, hc, nr, dir, size, pk);
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
		       (in.commands == 0x1ff && in.sigactions_flags == 0 &&
			in.thread_flags == 0)) &&
		      (size < CKPT_INFO_SIZE_VER2 ||
		       (in.vmas_flags == 0 && in.pages_flags == pages_offered)),
		      CMDFMT "INFO: abi %u rec %u vmas_flags %#llx pages_flags %#llx",
		      CMDARGS, in.abi_version, in.task_record_size,
		      (unsigned long long)in.vmas_flags,
		      (unsigned long long)in.pages_flags);
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
	} else if (v < 50) {			/* make room on the scratch fs */
		check(ftruncate(w->sfd, 0) == 0, "truncate the scratch file: %s",
		      fz_errname(errno));
		__atomic_fetch_add(&sh->other_ops, 1, __ATOMIC_RELAXED);
	} else {
		one_ioctl(w);
	}
}

/* An fd of the scratch file @fd, opened again with @flags. */
static int reopen_fd(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

/* This worker's own scratch file on the run's tmpfs, in four modes. */
static void worker_scratch(struct worker *w)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/w%d.%d", scratch_dir, w->id, (int)getpid());
	w->sfd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->sfd < 0) {
		out("ckpt-fuzz: scratch file %s: %s\n", path, fz_errname(errno));
		exit(2);
	}
	unlink(path);
	w->sfd_wo = reopen_fd(w->sfd, O_WRONLY);
	w->sfd_ro = reopen_fd(w->sfd, O_RDONLY);
	w->sfd_app = reopen_fd(w->sfd, O_WRONLY | O_APPEND);
	w->sfd_direct = reopen_fd(w->sfd, O_WRONLY | O_DIRECT);
	if (w->sfd_wo < 0 || w->sfd_ro < 0 || w->sfd_app < 0) {
		out("ckpt-fuzz: reopen the scratch file: %s\n", fz_errname(errno));
		exit(2);
	}
}

static void worker_setup(struct worker *w, int id)
{
	size_t len = (ARENA_PAGES + 1 + REC_PAGES + 1 + XS_PAGES + 1 +
		      SRC_PAGES + 1 + HS_PAGES + 1) * page;
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
	w->src = w->xs_end + page;
	for (size_t i = 0; i < SRC_PAGES * (size_t)page; i++)
		w->src[i] = src_byte(i);
	mprotect(w->src + SRC_PAGES * page, page, PROT_NONE);
	w->hs = w->src + (SRC_PAGES + 1) * page;
	w->hs_end = w->hs + HS_PAGES * page;
	mprotect(w->hs_end, page, PROT_NONE);
	w->chain_ok = false;
	w->chain_buf = malloc(CHAIN_MAX);
	if (!w->chain_buf) {
		perror("malloc");
		exit(2);
	}
	worker_scratch(w);
}

static void worker_close(struct worker *w)
{
	close(w->sfd);
	close(w->sfd_wo);
	close(w->sfd_ro);
	close(w->sfd_app);
	if (w->sfd_direct >= 0)
		close(w->sfd_direct);
	free(w->chain_buf);
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
	pages_offered = info.pages_flags;
	check((pages_offered & CKPT_PAGES_PIDFD) && !(pages_offered & ~CKPT_PAGES_FLAGS),
	      "INFO: pages_flags %#llx", (unsigned long long)pages_offered);
	out("ckpt-fuzz: PAGES flags offered %#llx%s\n", (unsigned long long)pages_offered,
	    pages_offered & CKPT_PAGES_XXH64 ? "" :
	    " (no CKPT_PAGES_XXH64: hashed calls must fail with EINVAL)");

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

	/* PAGES writes only here: a 16 MiB tmpfs of this run. */
	snprintf(scratch_dir, sizeof(scratch_dir), "/run/ckpt-fuzz-scratch.%d",
		 (int)getpid());
	if (mkdir(scratch_dir, 0700) && errno != EEXIST)
		die("mkdir the scratch directory");
	if (mount("tmpfs", scratch_dir, "tmpfs", 0, "size=16m,mode=0700"))
		die("mount a 16 MiB tmpfs for PAGES' scratch files");
	scratch_mounted = 1;
	scratch_dirfd = open(scratch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (scratch_dirfd < 0 || pipe2(pipe_fds, O_CLOEXEC))
		die("scratch fds");
	fuzzer_pid = getpid();
	self_pidfd = ckpt_pidfd_open(fuzzer_pid, 0);
	if (self_pidfd < 0)
		die("pidfd_open(self)");
}

static void scratch_teardown(void)
{
	close(self_pidfd);
	close(scratch_dirfd);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	if (scratch_mounted && umount2(scratch_dir, MNT_DETACH))
		out("ckpt-fuzz: umount %s: %s\n", scratch_dir, fz_errname(errno));
	rmdir(scratch_dir);
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
	out("ckpt-fuzz: PAGES XXH64: %llu hashed calls checked against libxxhash "
	    "(%llu new, %llu continuing a chain, longest %llu calls, %llu from an "
	    "arbitrary state; %llu MiB), %llu refused for the state or fd as predicted\n",
	    (unsigned long long)sh->hashed, (unsigned long long)sh->hashed_new,
	    (unsigned long long)sh->hashed_chain, (unsigned long long)sh->chain_max,
	    (unsigned long long)sh->hashed_arb,
	    (unsigned long long)(sh->hashed_bytes >> 20),
	    (unsigned long long)sh->hash_refused);
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
	for (int i = 0; i < nthreads; i++)
		worker_close(&ws[i]);
	scratch_teardown();
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
