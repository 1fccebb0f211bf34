// SPDX-License-Identifier: GPL-2.0
/*
 * st-pages-xxh64.c: CKPT_IOC_PAGES with CKPT_PAGES_XXH64 (group "pages").
 *
 * The module hashes every page it wrote as the file holds it after the
 * write, in file order, continuing the XXH64 state passed in.  The
 * reference is libxxhash: XXH64(p, n, 0) of the file range as pread reads
 * it after the call, and its XXH64_state_t (total_len and the four
 * accumulators v[]: public with XXH_STATIC_LINKING_ONLY) for the state
 * carried between calls, in both directions.
 *
 *   pages_xxh64_info         INFO's pages_flags and vmas_flags (VER2), and
 *                            the VER1 size that has neither;
 *   pages_xxh64_ranges       one call, the truth workload's ten ranges: on
 *                            tmpfs (pre-filled around the range), huge
 *                            tmpfs (by pidfd) and ext4; also against the
 *                            target's memory through /proc/PID/mem;
 *   pages_xxh64_chain        a hash carried over three calls equals the
 *                            one-call hash; over two files; a state
 *                            libxxhash made, continued by the module, and
 *                            the module's state continued by libxxhash;
 *   pages_xxh64_running      a target that keeps rewriting all its pages,
 *                            on another CPU: the digest must be of what the
 *                            file holds, not of the pages as they are by
 *                            the time they are hashed (tmpfs, ext4,
 *                            overlayfs);
 *   pages_xxh64_readback_ramfs  a ramfs file: not a file system whose
 *                            page cache the module trusts, so every page
 *                            is read back (on every kernel);
 *   pages_xxh64_readback     an overlayfs file: its own page cache stays
 *                            empty (the data is in the upper file's), so
 *                            the module reads each page back through the
 *                            file; cachestat (6.5+) shows it is empty;
 *   pages_xxh64_bad_args     every rule of @hash and the fd with its errno,
 *                            and the state untouched by a failed call;
 *   pages_xxh64_errno_order  where the hash rules sit in the errno order.
 *
 * A kernel without lib/xxhash.c (no xxh64_update in /proc/kallsyms) does
 * not offer the flag: there it must be EINVAL, and the tests say so in a
 * diagnostic and stop.  The file systems ext4 and overlayfs are left out
 * the same way where the kernel has neither built in nor as a module (the
 * debug kernel).
 */
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#define XXH_STATIC_LINKING_ONLY		/* XXH64_state_t's fields */
#include <xxhash.h>
#include "st-pages.h"

#if XXH_VERSION_NUMBER < 800
#error "libxxhash 0.8 or later is needed (XXH64_state_t.v[4])"
#endif

#define XXH		CKPT_PAGES_XXH64

static int ioc_xxh64(int dev, uint32_t flags, uint32_t pid, uint32_t fd,
		     const struct ckpt_page_range *r, uint32_t count,
		     uint64_t offset, const void *hash)
{
	struct ckpt_pages a = {
		.flags = flags,
		.pid = pid,
		.fd = fd,
		.count = count,
		.ranges = (__u64)(uintptr_t)r,
		.offset = offset,
		.hash = (__u64)(uintptr_t)hash,
	};

	return ioctl(dev, CKPT_IOC_PAGES, &a);
}

/* A new hash (@len 0): whatever @acc and @digest hold is ignored. */
static void fresh(struct ckpt_pages_xxh64 *h)
{
	memset(h, 0, sizeof(*h));
}

/* ---- the reference: libxxhash ------------------------------------------------------- */

static XXH64_state_t *ref_new(void)
{
	XXH64_state_t *st = XXH64_createState();

	ST_CHECK(st != NULL);
	ST_CHECK(XXH64_reset(st, 0) == XXH_OK);
	return st;
}

/* libxxhash's state continuing the module's @h. */
static XXH64_state_t *ref_from(const struct ckpt_pages_xxh64 *h)
{
	XXH64_state_t *st = ref_new();

	st->total_len = h->len;
	memcpy(st->v, h->acc, sizeof(st->v));
	return st;
}

/* The module's state (@h) continuing libxxhash's @st. */
static void state_from(struct ckpt_pages_xxh64 *h, const XXH64_state_t *st)
{
	ST_EQ(st->memsize, 0);
	memset(h, 0, sizeof(*h));
	h->len = st->total_len;
	memcpy(h->acc, st->v, sizeof(h->acc));
}

/* @len bytes of @fd at @off, as pread reads them, into @st. */
static void ref_file(XXH64_state_t *st, int fd, uint64_t off, uint64_t len)
{
	uint8_t *buf = read_at(fd, off, len);

	ST_CHECK(XXH64_update(st, buf, len) == XXH_OK);
	free(buf);
}

/* What the module stored (@h) is libxxhash's state @st after the same
 * bytes: their count, the accumulators, the digest. */
static void check_state(const struct ckpt_pages_xxh64 *h, XXH64_state_t *st,
			const char *what)
{
	int i;

	ST_EQ(st->memsize, 0);
	if (h->len != st->total_len)
		st_fail("%s: the state's len is %llu, libxxhash hashed %llu bytes",
			what, (unsigned long long)h->len,
			(unsigned long long)st->total_len);
	for (i = 0; i < 4; i++)
		if (h->acc[i] != st->v[i])
			st_fail("%s: acc[%d] is %#llx, libxxhash's v[%d] %#llx (len %llu)",
				what, i, (unsigned long long)h->acc[i], i,
				(unsigned long long)st->v[i],
				(unsigned long long)h->len);
	if (h->digest != XXH64_digest(st))
		st_fail("%s: digest %#llx, libxxhash's over the same %llu bytes %#llx",
			what, (unsigned long long)h->digest,
			(unsigned long long)h->len,
			(unsigned long long)XXH64_digest(st));
}

/*
 * After one call that started a new hash (@h) and wrote @len bytes at
 * @off of @fd: the digest is XXH64 of what pread reads there, and the
 * state libxxhash's after those bytes.
 */
static void check_file_hash(const struct ckpt_pages_xxh64 *h, int fd,
			    uint64_t off, uint64_t len, const char *what)
{
	uint8_t *buf = read_at(fd, off, len);
	XXH64_state_t *st = ref_new();
	uint64_t want = XXH64(buf, len, 0);

	if (h->digest != want)
		st_fail("%s: digest %#llx, XXH64 of the %llu bytes pread reads at %#llx: %#llx",
			what, (unsigned long long)h->digest,
			(unsigned long long)len, (unsigned long long)off,
			(unsigned long long)want);
	ST_CHECK(XXH64_update(st, buf, len) == XXH_OK);
	check_state(h, st, what);
	XXH64_freeState(st);
	free(buf);
}

/* ---- the kernel ---------------------------------------------------------------------- */

/* Does this kernel have lib/xxhash.c (xxh64_update in /proc/kallsyms)? */
static bool kernel_has_xxh64(void)
{
	static int has = -1;
	char line[512];
	size_t l;
	FILE *f;

	if (has >= 0)
		return has;
	f = fopen("/proc/kallsyms", "re");
	ST_CHECK(f != NULL, "/proc/kallsyms: %s", st_errname(errno));
	has = 0;
	while (!has && fgets(line, sizeof(line), f)) {
		l = strcspn(line, "\t\n");
		has = l >= 13 && !strncmp(line + l - 13, " xxh64_update", 13);
	}
	fclose(f);
	return has;
}

/*
 * Whether CKPT_PAGES_XXH64 is offered (INFO's pages_flags): exactly when
 * the kernel has XXH64.  When it is not, the flag must be EINVAL, and
 * @test stops here (with a diagnostic).
 */
static bool xxh64_offered(int dev, const char *test)
{
	struct ckpt_pages_xxh64 h;
	struct ckpt_page_range r = { (uintptr_t)st_shm, PAGE };
	struct ckpt_info info;
	bool has = kernel_has_xxh64();

	memset(&info, 0, sizeof(info));
	ST_OK(ioctl(dev, CKPT_IOC_INFO, &info));
	if (!!(info.pages_flags & XXH) != has)
		st_fail("INFO pages_flags %#llx, but the kernel %s xxh64_update",
			(unsigned long long)info.pages_flags,
			has ? "has" : "has no");
	if (has)
		return true;
	fresh(&h);
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH, getpid(), tmp_file("/tmp"), &r, 1, 0, &h),
		   "CKPT_PAGES_XXH64 where the kernel has no XXH64");
	st_diag("the kernel has no XXH64 (lib/xxhash.c): %s is left out", test);
	return false;
}

/* ---- targets and files --------------------------------------------------------------- */

/* The ten truth ranges of @l in @r: their total. */
static uint64_t truth_r(const struct layout *l, struct ckpt_page_range *r)
{
	struct prange pr[NTRUTH];
	uint64_t total = 0;
	size_t i;

	truth_ranges(l, pr);
	for (i = 0; i < NTRUTH; i++) {
		r[i] = (struct ckpt_page_range){ pr[i].start, pr[i].len };
		total += pr[i].len;
	}
	return total;
}

/* XXH64 of the @n ranges @r of @pid as /proc/PID/mem reads them. */
static uint64_t mem_xxh64(pid_t pid, const struct ckpt_page_range *r, size_t n)
{
	XXH64_state_t *st = ref_new();
	uint64_t d;
	uint8_t *buf;
	size_t i;

	for (i = 0; i < n; i++) {
		buf = proc_mem(pid, r[i].start, r[i].len);
		ST_CHECK(XXH64_update(st, buf, r[i].len) == XXH_OK);
		free(buf);
	}
	d = XXH64_digest(st);
	XXH64_freeState(st);
	return d;
}

static uint64_t ranges_len(const struct ckpt_page_range *r, size_t n)
{
	uint64_t t = 0;

	while (n--)
		t += r[n].len;
	return t;
}

/* cachestat(2) (6.5+; ENOSYS before), which libc does not wrap. */
#ifndef __NR_cachestat
#define __NR_cachestat	451
#endif

struct st_cachestat_range {
	uint64_t off, len;
};

struct st_cachestat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted,
		 nr_recently_evicted;
};

/* The pages in the page cache of @fd's own mapping (f_mapping, where the
 * module looks), or -1 with errno. */
static long cached_pages(int fd)
{
	struct st_cachestat_range r = { 0, 0 };	/* to the end of the file */
	struct st_cachestat cs;

	memset(&cs, 0, sizeof(cs));
	if (syscall(__NR_cachestat, fd, &r, &cs, 0))
		return -1;
	return (long)cs.nr_cache;
}

/* ---- INFO ---------------------------------------------------------------------------- */

void pages_xxh64_info(void **state)
{
	union {
		struct ckpt_info i;
		uint8_t raw[CKPT_INFO_SIZE_VER2 + 16];
	} u;
	uint64_t want = CKPT_PAGES_PIDFD | (kernel_has_xxh64() ? XXH : 0);
	int dev = st_dev();
	size_t at;

	(void)state;
	memset(&u, 0, sizeof(u));
	ST_OK(ioctl(dev, CKPT_IOC_INFO, &u.i));
	if (u.i.pages_flags != want)
		st_fail("INFO pages_flags %#llx, expected %#llx (CKPT_PAGES_PIDFD%s)",
			(unsigned long long)u.i.pages_flags,
			(unsigned long long)want,
			want & XXH ? " | CKPT_PAGES_XXH64" : ": no XXH64 in this kernel");
	ST_EQ(u.i.pages_flags & ~(uint64_t)CKPT_PAGES_FLAGS, 0);
	ST_EQ(u.i.vmas_flags, 0);
	ST_EQ(u.i.commands, 0x1ff);
	/* A VER1-sized INFO: the VER2 fields are not written. */
	memset(&u, 0, sizeof(u));
	memset(u.raw + CKPT_INFO_SIZE_VER1, 0x5a, sizeof(u) - CKPT_INFO_SIZE_VER1);
	ST_OK(ioctl(dev, st_ioc_sized(CKPT_IOC_INFO, CKPT_INFO_SIZE_VER1), &u.i));
	ST_EQ(u.i.commands, 0x1ff);
	for (at = CKPT_INFO_SIZE_VER1; at < sizeof(u); at++)
		if (u.raw[at] != 0x5a)
			st_fail("INFO of size %u wrote byte %zu (%#x)",
				CKPT_INFO_SIZE_VER1, at, u.raw[at]);
}

/* ---- what the file holds ----------------------------------------------------------------- */

/*
 * One call, the ten truth ranges (THP, PROT_NONE, never-touched and COWed
 * pages, shared memory, the vDSO, a page twice) of an idle target.
 */
void pages_xxh64_ranges(void **state)
{
	struct ckpt_page_range r[NTRUTH];
	struct ckpt_pages_xxh64 h;
	char hdir[PATH_MAX], edir[PATH_MAX];
	struct layout l;
	uint64_t total, off, mem;
	const char *d;
	pid_t pid;
	int dev = st_dev(), fd, pfd;

	(void)state;
	if (!xxh64_offered(dev, "pages_xxh64_ranges"))
		return;
	pid = truth_target(NULL, NULL, &l);
	total = truth_r(&l, r);
	mem = mem_xxh64(pid, r, NTRUTH);
	/* tmpfs /tmp, data around the range (not hashed); a new hash
	 * whose acc and digest hold garbage (ignored with len 0). */
	off = 3 * PAGE;
	fd = prefilled("/tmp", off + total + 2 * PAGE);
	fresh(&h);
	memset(h.acc, 0xa5, sizeof(h.acc));
	h.digest = 0x5a5a5a5a5a5a5a5aULL;
	EXPECT_OK(ioc_xxh64(dev, XXH, pid, fd, r, NTRUTH, off, &h),
		  "PAGES | XXH64, %d ranges, %llu bytes at %#llx, /tmp", NTRUTH,
		  (unsigned long long)total, (unsigned long long)off);
	check_file_hash(&h, fd, off, total, "/tmp (tmpfs)");
	if (h.digest != mem)
		st_fail("digest %#llx, XXH64 of the ranges as /proc/%d/mem reads them %#llx",
			(unsigned long long)h.digest, pid, (unsigned long long)mem);
	/* Huge tmpfs: the hash starts inside a large folio; by pidfd. */
	d = mount_huge(hdir, sizeof(hdir));
	off = 2 * MiB + 5 * PAGE;
	fd = tmp_file(d);
	pfd = st_track_fd(ST_OK(ckpt_pidfd_open(pid, 0)));
	fresh(&h);
	EXPECT_OK(ioc_xxh64(dev, XXH | CKPT_PAGES_PIDFD, pfd, fd, r, NTRUTH, off, &h),
		  "PAGES | XXH64 | PIDFD at %#llx, tmpfs huge=always",
		  (unsigned long long)off);
	check_file_hash(&h, fd, off, total, "tmpfs huge=always");
	ST_EQ(h.digest, mem);
	/* ext4, a sparse file. */
	d = mount_ext4(edir, sizeof(edir));
	if (d) {
		off = MiB + 5 * PAGE;
		fd = tmp_file(d);
		fresh(&h);
		EXPECT_OK(ioc_xxh64(dev, XXH, pid, fd, r, NTRUTH, off, &h),
			  "PAGES | XXH64 at %#llx, ext4", (unsigned long long)off);
		check_file_hash(&h, fd, off, total, "ext4");
		ST_EQ(h.digest, mem);
	}
}

/* The same bytes hashed in one call and carried over several. */
void pages_xxh64_chain(void **state)
{
	static const size_t split[] = { 0, 3, 7, NTRUTH };
	static const size_t prefixes[] = { 32, 96, PAGE + 32 };
	struct ckpt_page_range r[NTRUTH];
	struct ckpt_pages_xxh64 one, h;
	XXH64_state_t *st;
	uint8_t extra[4096];
	struct layout l;
	uint64_t total, off, n, b1, b2;
	size_t k, i;
	pid_t pid;
	int dev = st_dev(), f1, f3, fa, fb, fc;

	(void)state;
	if (!xxh64_offered(dev, "pages_xxh64_chain"))
		return;
	pid = truth_target(NULL, NULL, &l);
	total = truth_r(&l, r);
	f1 = tmp_file("/tmp");
	f3 = tmp_file("/tmp");
	fresh(&one);
	EXPECT_OK(ioc_xxh64(dev, XXH, pid, f1, r, NTRUTH, PAGE, &one),
		  "PAGES | XXH64, %d ranges in one call", NTRUTH);
	check_file_hash(&one, f1, PAGE, total, "one call");
	/* Three calls writing back to back, the state passed on: after
	 * each, it is libxxhash's over what the file holds so far. */
	st = ref_new();
	fresh(&h);
	off = PAGE;
	for (k = 0; k + 1 < ARRAY_SIZE(split); k++) {
		char what[64];

		n = ranges_len(r + split[k], split[k + 1] - split[k]);
		EXPECT_OK(ioc_xxh64(dev, XXH, pid, f3, r + split[k],
				    split[k + 1] - split[k], off, &h),
			  "call %zu of 3 (ranges %zu-%zu) at %#llx, len in %llu",
			  k + 1, split[k], split[k + 1] - 1,
			  (unsigned long long)off,
			  (unsigned long long)(off - PAGE));
		ref_file(st, f3, off, n);
		off += n;
		snprintf(what, sizeof(what), "after call %zu of 3", k + 1);
		check_state(&h, st, what);
		ST_EQ(h.len, off - PAGE);
	}
	XXH64_freeState(st);
	ST_EQ(h.len, total);
	if (h.digest != one.digest || memcmp(h.acc, one.acc, sizeof(h.acc)))
		st_fail("three calls: digest %#llx, one call: %#llx",
			(unsigned long long)h.digest, (unsigned long long)one.digest);
	check_file_hash(&h, f3, PAGE, total, "three calls");

	/* Carried from one file into another: what both calls wrote, in
	 * call order. */
	fa = tmp_file("/tmp");
	fb = tmp_file("/tmp");
	b1 = ranges_len(r, 5);
	b2 = ranges_len(r + 5, NTRUTH - 5);
	fresh(&h);
	EXPECT_OK(ioc_xxh64(dev, XXH, pid, fa, r, 5, 0, &h), "ranges 0-4 into file A");
	EXPECT_OK(ioc_xxh64(dev, XXH, pid, fb, r + 5, NTRUTH - 5, 7 * PAGE, &h),
		  "ranges 5-9 into file B, the state of file A's call passed on");
	st = ref_new();
	ref_file(st, fa, 0, b1);
	ref_file(st, fb, 7 * PAGE, b2);
	check_state(&h, st, "over two files");
	XXH64_freeState(st);
	ST_EQ(h.digest, one.digest);

	/* A state libxxhash made (32, 96, 4128 bytes: whole stripes, not
	 * whole pages), continued by the module. */
	for (i = 0; i < sizeof(extra); i++)
		extra[i] = (uint8_t)(i * 13 + 7);
	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		char what[96];

		size_t head = prefixes[i] % sizeof(extra);

		fc = tmp_file("/tmp");
		st = ref_new();
		ST_CHECK(XXH64_update(st, extra, head) == XXH_OK);
		if (prefixes[i] > sizeof(extra))
			ST_CHECK(XXH64_update(st, extra, sizeof(extra)) == XXH_OK);
		ST_EQ(st->total_len, prefixes[i]);
		state_from(&h, st);
		EXPECT_OK(ioc_xxh64(dev, XXH, pid, fc, r, 3, 0, &h),
			  "3 ranges, continuing a libxxhash state of %zu bytes",
			  prefixes[i]);
		ref_file(st, fc, 0, ranges_len(r, 3));
		snprintf(what, sizeof(what), "libxxhash's %zu bytes, then the module's",
			 prefixes[i]);
		check_state(&h, st, what);
		XXH64_freeState(st);
	}

	/* The module's state (one call's), continued by libxxhash. */
	st = ref_from(&one);
	ST_CHECK(XXH64_update(st, extra, sizeof(extra)) == XXH_OK);
	{
		uint8_t *all = malloc(total + sizeof(extra)), *file;

		ST_CHECK(all != NULL);
		file = read_at(f1, PAGE, total);
		memcpy(all, file, total);
		memcpy(all + total, extra, sizeof(extra));
		if (XXH64_digest(st) != XXH64(all, total + sizeof(extra), 0))
			st_fail("the module's state continued by libxxhash: %#llx, XXH64 of the same bytes %#llx",
				(unsigned long long)XXH64_digest(st),
				(unsigned long long)XXH64(all, total + sizeof(extra), 0));
		free(file);
		free(all);
	}
	XXH64_freeState(st);
}

/* ---- a target that keeps rewriting its pages ---------------------------------------------- */

#define RW_PAGES	1024		/* 4 MiB */
#define RW_REPS		16		/* calls per file */

/*
 * Rewrites each of its RW_PAGES pages, pass after pass: every pass stores
 * its number in the first word of every page and in one more word that
 * moves along.  counter[0]: the passes.  @arg: 1 + the CPU to run on.
 */
static void rewrite_wl(void *arg)
{
	uint64_t *p = (uint64_t *)wl_map(RW_PAGES * PAGE, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1);
	const size_t words = PAGE / sizeof(uint64_t);
	uint64_t gen;
	size_t i;

	if (arg) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)(uintptr_t)arg - 1, &set);
		WL_CHECK(!sched_setaffinity(0, sizeof(set), &set));
	}
	fill((uint8_t *)p, R_REWRITE, 0, RW_PAGES);
	st_report(R_REWRITE, 0, 0, (uintptr_t)p);
	st_ready();
	for (gen = 1;; gen++) {
		for (i = 0; i < RW_PAGES; i++) {
			p[i * words] = gen;
			p[i * words + 1 + gen % (words - 1)] = gen;
		}
		st_shm->counter[0] = gen;
	}
}

/* Did the pages of the copy at @off come from different passes (the
 * target wrote while the call copied)? */
static bool torn(int fd, uint64_t off, uint64_t len)
{
	uint8_t *buf = read_at(fd, off, len);
	uint64_t first, w;
	bool t = false;
	size_t i;

	memcpy(&first, buf, sizeof(first));
	for (i = PAGE; i < len && !t; i += PAGE) {
		memcpy(&w, buf + i, sizeof(w));
		t = w != first;
	}
	free(buf);
	return t;
}

/*
 * RW_REPS calls of the whole target (in two ranges, the second half
 * first) into @fd, then one hash over three calls: each digest must be
 * XXH64 of what the file holds.  Returns how many calls saw the target
 * write meanwhile.
 */
static int running_file(int dev, pid_t pid, uint64_t p, int fd,
			const char *fname)
{
	const uint64_t half = RW_PAGES / 2 * PAGE, all = RW_PAGES * PAGE;
	struct ckpt_page_range r[3] = { { p + half, half }, { p, half } };
	struct ckpt_pages_xxh64 h;
	char what[128];
	uint64_t off, g0;
	int rep, ntorn = 0;

	for (rep = 0; rep < RW_REPS; rep++) {
		off = (rep % 2) * (all + PAGE);
		fresh(&h);
		g0 = st_counter(0);
		EXPECT_OK(ioc_xxh64(dev, XXH, pid, fd, r, 2, off, &h),
			  "%s: call %d, 4 MiB of a running target at %#llx",
			  fname, rep, (unsigned long long)off);
		snprintf(what, sizeof(what), "%s, call %d (the target made %llu passes meanwhile)",
			 fname, rep, (unsigned long long)(st_counter(0) - g0));
		check_file_hash(&h, fd, off, all, what);
		ntorn += torn(fd, off, all);
	}
	/* One hash over three calls: the last quarter, the first half, the
	 * third quarter. */
	r[0] = (struct ckpt_page_range){ p + 3 * all / 4, all / 4 };
	r[1] = (struct ckpt_page_range){ p, half };
	r[2] = (struct ckpt_page_range){ p + half, all / 4 };
	fresh(&h);
	for (rep = 0, off = 0; rep < 3; off += r[rep].len, rep++)
		EXPECT_OK(ioc_xxh64(dev, XXH, pid, fd, &r[rep], 1, off, &h),
			  "%s: call %d of 3 of a running target", fname, rep + 1);
	ST_EQ(off, all);
	snprintf(what, sizeof(what), "%s, a hash over three calls", fname);
	check_file_hash(&h, fd, 0, all, what);
	st_diag("%s: %d of %d calls copied pages the target was rewriting",
		fname, ntorn, RW_REPS);
	return ntorn;
}

/*
 * The property that matters: with a target rewriting all its pages
 * meanwhile, the digest is of what the file holds.  A module that hashed
 * the target's pages (a second look, after the copy) would hash other
 * bytes whenever the target wrote between the copy and the hash.  The
 * target runs on another CPU than the caller; a run in which fewer calls
 * than there are files saw the target write meanwhile could not tell, and
 * fails.
 */
void pages_xxh64_running(void **state)
{
	char edir[PATH_MAX], odir[PATH_MAX], upper[PATH_MAX];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int dev = st_dev(), ntorn = 0, nfiles = 0;
	const char *d;
	uint64_t p;
	pid_t pid;

	(void)state;
	if (!xxh64_offered(dev, "pages_xxh64_running"))
		return;
	if (ncpu >= 2) {
		cpu_set_t set;

		/* The caller on CPU 0, the target on CPU 1 (st_teardown
		 * restores the runner's affinity). */
		CPU_ZERO(&set);
		CPU_SET(0, &set);
		ST_OK(sched_setaffinity(0, sizeof(set), &set));
	} else {
		st_diag("%ld CPU: the target runs only when the caller sleeps", ncpu);
	}
	pid = st_spawn(NULL, rewrite_wl, ncpu >= 2 ? (void *)2 : NULL);
	st_wait_ready(1);
	p = st_find_rep(R_REWRITE, 0)->val;
	st_expect_counter_moves(0);
	ntorn += running_file(dev, pid, p, tmp_file("/tmp"), "/tmp (tmpfs)");
	nfiles++;
	d = mount_ext4(edir, sizeof(edir));
	if (d) {
		ntorn += running_file(dev, pid, p, tmp_file(d), "ext4");
		nfiles++;
	}
	d = mount_overlay(odir, sizeof(odir), upper, sizeof(upper));
	if (d) {
		ntorn += running_file(dev, pid, p, tmp_file(d), "overlayfs (read back)");
		nfiles++;
	}
	/* It kept running all along. */
	st_expect_counter_moves(0);
	ST_CHECK(st_state(pid, 0) != 'Z');
	if (ncpu >= 2 && ntorn < nfiles)
		st_fail("only %d of %d calls copied pages while the target rewrote them: the test cannot tell what was hashed",
			ntorn, nfiles * RW_REPS);
}

/*
 * The read-back path: an overlayfs file.  Its own mapping (f_mapping, the
 * overlay inode's) never holds a page: reads and writes go to the upper
 * file, whose page cache has the data.  So the module finds nothing in
 * f_mapping and reads each page back through the file.
 */
void pages_xxh64_readback(void **state)
{
	char dir[PATH_MAX], upper[PATH_MAX], path[PATH_MAX + 16];
	struct ckpt_page_range r[NTRUTH];
	struct ckpt_pages_xxh64 h;
	uint64_t total, off, mem;
	struct layout l;
	uint8_t *ub;
	long n, nu;
	pid_t pid;
	int dev = st_dev(), fd, ufd, k;

	(void)state;
	if (!xxh64_offered(dev, "pages_xxh64_readback"))
		return;
	if (!mount_overlay(dir, sizeof(dir), upper, sizeof(upper)))
		return;
	pid = truth_target(NULL, NULL, &l);
	total = truth_r(&l, r);
	mem = mem_xxh64(pid, r, NTRUTH);
	snprintf(path, sizeof(path), "%s/image", dir);
	fd = st_track_fd(ST_OK(open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)));
	off = 3 * PAGE;
	fresh(&h);
	EXPECT_OK(ioc_xxh64(dev, XXH, pid, fd, r, NTRUTH, off, &h),
		  "PAGES | XXH64, %d ranges into an overlayfs file", NTRUTH);
	check_file_hash(&h, fd, off, total, "overlayfs");
	ST_EQ(h.digest, mem);
	/* The upper file holds the same. */
	snprintf(path, sizeof(path), "%s/image", upper);
	ufd = st_track_fd(ST_OK(open(path, O_RDONLY | O_CLOEXEC)));
	ub = read_at(ufd, off, total);
	ST_EQ(XXH64(ub, total, 0), h.digest);
	free(ub);
	/* Where the kernel has cachestat (6.5+): the overlay file's own page
	 * cache is empty, the upper file's holds the data. */
	n = cached_pages(fd);
	if (n < 0 && errno == ENOSYS) {
		st_diag("cachestat: ENOSYS (before 6.5): the empty page cache of the overlay file is not checked");
	} else {
		ST_CHECK(n >= 0, "cachestat of the overlay file: %s", st_errname(errno));
		nu = cached_pages(ufd);
		ST_CHECK(nu >= 0, "cachestat of the upper file: %s", st_errname(errno));
		if (n != 0 || nu < (long)(total / PAGE))
			st_fail("cachestat: %ld pages in the overlay file's page cache (expected none), %ld in the upper file's (expected %llu or more)",
				n, nu, (unsigned long long)(total / PAGE));
		st_diag("cachestat: the overlay file's page cache holds %ld pages, the upper file's %ld",
			n, nu);
	}
	/* Three calls, the state passed on, after the first copy. */
	fresh(&h);
	for (k = 0; k < 3; k++)
		EXPECT_OK(ioc_xxh64(dev, XXH, pid, fd, r + 3 * k, k < 2 ? 3 : NTRUTH - 6,
				    off + total + ranges_len(r, 3 * k), &h),
			  "call %d of 3 into the overlayfs file", k + 1);
	check_file_hash(&h, fd, off + total, total, "overlayfs, three calls");
	ST_EQ(h.digest, mem);
}

/*
 * ramfs: its writes do land in its page cache, but it is not one of the
 * file systems whose cache the module trusts (tmpfs, ext2/3/4, XFS, btrfs,
 * F2FS), so every page is read back through the file.  ramfs is in every
 * kernel (the debug kernel has neither overlayfs nor ext4): this is the
 * read-back path everywhere, and the fault lane's way to its bounce page.
 */
void pages_xxh64_readback_ramfs(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct ckpt_page_range r[NTRUTH];
	struct ckpt_pages_xxh64 h;
	uint64_t total, mem;
	struct layout l;
	pid_t pid;
	int dev = st_dev(), fd;

	(void)state;
	if (!xxh64_offered(dev, "pages_xxh64_readback_ramfs"))
		return;
	new_mountpoint("ramfs", dir, sizeof(dir));
	ST_CHECK(mount("ramfs", dir, "ramfs", 0, NULL) == 0, "mount ramfs: %s",
		 st_errname(errno));
	st_track_mount(dir);
	pid = truth_target(NULL, NULL, &l);
	total = truth_r(&l, r);
	mem = mem_xxh64(pid, r, NTRUTH);
	snprintf(path, sizeof(path), "%s/image", dir);
	fd = st_track_fd(ST_OK(open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)));
	fresh(&h);
	EXPECT_OK(ioc_xxh64(dev, XXH, pid, fd, r, NTRUTH, PAGE, &h),
		  "PAGES | XXH64, %d ranges into a ramfs file", NTRUTH);
	check_file_hash(&h, fd, PAGE, total, "ramfs");
	ST_EQ(h.digest, mem);
}

/* ---- argument rules ---------------------------------------------------------------------- */

/* A failed call leaves the state as it was (abi.md: "nothing else changed"). */
#define SAME(h, saved, ...)						\
	do {								\
		if (memcmp((h), (saved), sizeof(*(h)))) {		\
			char _w[160];					\
			snprintf(_w, sizeof(_w), __VA_ARGS__);		\
			st_fail("%s: the call failed, but the state changed", _w); \
		}							\
	} while (0)

void pages_xxh64_bad_args(void **state)
{
	static const uint64_t bad_len[] = { 1, 8, 16, 24, 31, 33, 48, 100, 4095,
					    4097, 4096 + 16, (1ULL << 63) | 8,
					    ~0ULL };
	union {
		struct ckpt_pages a;
		char raw[64];
	} u;
	struct ckpt_pages_xxh64 h, saved, *g, *ro;
	struct ckpt_page_range r[2], r2[2];
	uint64_t p, hole, unm;
	pid_t pid = small_target(&p, &hole, 4);
	int dev = st_dev(), fd = tmp_file("/tmp"), wo, rdo, app, pfd[2], sv[2];
	int null, pidfd, bit;
	uint8_t *page;
	size_t i, at;

	(void)state;
	if (!xxh64_offered(dev, "pages_xxh64_bad_args"))
		return;
	r[0] = (struct ckpt_page_range){ p, 2 * PAGE };
	r[1] = (struct ckpt_page_range){ p + 3 * PAGE, PAGE };
	fresh(&h);
	h.acc[0] = 1;
	h.digest = 2;
	saved = h;
	/* The flag and the pointer go together. */
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH, pid, fd, r, 2, 0, NULL),
		   "CKPT_PAGES_XXH64 without a state (hash 0)");
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, 0, pid, fd, r, 2, 0, &h),
		   "a state without CKPT_PAGES_XXH64");
	SAME(&h, &saved, "a state without the flag");
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, 0, pid, fd, r, 2, 0, (void *)1),
		   "hash 1 without CKPT_PAGES_XXH64");
	pidfd = st_track_fd(ST_OK(ckpt_pidfd_open(pid, 0)));
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, CKPT_PAGES_PIDFD, pidfd, fd, r, 2, 0, &h),
		   "CKPT_PAGES_PIDFD and a state, without CKPT_PAGES_XXH64");
	SAME(&h, &saved, "PIDFD, a state without the flag");
	/* Unknown flags, with a valid state. */
	for (bit = 0; bit < 32; bit++) {
		uint32_t f = 1U << bit;

		if (f & (CKPT_PAGES_PIDFD | XXH))
			continue;
		EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH | f, pid, fd, r, 2, 0, &h),
			   "CKPT_PAGES_XXH64 | %#x (unknown)", f);
		SAME(&h, &saved, "flag %#x", f);
	}
	/* A state that cannot be read: EFAULT. */
	EXPECT_ERR(EFAULT, ioc_xxh64(dev, XXH, pid, fd, r, 2, 0, (void *)1), "state at 1");
	EXPECT_ERR(EFAULT, ioc_xxh64(dev, XXH, pid, fd, r, 2, 0,
				     (void *)0xffff888000000000UL),
		   "state at a kernel address");
	unm = (uint64_t)(uintptr_t)mmap(NULL, PAGE, PROT_READ,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_OK(munmap((void *)(uintptr_t)unm, PAGE));
	EXPECT_ERR(EFAULT, ioc_xxh64(dev, XXH, pid, fd, r, 2, 0, (void *)(uintptr_t)unm),
		   "state unmapped");
	/* len and acc readable (zeros: a new hash), digest in a guard page. */
	g = st_guarded(CKPT_PAGES_XXH64_SIZE - 8);
	EXPECT_ERR(EFAULT, ioc_xxh64(dev, XXH, pid, fd, r, 2, 0, g),
		   "a state whose digest is in a guard page");
	/* len: whole stripes of 32 bytes only. */
	for (i = 0; i < ARRAY_SIZE(bad_len); i++) {
		h.len = bad_len[i];
		saved = h;
		EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH, pid, fd, r, 2, 0, &h),
			   "state len %llu", (unsigned long long)bad_len[i]);
		SAME(&h, &saved, "len %llu", (unsigned long long)bad_len[i]);
	}
	fresh(&h);
	saved = h;

	/* The fd: open for reading too, after the other fd rules. */
	wo = reopen(fd, O_WRONLY);
	EXPECT_ERR(EBADF, ioc_xxh64(dev, XXH, pid, wo, r, 2, 0, &h),
		   "a file open O_WRONLY, with CKPT_PAGES_XXH64");
	SAME(&h, &saved, "O_WRONLY");
	EXPECT_OK(ioc_pages(dev, pid, wo, r, 2, 0), "the same O_WRONLY file, no hash");
	rdo = reopen(fd, O_RDONLY);
	EXPECT_ERR(EBADF, ioc_xxh64(dev, XXH, pid, rdo, r, 2, 0, &h), "a file open O_RDONLY");
	app = reopen(fd, O_WRONLY | O_APPEND);
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH, pid, app, r, 2, 0, &h),
		   "a file open O_WRONLY|O_APPEND (EINVAL before the read check)");
	app = reopen(fd, O_RDWR | O_APPEND);
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH, pid, app, r, 2, 0, &h),
		   "a file open O_RDWR|O_APPEND");
	track_pipe(pfd);
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH, pid, pfd[1], r, 2, 0, &h),
		   "a pipe's write end (not regular, and not readable)");
	EXPECT_ERR(EBADF, ioc_xxh64(dev, XXH, pid, pfd[0], r, 2, 0, &h),
		   "a pipe's read end");
	ST_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	st_track_fd(sv[0]);
	st_track_fd(sv[1]);
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH, pid, sv[0], r, 2, 0, &h), "a socket");
	null = st_track_fd(ST_OK(open("/dev/null", O_RDWR)));
	EXPECT_ERR(EINVAL, ioc_xxh64(dev, XXH, pid, null, r, 2, 0, &h), "/dev/null O_RDWR");
	SAME(&h, &saved, "the fd rules");
	/* O_RDWR: fine. */
	EXPECT_OK(ioc_xxh64(dev, XXH, pid, fd, r, 2, PAGE, &h), "a file open O_RDWR");
	check_file_hash(&h, fd, PAGE, 3 * PAGE, "O_RDWR");

	/* Failures after the checks leave the state as it was too: a target
	 * that is gone, an unmapped second range (after the first was
	 * written and hashed). */
	saved = h;
	EXPECT_ERR(ESRCH, ioc_xxh64(dev, XXH, st_reaped_pid(), fd, r, 2, 0, &h),
		   "a reaped pid");
	SAME(&h, &saved, "ESRCH");
	r2[0] = (struct ckpt_page_range){ p, PAGE };
	r2[1] = (struct ckpt_page_range){ hole + PAGE, PAGE };
	EXPECT_ERR(EFAULT, ioc_xxh64(dev, XXH, pid, fd, r2, 2, 0, &h),
		   "a mapped range, then an unmapped one");
	SAME(&h, &saved, "EFAULT from the second range");
	/* The state is stored back: in read-only memory, EFAULT. */
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(page != MAP_FAILED);
	ro = (void *)page;
	fresh(ro);
	ST_OK(mprotect(page, PAGE, PROT_READ));
	EXPECT_ERR(EFAULT, ioc_xxh64(dev, XXH, pid, fd, r, 2, 0, ro),
		   "a read-only state (the new state cannot be stored)");
	munmap(page, PAGE);

	/* Size versioning: a VER0-sized call has no @hash field. */
	memset(&u, 0, sizeof(u));
	u.a = (struct ckpt_pages){ .flags = XXH, .pid = pid, .fd = fd, .count = 2,
				   .ranges = (uintptr_t)r, .offset = 0,
				   .hash = (uintptr_t)&h };
	saved = h;
	EXPECT_ERR(EINVAL, ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, CKPT_PAGES_SIZE_VER0), &u),
		   "CKPT_PAGES_XXH64 in a call of size %u (no hash field)",
		   CKPT_PAGES_SIZE_VER0);
	u.a.flags = 0;
	EXPECT_OK(ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, CKPT_PAGES_SIZE_VER0), &u),
		  "a call of size %u, flags 0, a state pointer after its end (not read)",
		  CKPT_PAGES_SIZE_VER0);
	SAME(&h, &saved, "a VER0-sized call");
	EXPECT_ERR(EINVAL, ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, CKPT_PAGES_SIZE_VER1), &u),
		   "a call of size %u, flags 0, a state pointer", CKPT_PAGES_SIZE_VER1);
	/* Any nonzero byte of @hash without the flag: EINVAL, not E2BIG. */
	for (at = CKPT_PAGES_SIZE_VER0; at < CKPT_PAGES_SIZE_VER1; at++) {
		memset(&u, 0, sizeof(u));
		u.a = (struct ckpt_pages){ .pid = pid, .fd = fd, .count = 2,
					   .ranges = (uintptr_t)r };
		u.raw[at] = (char)0x80;
		EXPECT_ERR(EINVAL, ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, CKPT_PAGES_SIZE_VER1), &u),
			   "size %u, flags 0, byte %zu set", CKPT_PAGES_SIZE_VER1, at);
	}
	/* Larger, with a zero tail: fine with the hash; a nonzero tail: E2BIG. */
	memset(&u, 0, sizeof(u));
	u.a = (struct ckpt_pages){ .flags = XXH, .pid = pid, .fd = fd, .count = 2,
				   .ranges = (uintptr_t)r, .offset = 0,
				   .hash = (uintptr_t)&h };
	fresh(&h);
	EXPECT_OK(ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, sizeof(u)), &u),
		  "size %zu, a zero tail, CKPT_PAGES_XXH64", sizeof(u));
	check_file_hash(&h, fd, 0, 3 * PAGE, "a larger argument");
	saved = h;
	u.raw[sizeof(u) - 1] = 1;
	EXPECT_ERR(E2BIG, ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, sizeof(u)), &u),
		   "size %zu, the last byte set, CKPT_PAGES_XXH64", sizeof(u));
	SAME(&h, &saved, "E2BIG");
}

/*
 * Where the hash rules sit in the errno order (kmod/pages.c, ckpt_pages()):
 * flags, count, offset; the ranges; the state (EINVAL, EFAULT); the fd
 * (EBADF); its kind (EINVAL); EBADF when it is not open for reading; the
 * capability; the target.  Every case runs, then every mismatch is
 * reported at once.
 */
void pages_xxh64_errno_order(void **state)
{
	struct ckpt_page_range r[1], unm[1], bad[1], big[2];
	struct ckpt_pages_xxh64 h, odd, *ro;
	uint64_t p, hole;
	pid_t pid = small_target(&p, &hole, 1), z;
	int dev = st_dev(), fd = tmp_file("/tmp"), wo, app, pfd[2], dir;
	int bad_n = 0;
	struct perm c = { .dev = dev, .fd = fd, .uid = 65534, .addr = p,
			  .flags = XXH };
	const void *kern = (void *)0xffff888000000000UL;
	char got[2048] = "";
	uint8_t *page;

#define CALL(...)	(ioc_xxh64(__VA_ARGS__) ? errno : 0)

	(void)state;
	if (!xxh64_offered(dev, "pages_xxh64_errno_order"))
		return;
	z = zombie_target(NULL);
	track_pipe(pfd);
	dir = st_track_fd(ST_OK(open("/tmp", O_RDONLY | O_DIRECTORY)));
	wo = reopen(fd, O_WRONLY);
	app = reopen(fd, O_WRONLY | O_APPEND);
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(page != MAP_FAILED);
	ro = (void *)page;
	fresh(ro);
	ST_OK(mprotect(page, PAGE, PROT_READ));
	fresh(&h);
	fresh(&odd);
	odd.len = 1;
	r[0] = (struct ckpt_page_range){ p, PAGE };
	unm[0] = (struct ckpt_page_range){ hole + PAGE, PAGE };	/* not mapped */
	bad[0] = (struct ckpt_page_range){ p + 1, PAGE };	/* unaligned */
	big[0] = (struct ckpt_page_range){ 0x200000000000ULL, 768 * MiB };
	big[1] = big[0];

	/* flags, count, offset before the state. */
	ORDER(EINVAL, CALL(dev, XXH | (1U << 2), 0, ~0U, NULL, 1, 0, kern),
	      "an unknown flag, ranges NULL, the state at a kernel address");
	ORDER(EINVAL, CALL(dev, XXH, 0, ~0U, r, 0, 0, kern),
	      "count 0, the state at a kernel address");
	ORDER(EINVAL, CALL(dev, XXH, 0, ~0U, r, 1, 1, kern),
	      "an unaligned offset, the state at a kernel address");
	/* The ranges before the state. */
	ORDER(EFAULT, CALL(dev, XXH, 0, ~0U, NULL, 1, 0, NULL),
	      "ranges NULL, CKPT_PAGES_XXH64 without a state");
	ORDER(EFAULT, CALL(dev, 0, 0, ~0U, NULL, 1, 0, &h),
	      "ranges NULL, a state without CKPT_PAGES_XXH64");
	ORDER(EFAULT, CALL(dev, XXH, 0, ~0U, NULL, 1, 0, &odd),
	      "ranges NULL, state len 1");
	ORDER(EINVAL, CALL(dev, XXH, 0, ~0U, bad, 1, 0, kern),
	      "an unaligned range, the state at a kernel address");
	ORDER(EINVAL, CALL(dev, XXH, 0, ~0U, big, 2, 0, kern),
	      "more than 1 GiB, the state at a kernel address");
	ORDER(EINVAL, CALL(dev, XXH, 0, ~0U, r, 1, 0x7ffffffffffff000ULL, kern),
	      "offset + total beyond LLONG_MAX, the state at a kernel address");
	/* The state before the fd and the target. */
	ORDER(EFAULT, CALL(dev, XXH, 0, ~0U, r, 1, 0, kern),
	      "the state at a kernel address, fd -1, pid 0");
	ORDER(EINVAL, CALL(dev, XXH, 0, ~0U, r, 1, 0, &odd), "state len 1, fd -1, pid 0");
	ORDER(EINVAL, CALL(dev, XXH, 0, ~0U, r, 1, 0, NULL),
	      "CKPT_PAGES_XXH64 without a state, fd -1, pid 0");
	ORDER(EINVAL, CALL(dev, 0, 0, ~0U, r, 1, 0, &h),
	      "a state without CKPT_PAGES_XXH64, fd -1, pid 0");
	ORDER(EFAULT, CALL(dev, XXH, 0, wo, r, 1, 0, kern),
	      "the state at a kernel address, an O_WRONLY fd");
	ORDER(EINVAL, CALL(dev, XXH, 0, wo, r, 1, 0, &odd), "state len 1, an O_WRONLY fd");
	/* The fd: EBADF, its kind, then readable, before the target. */
	ORDER(EBADF, CALL(dev, XXH, 0, ~0U, r, 1, 0, &h), "fd -1, pid 0");
	ORDER(EBADF, CALL(dev, XXH, 0, dir, r, 1, 0, &h), "a directory, pid 0");
	ORDER(EINVAL, CALL(dev, XXH, 0, pfd[1], r, 1, 0, &h),
	      "a pipe's write end (not readable either), pid 0");
	ORDER(EINVAL, CALL(dev, XXH, pid, app, r, 1, 0, &h),
	      "O_WRONLY|O_APPEND (not readable either)");
	ORDER(EBADF, CALL(dev, XXH, 0, wo, r, 1, 0, &h), "O_WRONLY, pid 0");
	ORDER(EBADF, CALL(dev, XXH, 2, wo, r, 1, 0, &h), "O_WRONLY, kthreadd");
	ORDER(EBADF, CALL(dev, XXH, z, wo, r, 1, 0, &h), "O_WRONLY, a zombie");
	ORDER(EBADF, CALL(dev, XXH, pid, wo, unm, 1, 0, &h),
	      "O_WRONLY, a range not mapped");
	/* The target (and its memory) before the state is stored back. */
	ORDER(ESRCH, CALL(dev, XXH, 0, fd, r, 1, 0, ro), "pid 0, a read-only state");
	ORDER(EOPNOTSUPP, CALL(dev, XXH, 2, fd, r, 1, 0, ro), "kthreadd, a read-only state");
	ORDER(EAGAIN, CALL(dev, XXH, z, fd, r, 1, 0, ro), "a zombie, a read-only state");
	ORDER(EFAULT, CALL(dev, XXH, pid, fd, unm, 1, 0, &h), "a range not mapped");
	/* Unprivileged: the state and the fd rules first, then EPERM. */
	c.target = pid;
	c.hash = (uintptr_t)kern;
	ORDER(EFAULT, perm_result(&c), "no capability, the state at a kernel address");
	c.hash = (uintptr_t)&odd;
	ORDER(EINVAL, perm_result(&c), "no capability, state len 1");
	c.hash = 0;
	ORDER(EINVAL, perm_result(&c), "no capability, CKPT_PAGES_XXH64 without a state");
	c.hash = (uintptr_t)&h;
	c.fd = wo;
	ORDER(EBADF, perm_result(&c), "no capability, an O_WRONLY fd");
	c.fd = fd;
	ORDER(EPERM, perm_result(&c), "no capability");
	c.hash = (uintptr_t)ro;
	ORDER(EPERM, perm_result(&c), "no capability, a read-only state");
	c.caps[0] = CAP_CHECKPOINT_RESTORE;
	c.ncaps = 1;
	ORDER(EPERM, perm_result(&c),
	      "CAP_CHECKPOINT_RESTORE as nobody, root's process, a read-only state");
	c.hash = (uintptr_t)&h;
	c.fd = wo;
	ORDER(EBADF, perm_result(&c),
	      "CAP_CHECKPOINT_RESTORE as nobody, root's process, an O_WRONLY fd");
	munmap(page, PAGE);
	if (bad_n)
		st_fail("%d cases disagree with the errno order: %s", bad_n, got);
#undef CALL
}
