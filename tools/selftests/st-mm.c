// SPDX-License-Identifier: GPL-2.0
/*
 * st-mm.c: CKPT_IOC_VMAS (group "mm").
 *
 * A process makes mappings of every kind ckpt-user meets (private and
 * shared anonymous, private and shared file, PROT_NONE, a grows-down
 * stack) and sets the VMA flags madvise/mlock/mmap can set (dontdump,
 * dontfork, wipeonfork, hugepage, nohugepage, sequential, random, locked,
 * noreserve); a second thread exists so that a non-leader tid is asked
 * too.  Frozen, the module's answer must equal /proc/PID/smaps, VMA for
 * VMA: range, file offset, device, inode, ProtectionKey and the VmFlags
 * mnemonics in smaps' order.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysmacros.h>
#include "st.h"

#ifndef MADV_WIPEONFORK
#define MADV_WIPEONFORK	18
#endif

/* ---- ioctl wrapper (@out gets the struct as written back) ---------------------- */

static int ioc_vmas(int fd, pid_t pid, struct ckpt_vma *v, uint32_t count,
		    struct ckpt_vmas *out)
{
	struct ckpt_vmas a = {
		.pid = (__u32)pid,
		.vmas = (__u64)(uintptr_t)v,
		.count = count,
	};
	int ret = ioctl(fd, CKPT_IOC_VMAS, &a), err = errno;

	if (out)
		*out = a;
	errno = err;
	return ret;
}

/* All VMAs of @pid (calloc'ed), sized by the ENOSPC answer; @out (if
 * not NULL) gets the struct of the successful call. */
static struct ckpt_vma *get_vmas_arg(int fd, pid_t pid, uint32_t *n,
				     struct ckpt_vmas *out)
{
	struct ckpt_vmas a, b;
	struct ckpt_vma *v;

	ST_ERR(ioc_vmas(fd, pid, NULL, 0, &a), ENOSPC);
	ST_CHECK(a.count > 0 && a.count < 100000, "count %u", a.count);
	v = calloc(a.count, sizeof(*v));
	ST_CHECK(v != NULL);
	ST_OK(ioc_vmas(fd, pid, v, a.count, &b));
	ST_EQ(b.count, a.count);
	/* ENOSPC reports the heap break too, the same. */
	ST_EQ(b.brk, a.brk);
	ST_EQ(b.start_brk, a.start_brk);
	*n = b.count;
	if (out)
		*out = b;
	return v;
}

static struct ckpt_vma *get_vmas(int fd, pid_t pid, uint32_t *n)
{
	return get_vmas_arg(fd, pid, n, NULL);
}

/* Field 47 of /proc/PID/stat: start_brk. */
static uint64_t stat_start_brk(pid_t pid)
{
	char path[64], buf[4096], *p;
	unsigned long long v = 0;
	int i;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	ST_CHECK(f != NULL);
	ST_CHECK(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	p = strrchr(buf, ')');
	ST_CHECK(p != NULL);
	/* ") S ppid ...": field 3 is the state, after ") " */
	for (i = 2; i < 47 && p; i++)
		p = strchr(p + 1, ' ');
	ST_CHECK(p != NULL);
	i = sscanf(p + 1, "%llu", &v);
	ST_EQ(i, 1);
	return v;
}

/* ---- smaps, the truth -------------------------------------------------------------- */

/* CKPT_VMA_* bit -> smaps mnemonic (uapi/linux/ckpt.h). */
static const char *const vma_names[64] = {
	[0] = "rd", [1] = "wr", [2] = "ex", [3] = "sh", [4] = "mr", [5] = "mw",
	[6] = "me", [7] = "ms", [8] = "gd", [9] = "um", [10] = "pf",
	[12] = "uw", [13] = "lo", [14] = "io", [15] = "sr", [16] = "rr",
	[17] = "dc", [18] = "de", [19] = "lf", [20] = "ac", [21] = "nr",
	[22] = "ht", [23] = "sf", [24] = "ar", [25] = "wf", [26] = "dd",
	[27] = "sd", [28] = "mm", [29] = "hg", [30] = "nh", [31] = "mg",
	[37] = "ss", [38] = "ui", [40] = "dp", [63] = "sl",
};

static void vma_flag_string(const struct ckpt_vma *v, char *buf, size_t len)
{
	size_t at = 0;
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < 64; i++) {
		if (!(v->flags & (1ULL << i)))
			continue;
		ST_CHECK(vma_names[i] != NULL, "bit %u has no name", i);
		at += snprintf(buf + at, len - at, "%s ", vma_names[i]);
	}
	for (i = 0; i < v->nr_unknown; i++)
		at += snprintf(buf + at, len - at, "?? ");
	ST_CHECK(at < len);
}

struct smaps_vma {
	uint64_t start, end, pgoff, ino;
	unsigned int major, minor;
	int pkey;			/* -1: no ProtectionKey line */
	char flags[256];		/* "rd wr mr mw me ac " */
	char path[256];
};

static struct smaps_vma *read_smaps(pid_t pid, size_t *n)
{
	char path[64], line[4096];
	struct smaps_vma *v = NULL, *cur = NULL;
	size_t cap = 0;
	FILE *f;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	ST_CHECK(f != NULL, "%s: %s", path, st_errname(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, off, ino;
		unsigned int maj, mnr;
		int pos = 0;

		line[strcspn(line, "\n")] = 0;
		if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu %n", &s, &e, &off,
			   &maj, &mnr, &ino, &pos) >= 6) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 64;
				v = realloc(v, cap * sizeof(*v));
				ST_CHECK(v != NULL);
			}
			cur = &v[(*n)++];
			memset(cur, 0, sizeof(*cur));
			cur->start = s;
			cur->end = e;
			cur->pgoff = off;
			cur->major = maj;
			cur->minor = mnr;
			cur->ino = ino;
			cur->pkey = -1;
			snprintf(cur->path, sizeof(cur->path), "%.200s", line + pos);
		} else if (cur && !strncmp(line, "VmFlags: ", 9)) {
			ST_CHECK(strlen(line + 9) < sizeof(cur->flags));
			strcpy(cur->flags, line + 9);
		} else if (cur && !strncmp(line, "ProtectionKey:", 14)) {
			cur->pkey = atoi(line + 14);
		}
	}
	fclose(f);
	return v;
}

/* ---- the workload ------------------------------------------------------------------ */

#define MAP_PAGES	4

static void *mm_thread(void *arg)
{
	(void)arg;
	st_report(2, 0, st_gettid(), 0);
	st_ready();
	st_idle();
}

static void *map(size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	WL_CHECK(p != MAP_FAILED);
	return p;
}

static void mm_fn(void *arg)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)pg * MAP_PAGES;
	char name[] = "/tmp/ckpt-st-mm.XXXXXX";
	int fd = mkstemp(name);
	char *p;

	(void)arg;
	WL_CHECK(fd >= 0);
	WL_CHECK(unlink(name) == 0 || errno == ENOENT);
	/* The file was unlinked: that shows as "(deleted)"; the module does
	 * not care, smaps' path is not compared. */
	WL_CHECK(ftruncate(fd, len * 4) == 0);
	/* A guard page after each so that the kernel cannot merge them. */
	p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	p = map(len, PROT_READ, MAP_PRIVATE, fd, pg);		/* pgoff 1 page */
	p = map(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * pg);
	p[0] = 2;
	p = map(len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	p[0] = 3;
	p = map(len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = map(len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN, -1, 0);
	p = map(len, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p = map(len, PROT_READ | PROT_WRITE,
		MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	p = map(len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_CHECK(madvise(p, len, MADV_DONTDUMP) == 0);
	p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_CHECK(madvise(p, len, MADV_DONTFORK) == 0);
	p = map(len, PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_CHECK(madvise(p, len, MADV_WIPEONFORK) == 0);
	p = map(len, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_CHECK(madvise(p, len, MADV_HUGEPAGE) == 0 || errno == EINVAL);
	p = map(len, PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_CHECK(madvise(p, len, MADV_NOHUGEPAGE) == 0 || errno == EINVAL);
	p = map(len, PROT_READ, MAP_PRIVATE, fd, 0);
	WL_CHECK(madvise(p, len, MADV_SEQUENTIAL) == 0);
	p = map(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	WL_CHECK(madvise(p, len, MADV_RANDOM) == 0);
	p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	WL_CHECK(mlock(p, len) == 0);
	p = map(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Part of a VMA: splits it in three. */
	WL_CHECK(madvise(p + pg, pg, MADV_DONTDUMP) == 0);
	/* Move the program break to an unaligned place. */
	WL_CHECK(sbrk(3 * pg + 123) != (void *)-1);
	st_wl_thread(mm_thread, NULL);
	st_report(1, 0, 0, (uint64_t)(uintptr_t)sbrk(0));
	st_ready();
	st_idle();
}

/* Every VMA the module lists against smaps, for the leader and a thread. */
static void mm_vmas_truth(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	pid_t root = st_spawn(cg, mm_fn, NULL), tid;
	struct ckpt_vma *v, *v2;
	struct ckpt_vmas a;
	struct smaps_vma *sm;
	uint32_t n, n2, i;
	size_t ns, j;
	char want[256];
	int fd;

	st_wait_ready(2);
	tid = st_find_rep(2, 0)->aux;
	st_freeze(cg);
	fd = st_begin(cg, root);
	v = get_vmas_arg(fd, root, &n, &a);
	v2 = get_vmas(fd, tid, &n2);
	ST_EQ(n2, n);
	/* The break the process's sbrk(0) saw, and /proc's start_brk. */
	ST_EQ(a.brk, st_find_rep(1, 0)->val);
	ST_EQ(a.start_brk, stat_start_brk(root));
	ST_CHECK(a.brk > a.start_brk, "brk %#llx start %#llx",
		 (unsigned long long)a.brk, (unsigned long long)a.start_brk);
	ST_CHECK(memcmp(v, v2, n * sizeof(*v)) == 0, "leader and thread differ");
	sm = read_smaps(root, &ns);
	/* smaps also lists the vsyscall page, which is no VMA of the process. */
	if (ns && strstr(sm[ns - 1].path, "[vsyscall]"))
		ns--;
	ST_EQ(ns, n);
	ST_CHECK(n > 20, "only %u VMAs", n);
	for (i = 0; i < n; i++) {
		j = i;
		ST_EQ(v[i].start, sm[j].start);
		ST_EQ(v[i].end, sm[j].end);
		ST_EQ(v[i].pgoff, sm[j].pgoff);
		ST_EQ(v[i].ino, sm[j].ino);
		ST_EQ(v[i].dev_major, sm[j].major);
		ST_EQ(v[i].dev_minor, sm[j].minor);
		ST_EQ(v[i].reserved, 0);
		if (sm[j].pkey >= 0)
			ST_EQ(v[i].pkey, sm[j].pkey);
		vma_flag_string(&v[i], want, sizeof(want));
		if (strcmp(want, sm[j].flags))
			st_fail("VMA %#llx-%#llx %s: module '%s', smaps '%s'",
				(unsigned long long)v[i].start,
				(unsigned long long)v[i].end, sm[j].path, want,
				sm[j].flags);
		if (i)
			ST_CHECK(v[i].start >= v[i - 1].end, "not in order at %u", i);
	}
	/* Every kind the workload made is there. */
	for (i = 0, j = 0; i < n; i++)
		j |= v[i].flags;
	ST_CHECK((j & (CKPT_VMA_DONTDUMP | CKPT_VMA_DONTCOPY | CKPT_VMA_WIPEONFORK |
		       CKPT_VMA_LOCKED | CKPT_VMA_GROWSDOWN | CKPT_VMA_NORESERVE |
		       CKPT_VMA_SEQ_READ | CKPT_VMA_RAND_READ | CKPT_VMA_SHARED)) ==
		 (CKPT_VMA_DONTDUMP | CKPT_VMA_DONTCOPY | CKPT_VMA_WIPEONFORK |
		  CKPT_VMA_LOCKED | CKPT_VMA_GROWSDOWN | CKPT_VMA_NORESERVE |
		  CKPT_VMA_SEQ_READ | CKPT_VMA_RAND_READ | CKPT_VMA_SHARED),
		 "flags seen: %#llx", (unsigned long long)j);
	free(sm);
	free(v);
	free(v2);
}

static void mm_vmas_truth_v2(void **state)
{
	(void)state;
	mm_vmas_truth(false);
}

static void mm_vmas_truth_v1(void **state)
{
	(void)state;
	mm_vmas_truth(true);
}

/* ---- capacity, pointers, arguments ---------------------------------------------------- */

static void mm_vmas_capacity(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 1);
	int fd = st_begin(cg, root);
	long pg = sysconf(_SC_PAGESIZE);
	struct ckpt_vma *v, *v2, *g;
	struct ckpt_vmas a;
	uint32_t n, i;
	size_t len;
	char *m;

	(void)state;
	v = get_vmas(fd, root, &n);
	/* One short: ENOSPC, count says how many, nothing written. */
	memset(v, 0xa5, n * sizeof(*v));
	ST_ERR(ioc_vmas(fd, root, v, n - 1, &a), ENOSPC);
	ST_EQ(a.count, n);
	ST_EQ(((uint8_t *)v)[0], 0xa5);
	/* Exactly n entries right before a guard page. */
	len = (n * sizeof(*v) + pg - 1) / pg * pg;
	m = mmap(NULL, len + pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(m != MAP_FAILED);
	ST_OK(mprotect(m + len, pg, PROT_NONE));
	g = (struct ckpt_vma *)(m + len) - n;
	ST_OK(ioc_vmas(fd, root, g, n, &a));
	ST_EQ(a.count, n);
	v2 = get_vmas(fd, root, &i);
	ST_EQ(i, n);
	ST_CHECK(memcmp(g, v2, n * sizeof(*v)) == 0);
	free(v2);
	/* One entry of room too few for the capacity claimed: EFAULT. */
	ST_ERR(ioc_vmas(fd, root, g + 1, n, &a), EFAULT);
	ST_EQ(a.count, 0);
	ST_ERR(ioc_vmas(fd, root, NULL, n, &a), EFAULT);
	ST_ERR(ioc_vmas(fd, root, (void *)0xffff888000000000UL, n, &a), EFAULT);
	ST_OK(mprotect(m, len, PROT_READ));
	ST_ERR(ioc_vmas(fd, root, g, n, &a), EFAULT);
	munmap(m, len + pg);
	/* More room than needed: the rest untouched. */
	free(v);
	v = calloc(n + 8, sizeof(*v));
	ST_CHECK(v != NULL);
	memset(v, 0xa5, (n + 8) * sizeof(*v));
	ST_OK(ioc_vmas(fd, root, v, n + 8, &a));
	ST_EQ(a.count, n);
	for (i = n * sizeof(*v); i < (n + 8) * sizeof(*v); i++)
		ST_EQ(((uint8_t *)v)[i], 0xa5);
	free(v);
}

static void mm_vmas_bad_args(void **state)
{
	static const uint32_t bad[] = { 1, 2, 0x80000000, ~0U };
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 1);
	int fd = st_begin(cg, root);
	struct ckpt_vma v[256];
	struct ckpt_vmas a;
	union {
		char raw[4096];
		struct ckpt_vmas a;
	} u;
	unsigned int at;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		a = (struct ckpt_vmas){ .flags = bad[i], .pid = root,
			.vmas = (uintptr_t)v, .count = 256 };
		ST_ERR(ioctl(fd, CKPT_IOC_VMAS, &a), EINVAL);
		a = (struct ckpt_vmas){ .reserved = bad[i], .pid = root,
			.vmas = (uintptr_t)v, .count = 256 };
		ST_ERR(ioctl(fd, CKPT_IOC_VMAS, &a), EINVAL);
	}
	for (at = 0; at < CKPT_VMAS_SIZE_VER0; at += 8) {
		memset(&u, 0, sizeof(u));
		ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_VMAS, at), &u), EINVAL);
	}
	ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_VMAS, CKPT_VMAS_SIZE_VER0 - 1), &u), EINVAL);
	/* Long with a zero tail: works. */
	memset(&u, 0, sizeof(u));
	u.a.pid = root;
	u.a.vmas = (uintptr_t)v;
	u.a.count = 256;
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_VMAS, sizeof(u)), &u));
	ST_CHECK(u.a.count > 0 && u.a.count <= 256);
	for (i = sizeof(u.a); i < sizeof(u); i++)
		ST_EQ(u.raw[i], 0);
	/* A nonzero byte past the struct: E2BIG. */
	for (at = sizeof(u.a); at < sizeof(u.a) + 64; at += 7) {
		memset(&u, 0, sizeof(u));
		u.a.pid = root;
		u.a.vmas = (uintptr_t)v;
		u.a.count = 256;
		u.raw[at] = 1;
		ST_ERR(ioctl(fd, st_ioc_sized(CKPT_IOC_VMAS, sizeof(u.a) + 64), &u), E2BIG);
	}
	ST_OK(ioc_vmas(fd, root, v, 256, &a));
}

/* Processes the command refuses, and no session. */
static void mm_vmas_refused(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	struct ckpt_cg *out = st_cg_new(false, "out");
	pid_t root = st_spawn(cg, st_wl_zombie_root, NULL), other, o, z, dead;
	struct ckpt_vma v[256];
	struct ckpt_vmas a;
	int fd;

	(void)state;
	st_wait_ready(1);
	z = st_find_rep(1, 0)->aux;
	st_wait_state(z, 0, 'Z');
	other = st_spawn(cg, st_wl_idle, NULL);
	o = st_spawn(out, st_wl_idle, NULL);
	st_freeze(cg);

	fd = st_dev();
	ST_ERR(ioc_vmas(fd, root, v, 256, &a), ENOENT);
	ST_EQ(a.count, 0);
	ST_EQ(a.brk, 0);
	ST_OK(ckpt_ioc_begin(fd, st_cg_fd(cg), root, 0));
	ST_ERR(ioc_vmas(fd, other, v, 256, &a), EXDEV);	/* another tree */
	ST_ERR(ioc_vmas(fd, o, v, 256, &a), EXDEV);		/* another cgroup */
	ST_ERR(ioc_vmas(fd, getpid(), v, 256, &a), EXDEV);
	ST_ERR(ioc_vmas(fd, 1, v, 256, &a), EXDEV);
	ST_ERR(ioc_vmas(fd, z, v, 256, &a), EAGAIN);		/* zombie */
	ST_EQ(a.brk, 0);
	ST_EQ(a.start_brk, 0);
	dead = st_reaped_pid();
	ST_ERR(ioc_vmas(fd, dead, v, 256, &a), ESRCH);
	ST_ERR(ioc_vmas(fd, 0, v, 256, &a), ESRCH);
	ST_ERR(ioc_vmas(fd, -1, v, 256, &a), ESRCH);
	ST_OK(ioc_vmas(fd, root, v, 256, &a));
	ST_OK(ckpt_ioc_end(fd));
	ST_ERR(ioc_vmas(fd, root, v, 256, &a), ENOENT);
}

static const struct CMUnitTest tests[] = {
	ST_TEST(mm_vmas_truth_v2),
	ST_TEST(mm_vmas_truth_v1),
	ST_TEST(mm_vmas_capacity),
	ST_TEST(mm_vmas_bad_args),
	ST_TEST(mm_vmas_refused),
};

const struct st_group st_group_mm = { "mm", tests, ARRAY_SIZE(tests) };
