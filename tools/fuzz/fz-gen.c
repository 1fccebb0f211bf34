// SPDX-License-Identifier: GPL-2.0
/*
 * fz-gen.c: ckpt-fuzz's argument generation: the seeded picks (each mixed
 * into the worker's call sequence hash), pids of the workload trees, flags,
 * reserved fields, user pointers of each kind, struct sizes, and the
 * command tables with the errnos Documentation/abi.md gives each command.
 */
#include "fz-internal.h"

/* ---- generation ----------------------------------------------------------- */

const char *const cmd_names[NHIST] = {
	"INFO", "BEGIN", "END", "SCAN", "REGS", "SIGACT", "THREAD", "VMAS", "PAGES",
	"other"
};

uint32_t pick(struct worker *w, uint32_t n)
{
	uint32_t v = fz_below(&w->rng, n);

	w->hash = (w->hash ^ v) * 0x100000001b3ULL;
	return v;
}

uint64_t rnd64(struct worker *w)
{
	uint64_t v = fz_next(&w->rng);

	w->hash = (w->hash ^ v) * 0x100000001b3ULL;
	return v;
}

uint32_t tree_pid(struct worker *w)
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

uint32_t some_flags(struct worker *w, uint32_t valid)
{
	switch (pick(w, 10)) {
	case 0: return 1U << pick(w, 32);
	case 1: return (uint32_t)rnd64(w);
	case 2: return 0xffffffff;
	case 3: return valid;
	default: return valid & (uint32_t)rnd64(w);
	}
}

uint32_t some_reserved(struct worker *w)
{
	return pick(w, 12) ? 0 : (pick(w, 2) ? 1U << pick(w, 32) : (uint32_t)rnd64(w));
}

enum ptrkind pick_ptrkind(struct worker *w)
{
	uint32_t v = pick(w, 100);

	if (v < 72)
		return P_GOOD;
	if (v < 80)
		return P_MISALIGN;
	return (enum ptrkind)(P_STRADDLE + (v - 80) % 7);
}

bool ptr_unmapped(enum ptrkind k)
{
	return k == P_NULL || k == P_LOW || k == P_GUARD || k == P_K1 ||
	       k == P_K2 || k == P_STRADDLE;
}

/* A user pointer of kind @k for @size bytes inside [base, end). */
uint64_t make_ptr(struct worker *w, enum ptrkind k, uint8_t *base,
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

const uint32_t ver0[NCMD] = {
	CKPT_INFO_SIZE_VER0, CKPT_BEGIN_SIZE_VER0, CKPT_END_SIZE_VER0,
	CKPT_SCAN_SIZE_VER0, CKPT_REGS_SIZE_VER0, CKPT_SIGACTIONS_SIZE_VER0,
	CKPT_THREAD_SIZE_VER0, CKPT_VMAS_SIZE_VER0, CKPT_PAGES_SIZE_VER0,
};
const uint32_t ksz[NCMD] = {
	sizeof(struct ckpt_info), sizeof(struct ckpt_begin),
	sizeof(struct ckpt_end), sizeof(struct ckpt_scan),
	sizeof(struct ckpt_regs), sizeof(struct ckpt_sigactions),
	sizeof(struct ckpt_thread), sizeof(struct ckpt_vmas),
	sizeof(struct ckpt_pages),
};
const unsigned int cmds[NCMD] = {
	CKPT_IOC_INFO, CKPT_IOC_BEGIN, CKPT_IOC_END, CKPT_IOC_SCAN, CKPT_IOC_REGS,
	CKPT_IOC_SIGACTIONS, CKPT_IOC_THREAD, CKPT_IOC_VMAS, CKPT_IOC_PAGES,
};

bool errno_documented(int c, int e)
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

uint32_t pick_size(struct worker *w, int c)
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
