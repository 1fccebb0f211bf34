// SPDX-License-Identifier: GPL-2.0
/*
 * fz-pages.c: CKPT_IOC_PAGES in ckpt-fuzz: generating its argument (ranges,
 * offset, target, fd and the CKPT_PAGES_XXH64 hash state) with a prediction
 * of what the module gives (struct pgen), keeping a garbage struct to the
 * run's scratch files and states, and after a successful call checking what
 * the scratch file holds and the stored hash state against libxxhash.
 */
#include <stddef.h>
#define XXH_STATIC_LINKING_ONLY		/* XXH64_state_t: continue a state */
#include <xxhash.h>
#include "fz-internal.h"

/* The reference continues the module's state in libxxhash's own. */
_Static_assert(offsetof(XXH64_state_t, total_len) == 0 &&
	       offsetof(XXH64_state_t, v) == 8 &&
	       sizeof(((XXH64_state_t *)0)->v) == 32,
	       "libxxhash's XXH64_state_t is not {total_len, v[4], ...}");

/* ---- PAGES ------------------------------------------------------------------ */

enum { RK_SRC, RK_TEXT, RK_GUARD, RK_SHM, RK_UNMAPPED, RK_BIG, RK_BAD, RK_NKIND };
#define UNMAPPED_BASE	0x200000000000ULL	/* nothing of ours is there */

uint8_t src_byte(size_t i)
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
void pages_safe_hash(struct worker *w, struct ckpt_pages *a, uint32_t size)
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

void gen_pages(struct worker *w, struct ckpt_pages *a, struct pgen *g,
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
void pages_safe_fd(struct worker *w, struct ckpt_pages *a)
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
bool pages_verify(struct worker *w, const struct ckpt_pages *a,
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
bool pages_hash_verify(struct worker *w, const struct ckpt_pages *a,
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
