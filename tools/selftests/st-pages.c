// SPDX-License-Identifier: GPL-2.0
/*
 * st-pages.c: CKPT_IOC_PAGES (group "pages"), against the contract in
 * Documentation/abi.md, section "CKPT_IOC_PAGES".
 *
 * Truth: a workload fills mappings of every kind with a known pattern
 * (private anonymous memory split by mprotect into RW / PROT_NONE / RW
 * VMAs with a never-touched page, a PROT_NONE mapping that held data
 * before its mprotect, a private file mapping with a COWed page and a
 * never-faulted page, a MADV_HUGEPAGE region, shared anonymous memory, the
 * vDSO, a page a thread keeps changing).  Several ranges of it, in no
 * address order and one twice, go into files in one call at a non-zero
 * page-aligned offset; the files must equal, byte for byte, what
 * /proc/PID/mem (and process_vm_readv where the memory is readable) reads,
 * which must itself equal the pattern.  The target runs (no session) or
 * is frozen inside a session (v2 and v1).  Files: tmpfs (/tmp, pre-filled
 * around the written range, which must stay untouched), a tmpfs mounted
 * huge=always (large folios in the page cache where the kernel has THP),
 * and ext4 on a loop device (where the kernel has ext4 and loop).
 *
 * Then every argument rule with its exact errno, the fd rules, the
 * targets it refuses (ESRCH, EOPNOTSUPP for a kernel thread, EAGAIN for a
 * zombie, EFAULT for memory that is not mapped or is VM_IO/VM_PFNMAP),
 * EPERM without the capability or without ptrace access, file-system
 * errors as pwrite returns them (ENOSPC on a full tmpfs, EFBIG, EPERM on a
 * sealed memfd), a caller killed in a long call, parallel calls on one
 * file, and a source that is a shared mapping of the destination file.
 *
 * pages_errno_order checks the order of abi.md's errno table where two
 * rows apply.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <linux/userfaultfd.h>
#include "st.h"

#define PAGE		4096UL
#define MiB		(1UL << 20)
#define GiB		(1ULL << 30)

/* ---- the command ---------------------------------------------------------------- */

static int ioc_pages(int dev, uint32_t pid, uint32_t fd,
		     const struct ckpt_page_range *r, uint32_t count,
		     uint64_t offset)
{
	struct ckpt_pages a = {
		.pid = pid,
		.fd = fd,
		.count = count,
		.ranges = (__u64)(uintptr_t)r,
		.offset = offset,
	};

	return ioctl(dev, CKPT_IOC_PAGES, &a);
}

/*
 * @expr must fail with exactly @err; the message says what the call was
 * (printf-style), what was expected and what happened.  The "-1/ERRNO"
 * form is what tools/faults/run-in-vm.sh looks for (an injected ENOMEM).
 */
#define EXPECT_ERR(err, expr, ...)					\
	do {								\
		char _what[256];					\
		long _r;						\
		int _e;							\
		errno = 0;						\
		_r = (long)(expr);					\
		_e = errno;						\
		if (_r != -1 || _e != (err)) {				\
			snprintf(_what, sizeof(_what), __VA_ARGS__);	\
			st_fail("%s: expected -1/%s, got %ld/%s", _what, \
				st_errname(err), _r,			\
				_r == -1 ? st_errname(_e) : "success");	\
		}							\
	} while (0)

#define EXPECT_OK(expr, ...)						\
	do {								\
		char _what[256];					\
		long _r;						\
		errno = 0;						\
		_r = (long)(expr);					\
		if (_r != 0) {						\
			int _e = errno;					\
			snprintf(_what, sizeof(_what), __VA_ARGS__);	\
			st_fail("%s: expected success, got %ld, failed: %s", \
				_what, _r, st_errname(_e));		\
		}							\
	} while (0)

/* ---- the pattern ----------------------------------------------------------------- */

enum { R_ANON = 1, R_NONE, R_FILE, R_THP, R_SHARED, R_BUSY, R_THREAD,
       R_PAGE, R_HOLE, R_COW = R_FILE + 10, R_UFFD, R_SECRET, R_SHMEM };

#define ANON_PAGES	8	/* pages 4-5 PROT_NONE, page 6 never touched */
#define ANON_UNTOUCHED	6
#define NONE_PAGES	4	/* page 3 never touched */
#define FILE_PAGES	4	/* page 1 COWed (COW_BYTES), page 3 never faulted */
#define COW_BYTES	100
#define THP_LEN		(4 * MiB)
#define SHARED_PAGES	2

static uint8_t pat(int role, size_t page, size_t off)
{
	return (uint8_t)(role * 37 + page * 101 + off * 7 + (off >> 8) + 1);
}

static void fill(uint8_t *p, int role, size_t first, size_t npages)
{
	size_t i, o;

	for (i = 0; i < npages; i++)
		for (o = 0; o < PAGE; o++)
			p[i * PAGE + o] = pat(role, first + i, o);
}

/* ---- workloads (forked children: WL_CHECK, no cmocka) ------------------------------- */

static uint8_t *wl_map(size_t len, int prot, int flags, int fd)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	WL_CHECK(p != MAP_FAILED);
	return p;
}

static void *wl_thread(void *arg)
{
	volatile uint64_t *counter = arg;
	struct timespec ts = { 0, 1000000 };

	st_report(R_THREAD, 0, st_gettid(), 0);
	st_ready();
	if (!counter)
		st_idle();
	for (;;) {
		(*counter)++;
		nanosleep(&ts, NULL);
	}
}

/* The truth workload; @arg non-NULL: a thread keeps changing a page. */
static void truth_wl(void *arg)
{
	char name[] = "/tmp/ckpt-st-pages-src.XXXXXX";
	uint8_t *a, *n, *f, *raw, *t, *s, *b, buf[PAGE];
	volatile uint8_t sink;
	size_t i, o;
	int fd;

	/* Anonymous, split into RW [0,4), PROT_NONE [4,6), RW [6,8). */
	a = wl_map(ANON_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1);
	for (i = 0; i < ANON_PAGES; i++)
		if (i != ANON_UNTOUCHED)
			fill(a + i * PAGE, R_ANON, i, 1);
	WL_CHECK(mprotect(a + 4 * PAGE, 2 * PAGE, PROT_NONE) == 0);
	/* Data written, then PROT_NONE; the last page never touched. */
	n = wl_map(NONE_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1);
	fill(n, R_NONE, 0, NONE_PAGES - 1);
	WL_CHECK(mprotect(n, NONE_PAGES * PAGE, PROT_NONE) == 0);
	/* A private file mapping: page 0 read, page 1 COWed (partly
	 * rewritten), page 2 read, page 3 never faulted. */
	fd = mkstemp(name);
	WL_CHECK(fd >= 0);
	WL_CHECK(unlink(name) == 0);
	for (i = 0; i < FILE_PAGES; i++) {
		for (o = 0; o < PAGE; o++)
			buf[o] = pat(R_FILE, i, o);
		WL_CHECK(pwrite(fd, buf, PAGE, i * PAGE) == (ssize_t)PAGE);
	}
	f = wl_map(FILE_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
	close(fd);
	sink = f[0];
	for (o = 0; o < COW_BYTES; o++)
		f[PAGE + o] = pat(R_COW, 1, o);
	sink = f[2 * PAGE + 5];
	(void)sink;
	/* A 2 MiB-aligned MADV_HUGEPAGE region (THP where the kernel has it). */
	raw = wl_map(THP_LEN + 2 * MiB, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1);
	t = (uint8_t *)(((uintptr_t)raw + 2 * MiB - 1) & ~(2 * MiB - 1));
	WL_CHECK(madvise(t, THP_LEN, MADV_HUGEPAGE) == 0 || errno == EINVAL);
	fill(t, R_THP, 0, THP_LEN / PAGE);
	/* Shared anonymous (shmem). */
	s = wl_map(SHARED_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1);
	fill(s, R_SHARED, 0, SHARED_PAGES);
	/* A page whose first 8 bytes a thread may keep changing. */
	b = wl_map(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	fill(b, R_BUSY, 0, 1);
	memset(b, 0, 8);

	st_report(R_ANON, 0, 0, (uintptr_t)a);
	st_report(R_NONE, 0, 0, (uintptr_t)n);
	st_report(R_FILE, 0, 0, (uintptr_t)f);
	st_report(R_THP, 0, 0, (uintptr_t)t);
	st_report(R_SHARED, 0, 0, (uintptr_t)s);
	st_report(R_BUSY, 0, 0, (uintptr_t)b);
	st_wl_thread(wl_thread, arg ? (void *)b : NULL);
	st_ready();
	st_idle();
}

/* A small target: R_PAGE pages of pattern, and a hole (R_HOLE: 3 pages,
 * the middle one unmapped).  @arg: the number of pattern pages. */
static void small_wl(void *arg)
{
	size_t np = arg ? (size_t)(uintptr_t)arg : 4;
	uint8_t *p = wl_map(np * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1);
	uint8_t *h = wl_map(3 * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1);

	fill(p, R_PAGE, 0, np);
	fill(h, R_HOLE, 0, 3);
	WL_CHECK(munmap(h + PAGE, PAGE) == 0);
	st_report(R_PAGE, 0, 0, (uintptr_t)p);
	st_report(R_HOLE, 0, 0, (uintptr_t)h);
	st_ready();
	st_idle();
}

/* ---- runner helpers --------------------------------------------------------------- */

/* An unlinked O_RDWR file in @dir, tracked. */
static int tmp_file(const char *dir)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/ckpt-st-pages.XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		st_fail("mkstemp %s: %s", path, st_errname(errno));
	ST_OK(unlink(path));
	return st_track_fd(fd);
}

/* The same open file, opened again with @flags (a new file description). */
static int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return st_track_fd(ST_OK(open(path, flags)));
}

static uint64_t file_size(int fd)
{
	struct stat st;

	ST_OK(fstat(fd, &st));
	return (uint64_t)st.st_size;
}

static uint8_t *read_at(int fd, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	size_t got = 0;
	ssize_t r;

	ST_CHECK(buf != NULL);
	while (got < len) {
		r = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (r < 0)
			st_fail("pread %zu bytes at %#llx: %s", len - got,
				(unsigned long long)(off + got), st_errname(errno));
		if (r == 0)
			st_fail("pread at %#llx: end of file (size %llu), wanted %zu more bytes",
				(unsigned long long)(off + got),
				(unsigned long long)file_size(fd), len - got);
		got += r;
	}
	return buf;
}

/* @len bytes of @pid at @addr through /proc/PID/mem (FOLL_FORCE). */
static uint8_t *proc_mem(pid_t pid, uint64_t addr, size_t len)
{
	char path[64];
	uint8_t *buf = malloc(len);
	size_t got = 0;
	ssize_t r;
	int fd;

	ST_CHECK(buf != NULL);
	snprintf(path, sizeof(path), "/proc/%d/mem", pid);
	fd = ST_OK(open(path, O_RDONLY | O_CLOEXEC));
	while (got < len) {
		r = pread(fd, buf + got, len - got, (off_t)(addr + got));
		if (r <= 0)
			st_fail("%s at %#llx: %s", path,
				(unsigned long long)(addr + got),
				r ? st_errname(errno) : "EOF");
		got += r;
	}
	close(fd);
	return buf;
}

/* Does process_vm_readv of @pid give @want? */
static void check_vm_readv(pid_t pid, uint64_t addr, size_t len,
			   const uint8_t *want, const char *what)
{
	uint8_t *buf = malloc(len);
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
	ssize_t n;

	ST_CHECK(buf != NULL);
	n = process_vm_readv(pid, &l, 1, &r, 1, 0);
	if (n < 0 && errno == ENOSYS) {
		/* CROSS_MEMORY_ATTACH is off (the debug kernel's tinyconfig):
		 * /proc/PID/mem and the pattern remain the truth. */
		static bool said;

		if (!said)
			st_diag("process_vm_readv: ENOSYS in this kernel: /proc/PID/mem is the only truth");
		said = true;
		free(buf);
		return;
	}
	if (n != (ssize_t)len)
		st_fail("process_vm_readv of %s (%#llx + %#zx): %zd, %s", what,
			(unsigned long long)addr, len, n, st_errname(errno));
	if (memcmp(buf, want, len))
		st_fail("process_vm_readv and /proc/PID/mem differ for %s", what);
	free(buf);
}


/* An address range of @len bytes that is mapped nowhere in @pid. */
static uint64_t unmapped_in(pid_t pid, uint64_t len)
{
	static const uint64_t cands[] = { 0x200000000000ULL, 0x300000000000ULL,
					  0x100000000000ULL };
	char path[64], line[512];
	unsigned long long s, e;
	size_t i;
	bool clash;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	for (i = 0; i < ARRAY_SIZE(cands); i++) {
		f = fopen(path, "re");
		ST_CHECK(f != NULL, "%s: %s", path, st_errname(errno));
		clash = false;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%llx-%llx", &s, &e) == 2 &&
			    s < cands[i] + len && e > cands[i])
				clash = true;
		fclose(f);
		if (!clash)
			return cands[i];
	}
	st_fail("no unmapped %#llx bytes found in %d", (unsigned long long)len, pid);
}

/* The first mapping of @pid whose maps line ends in @name, e.g. "[vdso]". */
static bool find_mapping(pid_t pid, const char *name, uint64_t *start,
			 uint64_t *end)
{
	char path[64], line[512];
	unsigned long long s, e;
	size_t l;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	ST_CHECK(f != NULL, "%s: %s", path, st_errname(errno));
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		l = strlen(line);
		if (l >= strlen(name) && !strcmp(line + l - strlen(name), name) &&
		    sscanf(line, "%llx-%llx", &s, &e) == 2) {
			*start = s;
			*end = e;
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Is this smaps line a mapping's header ("start-end perms ...")? */
static bool smaps_header(const char *line, unsigned long long *start)
{
	unsigned long long e;
	char perms[8];

	return sscanf(line, "%llx-%llx %7s", start, &e, perms) == 3;
}

/* The VmFlags line of the smaps entry that starts at @start. */
static void smaps_flags(pid_t pid, uint64_t start, char *out, size_t len)
{
	char path[64], line[512];
	unsigned long long s;
	bool in = false;
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	ST_CHECK(f != NULL, "%s: %s", path, st_errname(errno));
	while (fgets(line, sizeof(line), f)) {
		if (smaps_header(line, &s))
			in = s == start;
		if (in && !strncmp(line, "VmFlags:", 8)) {
			snprintf(out, len, "%.200s", line + 8);
			break;
		}
	}
	fclose(f);
}

/* A "Key:   N kB" line of /proc/PID/status, in kB. */
static long status_kb(pid_t pid, const char *key)
{
	char path[64], *text, *line;
	size_t l = strlen(key);
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	text = ckpt_slurp(path);
	ST_CHECK(text != NULL, "%s: %s", path, st_errname(errno));
	for (line = text; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
		if (!strncmp(line, key, l) && line[l] == ':') {
			v = strtol(line + l + 1, NULL, 10);
			break;
		}
	free(text);
	ST_CHECK(v >= 0, "no %s in %s", key, path);
	return v;
}

/* ---- file systems -------------------------------------------------------------------- */

static bool fs_listed(const char *fs)
{
	char *text = ckpt_slurp("/proc/filesystems"), *p;
	bool found = false;
	size_t l = strlen(fs);

	for (p = text; p && (p = strstr(p, fs)); p += l)
		if (p > text && p[-1] == '\t' && (p[l] == '\n' || !p[l]))
			found = true;
	free(text);
	return found;
}

static const char *new_mountpoint(const char *tag, char *dir, size_t len)
{
	snprintf(dir, len, "/run/ckpt-st-pages-%s.%d", tag, getpid());
	if (mkdir(dir, 0700) && errno != EEXIST)
		st_fail("mkdir %s: %s", dir, st_errname(errno));
	return dir;
}

/* A tmpfs with @opts, mounted and tracked. */
static const char *mount_tmpfs(const char *tag, const char *opts, char *dir,
			       size_t len)
{
	new_mountpoint(tag, dir, len);
	if (mount("tmpfs", dir, "tmpfs", 0, opts)) {
		int err = errno;

		rmdir(dir);
		errno = err;
		return NULL;
	}
	st_track_mount(dir);
	return dir;
}

/*
 * A small ext4 on a loop device, mounted and tracked, or NULL (with a
 * diagnostic) when this kernel has neither built in nor as modules (the
 * debug kernel).  A Debian kernel has both: there, failing to set it up
 * fails the test.
 */
static const char *mount_ext4(char *dir, size_t len)
{
	char path[PATH_MAX], img[96], cmd[PATH_MAX + 256];
	struct utsname u;
	int fd, rc;

	ST_OK(uname(&u));
	snprintf(path, sizeof(path), "/lib/modules/%s/kernel/fs/ext4", u.release);
	if (!fs_listed("ext4") && access(path, F_OK)) {
		st_diag("kernel %s has no ext4: the ext4 file is left out", u.release);
		return NULL;
	}
	snprintf(img, sizeof(img), "/tmp/ckpt-st-pages-ext4.%d.img", getpid());
	fd = ST_OK(open(img, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
	ST_OK(ftruncate(fd, 64 * MiB));
	close(fd);
	new_mountpoint("ext4", dir, len);
	st_track_mount(dir);
	/* -o loop: the loop device is detached (autoclear) with the mount. */
	/* loop is not autoloaded: /dev/loop-control exists once it is in */
	snprintf(cmd, sizeof(cmd),
		 "modprobe loop 2>/dev/null; mkfs.ext4 -q -F %s >/dev/null 2>&1 && mount -o loop %s %s",
		 img, img, dir);
	rc = system(cmd);
	unlink(img);		/* the loop device keeps it open */
	if (rc != 0)
		st_fail("ext4 on a loop device: '%s' exited with %d", cmd, rc);
	return dir;
}

/* ---- the truth test ------------------------------------------------------------------ */

struct layout {
	uint64_t anon, none, file, thp, shared, busy, vdso, vdso_end;
	pid_t pid, tid;
};

static void get_layout(pid_t pid, struct layout *l)
{
	l->pid = pid;
	l->anon = st_find_rep(R_ANON, 0)->val;
	l->none = st_find_rep(R_NONE, 0)->val;
	l->file = st_find_rep(R_FILE, 0)->val;
	l->thp = st_find_rep(R_THP, 0)->val;
	l->shared = st_find_rep(R_SHARED, 0)->val;
	l->busy = st_find_rep(R_BUSY, 0)->val;
	l->tid = st_find_rep(R_THREAD, 0)->aux;
	ST_CHECK(l->tid != pid);
	if (!find_mapping(pid, "[vdso]", &l->vdso, &l->vdso_end))
		st_fail("no [vdso] in /proc/%d/maps", pid);
}

struct prange {
	uint64_t start, len;
	const char *what;
	bool readable;		/* by process_vm_readv too */
};

#define NTRUTH	10

static void truth_ranges(const struct layout *l, struct prange *r)
{
	const struct prange v[NTRUTH] = {
		{ l->thp + 3 * PAGE, 5 * PAGE, "THP +3 pages", true },
		{ l->anon, ANON_PAGES * PAGE, "anon RW/NONE/RW, one page untouched", false },
		{ l->file, FILE_PAGES * PAGE, "private file, COWed page", true },
		{ l->none, NONE_PAGES * PAGE, "PROT_NONE after data", false },
		{ l->shared, SHARED_PAGES * PAGE, "shared anon", true },
		{ l->anon + 2 * PAGE, PAGE, "anon page 2 again", true },
		{ l->vdso, l->vdso_end - l->vdso, "[vdso]", true },
		{ l->thp, THP_LEN, "THP region", true },
		{ l->thp + 2 * MiB - 2 * PAGE, 4 * PAGE, "across the 2 MiB boundary", true },
		{ l->busy, PAGE, "a page a thread changes", true },
	};

	memcpy(r, v, sizeof(v));
}

/* The byte the pattern puts at @addr: 0..255, -1 any, -2 no pattern. */
static int expected_byte(const struct layout *l, uint64_t addr)
{
	size_t pg, o = addr % PAGE;

#define IN(base, len)	(addr >= (base) && addr < (base) + (len))
	if (IN(l->anon, ANON_PAGES * PAGE)) {
		pg = (addr - l->anon) / PAGE;
		return pg == ANON_UNTOUCHED ? 0 : pat(R_ANON, pg, o);
	}
	if (IN(l->none, NONE_PAGES * PAGE)) {
		pg = (addr - l->none) / PAGE;
		return pg == NONE_PAGES - 1 ? 0 : pat(R_NONE, pg, o);
	}
	if (IN(l->file, FILE_PAGES * PAGE)) {
		pg = (addr - l->file) / PAGE;
		return pg == 1 && o < COW_BYTES ? pat(R_COW, pg, o) : pat(R_FILE, pg, o);
	}
	if (IN(l->thp, THP_LEN))
		return pat(R_THP, (addr - l->thp) / PAGE, o);
	if (IN(l->shared, SHARED_PAGES * PAGE))
		return pat(R_SHARED, (addr - l->shared) / PAGE, o);
	if (IN(l->busy, PAGE))
		return o < 8 ? -1 : pat(R_BUSY, 0, o);
#undef IN
	return -2;
}

/*
 * Write the truth ranges of @l with @dev into @fd at @off, as @pid, and
 * compare.  @prefill: the file already holds 0x5a bytes around the
 * range, which must stay; otherwise the file must end where the data does.
 * @ro_arg: the argument and the ranges sit in a read-only page (_IOW:
 * nothing is copied back).
 */
static void truth_write_check(int dev, const struct layout *l, pid_t pid,
			      int fd, uint64_t off, bool prefill, bool ro_arg,
			      const char *fname)
{
	struct prange pr[NTRUTH];
	struct ckpt_page_range *r;
	struct ckpt_pages *a;
	uint64_t total = 0, at, size_before = file_size(fd);
	long rss_before, rss_after;
	uint8_t *page, *got, *truth;
	size_t i, j;
	int e;

	truth_ranges(l, pr);
	page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(page != MAP_FAILED);
	r = (void *)page;
	a = (void *)(page + PAGE / 2);
	for (i = 0; i < NTRUTH; i++) {
		r[i].start = pr[i].start;
		r[i].len = pr[i].len;
		total += pr[i].len;
	}
	*a = (struct ckpt_pages){ .pid = pid, .fd = fd, .count = NTRUTH,
		.ranges = (uintptr_t)r, .offset = off };
	if (ro_arg)
		ST_OK(mprotect(page, PAGE, PROT_READ));
	rss_before = status_kb(l->pid, "RssAnon");
	EXPECT_OK(ioctl(dev, CKPT_IOC_PAGES, a),
		  "PAGES of %d (as %d) into %s at %#llx, %d ranges, %llu bytes",
		  l->pid, pid, fname, (unsigned long long)off, NTRUTH,
		  (unsigned long long)total);
	rss_after = status_kb(l->pid, "RssAnon");
	/* Never-touched pages read as zeros without being allocated. */
	if (rss_after != rss_before)
		st_fail("PAGES changed the target's RssAnon: %ld kB before, %ld kB after (untouched pages allocated?)",
			rss_before, rss_after);
	/* Nothing copied back: the argument is as it was. */
	ST_EQ(a->pid, (uint32_t)pid);
	ST_EQ(a->count, NTRUTH);
	ST_EQ(a->offset, off);
	ST_EQ(a->flags, 0);
	if (prefill) {
		ST_EQ(file_size(fd), size_before);
		got = read_at(fd, 0, off);
		for (j = 0; j < off; j++)
			if (got[j] != 0x5a)
				st_fail("%s: byte %#zx before the offset %#llx changed to %#x",
					fname, j, (unsigned long long)off, got[j]);
		free(got);
		got = read_at(fd, off + total, size_before - off - total);
		for (j = 0; j < size_before - off - total; j++)
			if (got[j] != 0x5a)
				st_fail("%s: byte %#llx after the data changed to %#x",
					fname, (unsigned long long)(off + total + j), got[j]);
		free(got);
	} else {
		/* The file grows as needed: exactly to the end of the data. */
		if (file_size(fd) != off + total)
			st_fail("%s: size %llu after PAGES at %#llx of %llu bytes, expected %llu",
				fname, (unsigned long long)file_size(fd),
				(unsigned long long)off, (unsigned long long)total,
				(unsigned long long)(off + total));
		got = read_at(fd, 0, off);
		for (j = 0; j < off; j++)
			if (got[j])
				st_fail("%s: the hole before the offset has byte %#zx = %#x",
					fname, j, got[j]);
		free(got);
	}
	for (i = 0, at = off; i < NTRUTH; at += pr[i].len, i++) {
		got = read_at(fd, at, pr[i].len);
		truth = proc_mem(l->pid, pr[i].start, pr[i].len);
		if (pr[i].readable && pr[i].start != l->busy)
			check_vm_readv(l->pid, pr[i].start, pr[i].len, truth,
				       pr[i].what);
		for (j = 0; j < pr[i].len; j++) {
			uint64_t addr = pr[i].start + j;

			e = expected_byte(l, addr);
			if (e >= 0 && truth[j] != e)
				st_fail("range %zu (%s): /proc/%d/mem at %#llx reads %#x, the workload wrote %#x",
					i, pr[i].what, l->pid,
					(unsigned long long)addr, truth[j], e);
			if (e != -1 && got[j] != truth[j])
				st_fail("%s: range %zu (%s) at file offset %#llx (target %#llx): byte %#x, the target has %#x",
					fname, i, pr[i].what,
					(unsigned long long)(at + j),
					(unsigned long long)addr, got[j], truth[j]);
		}
		free(got);
		free(truth);
	}
	munmap(page, PAGE);
}

/* A tracked file pre-filled with 0x5a: @before bytes, room, @after bytes. */
static int prefilled(const char *dir, uint64_t len)
{
	int fd = tmp_file(dir);
	uint8_t *buf = malloc(MiB);
	uint64_t at;
	size_t n;

	ST_CHECK(buf != NULL);
	memset(buf, 0x5a, MiB);
	for (at = 0; at < len; at += n) {
		n = len - at < MiB ? len - at : MiB;
		ST_EQ(pwrite(fd, buf, n, at), (ssize_t)n);
	}
	free(buf);
	return fd;
}

static uint64_t truth_total(const struct layout *l)
{
	struct prange pr[NTRUTH];
	uint64_t t = 0;
	size_t i;

	truth_ranges(l, pr);
	for (i = 0; i < NTRUTH; i++)
		t += pr[i].len;
	return t;
}

/* Write into every kind of file: tmpfs (pre-filled), huge tmpfs, ext4. */
static void truth_all_files(int dev, int dev2, const struct layout *l)
{
	char hdir[PATH_MAX], edir[PATH_MAX];
	uint64_t total = truth_total(l), off;
	const char *d;
	int fd;

	/* tmpfs /tmp, offset 3 pages, data around it; read-only argument. */
	off = 3 * PAGE;
	fd = prefilled("/tmp", off + total + 2 * PAGE);
	truth_write_check(dev, l, l->pid, fd, off, true, true, "/tmp (tmpfs)");
	/* Through a non-leader thread's id, on the other file. */
	fd = prefilled("/tmp", off + total + 2 * PAGE);
	truth_write_check(dev2, l, l->tid, fd, off, true, false,
			  "/tmp (tmpfs) via a thread");
	/* A tmpfs with huge=always (large folios in the page cache). */
	d = mount_tmpfs("huge", "huge=always", hdir, sizeof(hdir));
	if (!d) {
		st_diag("tmpfs huge=always: %s; a plain tmpfs instead",
			st_errname(errno));
		d = mount_tmpfs("huge", "", hdir, sizeof(hdir));
		ST_CHECK(d != NULL, "mount tmpfs: %s", st_errname(errno));
	}
	off = 2 * MiB + 5 * PAGE;
	fd = tmp_file(d);
	truth_write_check(dev, l, l->pid, fd, off, false, false, "tmpfs huge=always");
	/* ext4, a sparse file. */
	d = mount_ext4(edir, sizeof(edir));
	if (d) {
		off = MiB + 5 * PAGE;
		fd = tmp_file(d);
		truth_write_check(dev2, l, l->pid, fd, off, false, false, "ext4");
	}
}

static void thp_diag(pid_t pid, uint64_t thp)
{
	char path[64], line[256];
	unsigned long long s;
	bool in = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (smaps_header(line, &s))
			in = s == thp;
		if (in && !strncmp(line, "AnonHugePages:", 14)) {
			line[strcspn(line, "\n")] = 0;
			st_diag("MADV_HUGEPAGE region: %s", line);
			break;
		}
	}
	fclose(f);
}

/* A running target, no session: a thread keeps changing one page. */
static void pages_truth_running(void **state)
{
	struct layout l;
	pid_t pid;
	int dev;

	(void)state;
	ST_EQ(sysconf(_SC_PAGESIZE), PAGE);
	pid = st_spawn(NULL, truth_wl, (void *)1);
	st_wait_ready(2);
	get_layout(pid, &l);
	thp_diag(pid, l.thp);
	dev = st_dev();
	truth_all_files(dev, dev, &l);
	/* It kept running all along. */
	ST_CHECK(st_state(pid, 0) != 'Z');
}

/* SCAN with no room says ENOSPC when the session is there. */
static void session_intact(int sfd)
{
	struct ckpt_scan s;

	EXPECT_ERR(ENOSPC, ckpt_ioc_scan(sfd, NULL, 0, &s), "SCAN, capacity 0");
	ST_CHECK(s.count >= 1, "SCAN count %u", s.count);
}

/* A frozen target in a session: on the session's file and another. */
static void pages_truth_frozen(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	struct layout l;
	pid_t pid;
	int sfd;

	pid = st_spawn(cg, truth_wl, NULL);
	st_wait_ready(2);
	get_layout(pid, &l);
	st_freeze(cg);
	sfd = st_begin(cg, pid);
	truth_all_files(sfd, st_dev(), &l);
	/* The session is intact. */
	session_intact(sfd);
	ST_OK(ckpt_ioc_end(sfd));
}

static void pages_truth_frozen_v2(void **state)
{
	(void)state;
	pages_truth_frozen(false);
}

static void pages_truth_frozen_v1(void **state)
{
	(void)state;
	pages_truth_frozen(true);
}

/* ---- a small call, the smoke test (and the fault-injection test) ---------------------- */

static void check_pattern(int fd, uint64_t off, int role, size_t first,
			  size_t npages, const char *what)
{
	uint8_t *got = read_at(fd, off, npages * PAGE);
	size_t i, o;

	for (i = 0; i < npages; i++)
		for (o = 0; o < PAGE; o++)
			if (got[i * PAGE + o] != pat(role, first + i, o))
				st_fail("%s: file offset %#llx: byte %#x, expected %#x (page %zu of the source)",
					what, (unsigned long long)(off + i * PAGE + o),
					got[i * PAGE + o], pat(role, first + i, o),
					first + i);
	free(got);
}

static pid_t small_target(uint64_t *p, uint64_t *hole, size_t npages)
{
	int base = __atomic_load_n(&st_shm->ready, __ATOMIC_SEQ_CST);
	pid_t pid = st_spawn(NULL, small_wl, (void *)(uintptr_t)npages);

	st_wait_ready(base + 1);
	*p = st_find_rep(R_PAGE, 0)->val;
	if (hole)
		*hole = st_find_rep(R_HOLE, 0)->val;
	return pid;
}

static void pages_simple(void **state)
{
	struct ckpt_page_range r[2];
	uint64_t p;
	pid_t pid = small_target(&p, NULL, 4);
	int dev = st_dev(), fd = tmp_file("/tmp");

	(void)state;
	r[0] = (struct ckpt_page_range){ p + 2 * PAGE, 2 * PAGE };
	r[1] = (struct ckpt_page_range){ p, PAGE };
	EXPECT_OK(ioc_pages(dev, pid, fd, r, 2, PAGE), "PAGES of 3 pages of %d", pid);
	ST_EQ(file_size(fd), 4 * PAGE);
	check_pattern(fd, PAGE, R_PAGE, 2, 2, "range 0");
	check_pattern(fd, 3 * PAGE, R_PAGE, 0, 1, "range 1");
}

static void pages_info(void **state)
{
	struct ckpt_info info;
	int dev = st_dev();

	(void)state;
	memset(&info, 0, sizeof(info));
	ST_OK(ioctl(dev, CKPT_IOC_INFO, &info));
	if (!(info.commands & CKPT_CMD_BIT(CKPT_IOC_PAGES)))
		st_fail("INFO commands %#llx: bit %u (PAGES) is not set",
			(unsigned long long)info.commands,
			(unsigned int)_IOC_NR(CKPT_IOC_PAGES));
	ST_EQ(info.commands, 0x1ff);
}

/* ---- argument rules ------------------------------------------------------------------ */

/* TASK_SIZE_MAX + PAGE: 2^47, or 2^56 when the kernel uses 5-level paging
 * (then a hint above 2^47 may be mapped). */
static uint64_t user_top(void)
{
	void *p = mmap((void *)(1ULL << 50), PAGE, PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED)
		return 1ULL << 47;
	munmap(p, PAGE);
	st_diag("5-level paging: the user address space ends below 2^56");
	return 1ULL << 56;
}

static void pages_bad_args(void **state)
{
	static const uint32_t bad_flags[] = { 2, 3, 4, 0x80000000, ~0U,
					      ~CKPT_PAGES_FLAGS };
	static const uint64_t bad_off[] = { 1, 512, PAGE - 1, PAGE + 8, 3 * PAGE + 2048 };
	static const uint32_t bad_count[] = { 0, CKPT_PAGES_MAX_RANGES + 1, 65536,
					       0x80000000, ~0U };
	uint64_t p, above, far, top;
	pid_t pid = small_target(&p, NULL, 4);
	int dev = st_dev(), fd = tmp_file("/tmp");
	struct ckpt_page_range r[4], *big, *g;
	struct ckpt_pages a;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		r[0] = (struct ckpt_page_range){ p, PAGE };
		a = (struct ckpt_pages){ .flags = bad_flags[i], .pid = pid,
			.fd = fd, .count = 1, .ranges = (uintptr_t)r };
		EXPECT_ERR(EINVAL, ioctl(dev, CKPT_IOC_PAGES, &a),
			   "flags %#x", bad_flags[i]);
	}
	/* count: 0, above 4096; with an array that is readable for 4097. */
	big = calloc(CKPT_PAGES_MAX_RANGES + 1, sizeof(*big));
	ST_CHECK(big != NULL);
	for (i = 0; i <= CKPT_PAGES_MAX_RANGES; i++)
		big[i] = (struct ckpt_page_range){ p, PAGE };
	for (i = 0; i < ARRAY_SIZE(bad_count); i++)
		EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, big, bad_count[i], 0),
			   "count %u", bad_count[i]);
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, NULL, 0, 0), "count 0, ranges NULL");
	/* count 4096 is allowed: 4096 one-page ranges. */
	EXPECT_OK(ioc_pages(dev, pid, fd, big, CKPT_PAGES_MAX_RANGES, 0),
		  "count %u", CKPT_PAGES_MAX_RANGES);
	ST_EQ(file_size(fd), CKPT_PAGES_MAX_RANGES * PAGE);
	check_pattern(fd, (CKPT_PAGES_MAX_RANGES - 1) * PAGE, R_PAGE, 0, 1,
		      "the 4096th range");
	free(big);
	/* offset */
	r[0] = (struct ckpt_page_range){ p, PAGE };
	for (i = 0; i < ARRAY_SIZE(bad_off); i++)
		EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 1, bad_off[i]),
			   "offset %#llx", (unsigned long long)bad_off[i]);
	/* Each range: aligned start and length, not empty, no wrap, below
	 * the end of the user address space.  The bad one is last. */
	r[0] = (struct ckpt_page_range){ p, PAGE };
	r[1] = (struct ckpt_page_range){ p + PAGE, PAGE };
#define BAD_RANGE(s, l, what)						\
	do {								\
		r[2] = (struct ckpt_page_range){ (s), (l) };		\
		EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 3, 0),	\
			   "range {%#llx, %#llx} (%s)",			\
			   (unsigned long long)(s), (unsigned long long)(l), what); \
		EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, &r[2], 1, 0), \
			   "single range {%#llx, %#llx} (%s)",		\
			   (unsigned long long)(s), (unsigned long long)(l), what); \
	} while (0)
	BAD_RANGE(p + 1, PAGE, "unaligned start");
	BAD_RANGE(p + 2048, PAGE, "unaligned start");
	BAD_RANGE(p, PAGE - 1, "unaligned length");
	BAD_RANGE(p, PAGE + 1, "unaligned length");
	BAD_RANGE(p, 1, "unaligned length");
	BAD_RANGE(p, 0, "empty");
	BAD_RANGE(0, 0, "empty at 0");
	BAD_RANGE(p, 0ULL - PAGE, "wraps");
	BAD_RANGE(p, 0ULL - p, "ends at 2^64");
	BAD_RANGE(0ULL - PAGE, PAGE, "the last page of 2^64");
	BAD_RANGE(0xffff888000000000ULL, PAGE, "kernel address");
	BAD_RANGE(0xffffffffff600000ULL, PAGE, "the vsyscall page");
	BAD_RANGE(1ULL << 57, PAGE, "2^57, above a 5-level user space");
	/* The user address space ends at TASK_SIZE_MAX, one page below
	 * 2^47 (2^56 with 5-level paging). */
	top = user_top();
	BAD_RANGE(top, PAGE, "at 2^47 or 2^56");
	BAD_RANGE(top - PAGE, PAGE, "the page at TASK_SIZE_MAX");
	BAD_RANGE(top - 2 * PAGE, 2 * PAGE, "ends past TASK_SIZE_MAX");
	BAD_RANGE(top - 2 * PAGE, 0x100000000ULL, "ends far past TASK_SIZE_MAX");
	r[0] = (struct ckpt_page_range){ top - 2 * PAGE, PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0),
		   "the last user page {%#llx, 4096}, not mapped",
		   (unsigned long long)(top - 2 * PAGE));
	/* More than 1 GiB in all: the argument rule comes before the
	 * target is looked at (these are not mapped in the target). */
	far = unmapped_in(pid, 2 * GiB);
	r[0] = (struct ckpt_page_range){ far, 768 * MiB };
	r[1] = (struct ckpt_page_range){ far + 768 * MiB, 768 * MiB };
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 2, 0), "two ranges of 768 MiB");
	r[0] = (struct ckpt_page_range){ far, GiB + PAGE };
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 1, 0), "one range of 1 GiB + 4 KiB");
	r[0] = (struct ckpt_page_range){ far, GiB };
	r[1] = (struct ckpt_page_range){ p, PAGE };
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 2, 0), "1 GiB + 4 KiB in two ranges");
	/* Exactly 1 GiB passes the rules: then the unmapped range is EFAULT. */
	r[0] = (struct ckpt_page_range){ far, GiB };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0), "1 GiB, not mapped");
	r[0] = (struct ckpt_page_range){ far, GiB / 2 };
	r[1] = (struct ckpt_page_range){ far + GiB, GiB / 2 };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 2, 0), "2 x 512 MiB, not mapped");
	/* 4096 ranges of 256 KiB: 1 GiB, fine; one page more: too much. */
	big = calloc(CKPT_PAGES_MAX_RANGES, sizeof(*big));
	ST_CHECK(big != NULL);
	for (i = 0; i < CKPT_PAGES_MAX_RANGES; i++)
		big[i] = (struct ckpt_page_range){ far, 256 * 1024 };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, big, CKPT_PAGES_MAX_RANGES, 0),
		   "4096 ranges of 256 KiB (1 GiB), not mapped");
	big[CKPT_PAGES_MAX_RANGES - 1].len += PAGE;
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, big, CKPT_PAGES_MAX_RANGES, 0),
		   "4096 ranges, 1 GiB + 4 KiB");
	/* Large lengths whose sum wraps 64 bits must not pass either. */
	for (i = 0; i < CKPT_PAGES_MAX_RANGES; i++)
		big[i] = (struct ckpt_page_range){ PAGE, 1ULL << 52 };
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, big, CKPT_PAGES_MAX_RANGES, 0),
		   "4096 ranges of 2^52 (the sum wraps)");
	free(big);

	/* The ranges array: NULL, unmapped, kernel, running into a guard. */
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, NULL, 1, 0), "ranges NULL, count 1");
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, (void *)0xffff888000000000UL, 1, 0),
		   "ranges at a kernel address");
	above = (uint64_t)(uintptr_t)mmap(NULL, PAGE, PROT_READ,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_OK(munmap((void *)(uintptr_t)above, PAGE));
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, (void *)(uintptr_t)above, 1, 0),
		   "ranges unmapped");
	g = st_guarded(2 * sizeof(*g));
	g[0] = (struct ckpt_page_range){ p, PAGE };
	g[1] = (struct ckpt_page_range){ p + PAGE, PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, g, 3, 0), "3 ranges, room for 2");
	EXPECT_OK(ioc_pages(dev, pid, fd, g, 2, 0), "2 ranges before a guard page");
	/* A read-only ranges array is fine (nothing is written to it). */
	ST_OK(mprotect((void *)((uintptr_t)g & ~(PAGE - 1)), PAGE, PROT_READ));
	EXPECT_OK(ioc_pages(dev, pid, fd, g, 2, 0), "read-only ranges");
	check_pattern(fd, 0, R_PAGE, 0, 2, "read-only ranges");
}

/* Size versioning: short, long with a zero tail, long with a nonzero one;
 * the argument pointer; the wrong direction. */
static void pages_struct_size(void **state)
{
	static const unsigned int tails[] = { 8, 64, 4096 - CKPT_PAGES_SIZE_VER0 };
	struct ckpt_page_range r[1];
	union {
		struct ckpt_pages a;
		char raw[8192];
	} *u = calloc(1, sizeof(*u));
	unsigned int t, at, size;
	struct ckpt_pages *a;
	uint64_t p;
	pid_t pid = small_target(&p, NULL, 4);
	int dev = st_dev(), fd = tmp_file("/tmp");

	(void)state;
	ST_CHECK(u != NULL);
	r[0] = (struct ckpt_page_range){ p + PAGE, PAGE };
#define VALID(x)	((x)->pid = pid, (x)->fd = fd, (x)->count = 1,	\
			 (x)->ranges = (uintptr_t)r, (x)->offset = 0)
	for (size = 0; size < CKPT_PAGES_SIZE_VER0; size += 4) {
		memset(u, 0, sizeof(*u));
		VALID(&u->a);
		EXPECT_ERR(EINVAL, ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, size), u),
			   "argument size %u", size);
	}
	EXPECT_ERR(EINVAL, ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES,
						   CKPT_PAGES_SIZE_VER0 - 1), u),
		   "argument size %u", CKPT_PAGES_SIZE_VER0 - 1);
	for (t = 0; t < ARRAY_SIZE(tails); t++) {
		size = CKPT_PAGES_SIZE_VER0 + tails[t];
		/* A zero tail: works, and nothing is written back. */
		memset(u, 0, sizeof(*u));
		VALID(&u->a);
		u->a.offset = (t + 1) * PAGE;
		EXPECT_OK(ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, size), u),
			  "argument size %u, zero tail", size);
		check_pattern(fd, (t + 1) * PAGE, R_PAGE, 1, 1, "zero tail");
		for (at = CKPT_PAGES_SIZE_VER0; at < size; at++)
			ST_EQ(u->raw[at], 0);
		/* A nonzero byte anywhere past the struct: E2BIG. */
		for (at = CKPT_PAGES_SIZE_VER0; at < size; at += 1 + (size - at) / 3) {
			memset(u, 0, sizeof(*u));
			VALID(&u->a);
			u->raw[at] = (char)0x80;
			EXPECT_ERR(E2BIG, ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, size), u),
				   "argument size %u, byte %u set", size, at);
		}
		memset(u, 0, sizeof(*u));
		VALID(&u->a);
		u->raw[size - 1] = 1;
		EXPECT_ERR(E2BIG, ioctl(dev, st_ioc_sized(CKPT_IOC_PAGES, size), u),
			   "argument size %u, last byte set", size);
	}
	/* The argument pointer. */
	EXPECT_ERR(EFAULT, ioctl(dev, CKPT_IOC_PAGES, NULL), "argument NULL");
	EXPECT_ERR(EFAULT, ioctl(dev, CKPT_IOC_PAGES, (void *)0xffff888000000000UL),
		   "argument at a kernel address");
	a = st_guarded(CKPT_PAGES_SIZE_VER0 - 8);
	EXPECT_ERR(EFAULT, ioctl(dev, CKPT_IOC_PAGES, a), "argument runs into a guard page");
	a = st_guarded(CKPT_PAGES_SIZE_VER0);
	VALID(a);
	ST_OK(mprotect((void *)((uintptr_t)a & ~(PAGE - 1)), PAGE, PROT_READ));
	EXPECT_OK(ioctl(dev, CKPT_IOC_PAGES, a), "a read-only argument before a guard page (_IOW)");
	/* The command is _IOW: the other directions are unknown commands. */
	EXPECT_ERR(ENOTTY, ioctl(dev, _IOC(_IOC_READ | _IOC_WRITE, CKPT_IOC_MAGIC, 8,
					   CKPT_PAGES_SIZE_VER0), u), "PAGES as _IOWR");
	EXPECT_ERR(ENOTTY, ioctl(dev, _IOC(_IOC_READ, CKPT_IOC_MAGIC, 8,
					   CKPT_PAGES_SIZE_VER0), u), "PAGES as _IOR");
	EXPECT_ERR(ENOTTY, ioctl(dev, _IOC(_IOC_NONE, CKPT_IOC_MAGIC, 8, 0), u),
		   "PAGES as _IO");
#undef VALID
	free(u);
}

/* ---- the fd ------------------------------------------------------------------------ */

/* An O_WRONLY | O_DIRECT fd: of @fd's file if its file system takes
 * O_DIRECT, else of a new file on ext4, else -1 (with a diagnostic). */
static int open_direct(int fd, char *edir, size_t len, const char **where)
{
	char path[64];
	int d;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	d = open(path, O_WRONLY | O_DIRECT);
	*where = "tmpfs";
	if (d >= 0)
		return st_track_fd(d);
	if (errno != EINVAL)
		st_fail("open O_DIRECT: %s", st_errname(errno));
	if (!mount_ext4(edir, len)) {
		st_diag("no file system here takes O_DIRECT: that case is left out");
		return -1;
	}
	*where = "ext4";
	d = tmp_file(edir);
	ST_OK(fcntl(d, F_SETFL, O_DIRECT));
	return d;
}

static void pages_bad_fd(void **state)
{
	struct ckpt_page_range r[1];
	uint64_t p;
	pid_t pid = small_target(&p, NULL, 4);
	int dev = st_dev(), fd = tmp_file("/tmp"), ro, opath, app, pfd[2], dir;
	int sv[2], null, closed, wo, direct;
	char edir[PATH_MAX];
	const char *where;

	(void)state;
	r[0] = (struct ckpt_page_range){ p, PAGE };
	EXPECT_ERR(EBADF, ioc_pages(dev, pid, -1, r, 1, 0), "fd -1");
	EXPECT_ERR(EBADF, ioc_pages(dev, pid, 0x80000000U, r, 1, 0), "fd 2^31");
	EXPECT_ERR(EBADF, ioc_pages(dev, pid, 1000000, r, 1, 0), "fd 1000000");
	closed = ST_OK(dup(fd));
	ST_OK(close(closed));
	EXPECT_ERR(EBADF, ioc_pages(dev, pid, closed, r, 1, 0), "a closed fd");
	ro = reopen(fd, O_RDONLY);
	EXPECT_ERR(EBADF, ioc_pages(dev, pid, ro, r, 1, 0), "a regular file open O_RDONLY");
	opath = reopen(fd, O_PATH);
	EXPECT_ERR(EBADF, ioc_pages(dev, pid, opath, r, 1, 0), "an O_PATH fd");
	/* Not a regular file: EINVAL. */
	ST_OK(pipe(pfd));
	st_track_fd(pfd[0]);
	st_track_fd(pfd[1]);
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, pfd[1], r, 1, 0), "a pipe's write end");
	ST_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	st_track_fd(sv[0]);
	st_track_fd(sv[1]);
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, sv[0], r, 1, 0), "a socket");
	null = st_track_fd(ST_OK(open("/dev/null", O_WRONLY)));
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, null, r, 1, 0), "/dev/null open O_WRONLY");
	/* A directory is never open for writing: EBADF comes first. */
	dir = st_track_fd(ST_OK(open("/tmp", O_RDONLY | O_DIRECTORY)));
	EXPECT_ERR(EBADF, ioc_pages(dev, pid, dir, r, 1, 0), "a directory");
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, dev, r, 1, 0), "/dev/ckpt itself");
	app = reopen(fd, O_WRONLY | O_APPEND);
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, app, r, 1, 0), "a file open O_APPEND");
	app = reopen(fd, O_RDWR | O_APPEND);
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, app, r, 1, 0), "a file open O_RDWR|O_APPEND");
	/* O_WRONLY is enough. */
	wo = reopen(fd, O_WRONLY);
	EXPECT_OK(ioc_pages(dev, pid, wo, r, 1, 2 * PAGE), "a file open O_WRONLY");
	check_pattern(fd, 2 * PAGE, R_PAGE, 0, 1, "O_WRONLY");
	/* The file offset of the fd is neither used nor moved. */
	ST_EQ(lseek(wo, 0, SEEK_CUR), 0);
	ST_OK(lseek(wo, 5 * PAGE, SEEK_SET));
	EXPECT_OK(ioc_pages(dev, pid, wo, r, 1, 0), "after an lseek");
	ST_EQ(lseek(wo, 0, SEEK_CUR), 5 * PAGE);
	check_pattern(fd, 0, R_PAGE, 0, 1, "after an lseek");
	/* O_APPEND set later with F_SETFL counts as well; cleared, fine. */
	ST_OK(fcntl(wo, F_SETFL, O_APPEND));
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, wo, r, 1, 0), "O_APPEND set by F_SETFL");
	ST_OK(fcntl(wo, F_SETFL, 0));
	EXPECT_OK(ioc_pages(dev, pid, wo, r, 1, 0), "O_APPEND cleared by F_SETFL");
	/* O_DIRECT: on tmpfs if it takes it (6.6+), else on ext4. */
	direct = open_direct(fd, edir, sizeof(edir), &where);
	if (direct >= 0) {
		EXPECT_ERR(EINVAL, ioc_pages(dev, pid, direct, r, 1, 0),
			   "a file open O_DIRECT (%s)", where);
		ST_OK(fcntl(direct, F_SETFL, 0));
		EXPECT_OK(ioc_pages(dev, pid, direct, r, 1, 0),
			  "O_DIRECT cleared by F_SETFL (%s)", where);
		ST_OK(fcntl(direct, F_SETFL, O_DIRECT));
		EXPECT_ERR(EINVAL, ioc_pages(dev, pid, direct, r, 1, 0),
			   "O_DIRECT set by F_SETFL (%s)", where);
	}
}

/* ---- targets ------------------------------------------------------------------------- */

/* A page of secret memory (memfd_secret), touched; aux: errno if none. */
static void secret_wl(void *arg)
{
	int fd = (int)syscall(447 /* memfd_secret */, 0);
	uint8_t *m;

	(void)arg;
	if (fd < 0) {
		st_report(R_SECRET, 0, errno, 0);
	} else {
		WL_CHECK(ftruncate(fd, PAGE) == 0);
		m = wl_map(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
		m[0] = 1;
		st_report(R_SECRET, 0, 0, (uintptr_t)m);
	}
	st_ready();
	st_idle();
}

static void pages_bad_target(void **state)
{
	struct ckpt_page_range r[2];
	uint64_t p, hole, vvar, vvar_end, a, b;
	pid_t pid = small_target(&p, &hole, 4), z, dead, zroot;
	int dev = st_dev(), fd = tmp_file("/tmp");
	char comm[64], flags[256];

	(void)state;
	r[0] = (struct ckpt_page_range){ p, PAGE };
	EXPECT_ERR(ESRCH, ioc_pages(dev, 0, fd, r, 1, 0), "pid 0");
	EXPECT_ERR(ESRCH, ioc_pages(dev, 0x80000000U, fd, r, 1, 0), "pid 2^31");
	EXPECT_ERR(ESRCH, ioc_pages(dev, ~0U, fd, r, 1, 0), "pid 2^32 - 1");
	EXPECT_ERR(ESRCH, ioc_pages(dev, 0x7fffffff, fd, r, 1, 0), "pid INT_MAX");
	dead = st_reaped_pid();
	EXPECT_ERR(ESRCH, ioc_pages(dev, dead, fd, r, 1, 0), "pid %d (reaped)", dead);
	/* pid 2 is kthreadd, a kernel thread. */
	ST_CHECK(ckpt_read_file("/proc/2/comm", comm, sizeof(comm)) > 0);
	ST_CHECK(!strcmp(comm, "kthreadd\n"), "pid 2 is '%s'", comm);
	EXPECT_ERR(EOPNOTSUPP, ioc_pages(dev, 2, fd, r, 1, 0), "pid 2 (kthreadd)");
	/* A zombie has no memory map any more. */
	zroot = st_spawn(NULL, st_wl_zombie_root, NULL);
	st_wait_ready(2);
	z = st_find_rep(1, 0)->aux;
	st_wait_state(z, 0, 'Z');
	EXPECT_ERR(EAGAIN, ioc_pages(dev, z, fd, r, 1, 0), "a zombie (%d)", z);
	/* Its parent is fine (the range: its copy of st_shm's page). */
	r[1] = (struct ckpt_page_range){ (uintptr_t)st_shm, PAGE };
	EXPECT_OK(ioc_pages(dev, zroot, fd, &r[1], 1, 0), "the zombie's parent");

	/* Not mapped in the target: EFAULT, whole or in part. */
	r[0] = (struct ckpt_page_range){ hole + PAGE, PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0), "an unmapped page");
	r[0] = (struct ckpt_page_range){ hole, 2 * PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0), "mapped, then unmapped");
	r[0] = (struct ckpt_page_range){ hole + PAGE, 2 * PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0), "unmapped, then mapped");
	r[0] = (struct ckpt_page_range){ hole, 3 * PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0), "a hole in the middle");
	r[0] = (struct ckpt_page_range){ p, PAGE };
	r[1] = (struct ckpt_page_range){ hole + PAGE, PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 2, 0), "the second range unmapped");
	r[0] = (struct ckpt_page_range){ PAGE, PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0), "address 4096");
	r[0] = (struct ckpt_page_range){ unmapped_in(pid, PAGE), PAGE };
	EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0), "far from any mapping");
	/* [vvar] is VM_IO | VM_PFNMAP on x86_64. */
	if (find_mapping(pid, "[vvar]", &vvar, &vvar_end)) {
		smaps_flags(pid, vvar, flags, sizeof(flags));
		ST_CHECK(strstr(flags, " pf") || strstr(flags, " io"),
			 "[vvar] VmFlags:%s", flags);
		r[0] = (struct ckpt_page_range){ vvar, vvar_end - vvar };
		EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0),
			   "[vvar] (VmFlags:%.60s)", flags);
		r[0] = (struct ckpt_page_range){ vvar, PAGE };
		EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0), "[vvar]'s first page");
		/* [vdso] follows it and is ordinary memory. */
		if (find_mapping(pid, "[vdso]", &a, &b) && a == vvar_end) {
			r[0] = (struct ckpt_page_range){ vvar_end - PAGE, 2 * PAGE };
			EXPECT_ERR(EFAULT, ioc_pages(dev, pid, fd, r, 1, 0),
				   "the end of [vvar] and [vdso]");
			r[0] = (struct ckpt_page_range){ a, b - a };
			EXPECT_OK(ioc_pages(dev, pid, fd, r, 1, 0), "[vdso]");
		}
	} else {
		st_diag("no [vvar] in /proc/%d/maps: the VM_IO/VM_PFNMAP case is left out", pid);
	}
	/* Secret memory (memfd_secret) cannot be read: EFAULT. */
	st_spawn(NULL, secret_wl, NULL);
	st_wait_ready(3);
	if (st_find_rep(R_SECRET, 0)->aux) {
		st_diag("memfd_secret: %s: the secret memory case is left out",
			st_errname(st_find_rep(R_SECRET, 0)->aux));
	} else {
		const struct st_rep *sr = st_find_rep(R_SECRET, 0);

		r[0] = (struct ckpt_page_range){ sr->val, PAGE };
		EXPECT_ERR(EFAULT, ioc_pages(dev, sr->pid, fd, r, 1, 0),
			   "memfd_secret memory");
	}
	/* The good range still works, and the target is untouched. */
	r[0] = (struct ckpt_page_range){ p, 4 * PAGE };
	EXPECT_OK(ioc_pages(dev, pid, fd, r, 1, PAGE), "the good range");
	check_pattern(fd, PAGE, R_PAGE, 0, 4, "the good range");
}

/* The runner itself as the target, and a pid that is a thread id. */
static void pages_self(void **state)
{
	uint8_t *buf = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ckpt_page_range r[1];
	int dev = st_dev(), fd = tmp_file("/tmp");

	(void)state;
	ST_CHECK(buf != MAP_FAILED);
	fill(buf, R_PAGE, 0, 3);
	ST_OK(mprotect(buf + PAGE, PAGE, PROT_NONE));
	r[0] = (struct ckpt_page_range){ (uintptr_t)buf, 3 * PAGE };
	EXPECT_OK(ioc_pages(dev, getpid(), fd, r, 1, 0), "PAGES of the caller itself");
	check_pattern(fd, 0, R_PAGE, 0, 3, "the caller itself");
	munmap(buf, 3 * PAGE);
}

/* Never-touched memory reads as zeros and is not allocated by the read. */
static void untouched_wl(void *arg)
{
	uint8_t *p = wl_map(32 * MiB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
	uint8_t *raw = wl_map(6 * MiB, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1);
	uint8_t *t = (uint8_t *)(((uintptr_t)raw + 2 * MiB - 1) & ~(2 * MiB - 1));
	uint8_t *sh = wl_map(MiB, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1);

	(void)arg;
	WL_CHECK(madvise(t, 4 * MiB, MADV_HUGEPAGE) == 0 || errno == EINVAL);
	p[16 * MiB] = 7;	/* one page touched in the middle */
	st_report(R_PAGE, 0, 0, (uintptr_t)p);
	st_report(R_THP, 0, 0, (uintptr_t)t);
	st_report(R_SHMEM, 0, 0, (uintptr_t)sh);
	st_ready();
	st_idle();
}

/*
 * abi.md: "a private anonymous page that was never touched reads as zeros
 * without being allocated, but shared memory ... pages are allocated".
 */
static void pages_untouched(void **state)
{
	struct ckpt_page_range r[3];
	pid_t pid = st_spawn(NULL, untouched_wl, NULL);
	int dev = st_dev(), fd = tmp_file("/tmp");
	uint64_t p, t, j, total = 37 * MiB;
	long before, after, shm_before, shm_after;
	uint8_t *got;

	(void)state;
	st_wait_ready(1);
	p = st_find_rep(R_PAGE, 0)->val;
	t = st_find_rep(R_THP, 0)->val;
	r[0] = (struct ckpt_page_range){ p, 32 * MiB };
	r[1] = (struct ckpt_page_range){ t, 4 * MiB };
	r[2] = (struct ckpt_page_range){ st_find_rep(R_SHMEM, 0)->val, MiB };
	before = status_kb(pid, "RssAnon");
	shm_before = status_kb(pid, "RssShmem");
	EXPECT_OK(ioc_pages(dev, pid, fd, r, 3, 0),
		  "37 MiB, one page touched (1 MiB of it shared)");
	after = status_kb(pid, "RssAnon");
	shm_after = status_kb(pid, "RssShmem");
	if (after != before)
		st_fail("RssAnon of the target went from %ld kB to %ld kB: untouched pages were allocated",
			before, after);
	if (shm_after < shm_before + 1024)
		st_fail("RssShmem of the target went from %ld kB to %ld kB: 1 MiB of untouched shared memory read, expected it allocated",
			shm_before, shm_after);
	ST_EQ(file_size(fd), total);
	got = read_at(fd, 0, total);
	for (j = 0; j < total; j++)
		if (got[j] != (j == 16 * MiB ? 7 : 0))
			st_fail("file offset %#llx: %#x, expected %#x",
				(unsigned long long)j, got[j], j == 16 * MiB ? 7 : 0);
	free(got);
}

/* ---- permission ---------------------------------------------------------------------- */

struct perm {
	int dev, fd;
	uint32_t flags;		/* CKPT_PAGES_PIDFD: target is an fd */
	pid_t target;
	uint64_t addr;
	uid_t uid;
	int caps[2];
	int ncaps;
	uint64_t offset;
	int slot;
};

static int perm_child(void *arg)
{
	struct perm *c = arg;
	struct ckpt_page_range r = { c->addr, PAGE };

	struct ckpt_pages a = { .flags = c->flags, .pid = c->target, .fd = c->fd,
				.count = 1, .ranges = (uintptr_t)&r,
				.offset = c->offset };

	if (st_drop_privs(c->uid, c->uid, c->caps, c->ncaps))
		return 100;
	st_shm->res[c->slot].ret = ioctl(c->dev, CKPT_IOC_PAGES, &a);
	st_shm->res[c->slot].err = errno;
	return 0;
}

static const char *caps_name(const struct perm *c)
{
	static char buf[96];
	int i;

	buf[0] = 0;
	for (i = 0; i < c->ncaps; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			 i ? "+" : "",
			 c->caps[i] == CAP_CHECKPOINT_RESTORE ? "CAP_CHECKPOINT_RESTORE" :
			 c->caps[i] == CAP_SYS_ADMIN ? "CAP_SYS_ADMIN" :
			 c->caps[i] == CAP_SYS_PTRACE ? "CAP_SYS_PTRACE" : "cap?");
	return c->ncaps ? buf : "no capability";
}

static void run_perm(struct perm *c, int want, const char *target)
{
	int rc;

	memset(st_shm->res, 0, sizeof(st_shm->res));
	c->slot = 0;
	rc = st_run_child(perm_child, c);
	if (rc != 0)
		st_fail("the child as uid %d with %s could not start (%d)", c->uid,
			caps_name(c), rc);
	if (want ? st_shm->res[0].ret != -1 || st_shm->res[0].err != want :
		   st_shm->res[0].ret != 0)
		st_fail("PAGES of %s as uid %d with %s: expected %s, got %d/%s",
			target, c->uid, caps_name(c),
			want ? st_errname(want) : "success", st_shm->res[0].ret,
			st_shm->res[0].ret ? st_errname(st_shm->res[0].err) : "0");
}

/* A target owned by nobody with one pattern page: ptrace-able by nobody
 * (dumpable, any tracer for Yama) unless @arg says non-dumpable. */
static void nobody_wl(void *arg)
{
	uint8_t *p = wl_map(PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1);

	fill(p, R_PAGE, 0, 1);
	WL_CHECK(!setgroups(0, NULL) && !setresgid(65534, 65534, 65534) &&
		 !setresuid(65534, 65534, 65534));
	WL_CHECK(!prctl(PR_SET_DUMPABLE, arg ? 0 : 1, 0, 0, 0));
	WL_CHECK(!prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0));
	st_report(R_PAGE, arg ? 1 : 0, 0, (uintptr_t)p);
	st_ready();
	st_idle();
}

static void pages_unprivileged(void **state)
{
	uint64_t rp;
	pid_t rootp = small_target(&rp, NULL, 1), nob, nodump;
	struct perm c = { .dev = st_dev(), .fd = tmp_file("/tmp") };

	(void)state;
	nob = st_spawn(NULL, nobody_wl, NULL);
	nodump = st_spawn(NULL, nobody_wl, (void *)1);
	st_wait_ready(3);

	/* root's process */
	c.target = rootp;
	c.addr = rp;
	c.uid = 65534;
	run_perm(&c, EPERM, "root's process");
	c.uid = 0;
	run_perm(&c, EPERM, "root's process");
	c.uid = 65534;
	c.caps[0] = CAP_CHECKPOINT_RESTORE;
	c.ncaps = 1;
	run_perm(&c, EPERM, "root's process (no ptrace access)");
	c.caps[0] = CAP_SYS_ADMIN;
	run_perm(&c, EPERM, "root's process (no ptrace access)");
	/* uid 0 but fewer capabilities than the target: no ptrace access. */
	c.uid = 0;
	c.caps[0] = CAP_CHECKPOINT_RESTORE;
	run_perm(&c, EPERM, "root's process (as root, only CAP_CHECKPOINT_RESTORE)");
	/* With CAP_SYS_PTRACE too, root may trace it. */
	c.caps[1] = CAP_SYS_PTRACE;
	c.ncaps = 2;
	c.offset = 0;
	run_perm(&c, 0, "root's process (CAP_CHECKPOINT_RESTORE+CAP_SYS_PTRACE)");
	check_pattern(c.fd, 0, R_PAGE, 0, 1, "as root with CAP_CHECKPOINT_RESTORE+CAP_SYS_PTRACE");

	/* nobody's process: the capability decides. */
	c.target = nob;
	c.addr = st_find_rep(R_PAGE, 0)->val;
	c.uid = 65534;
	c.ncaps = 0;
	run_perm(&c, EPERM, "nobody's process");
	c.caps[0] = CAP_SYS_PTRACE;
	c.ncaps = 1;
	run_perm(&c, EPERM, "nobody's process (CAP_SYS_PTRACE is not the capability)");
	c.caps[0] = CAP_CHECKPOINT_RESTORE;
	c.offset = PAGE;
	run_perm(&c, 0, "nobody's process");
	check_pattern(c.fd, PAGE, R_PAGE, 0, 1, "nobody with CAP_CHECKPOINT_RESTORE");
	c.caps[0] = CAP_SYS_ADMIN;
	c.offset = 2 * PAGE;
	run_perm(&c, 0, "nobody's process");
	check_pattern(c.fd, 2 * PAGE, R_PAGE, 0, 1, "nobody with CAP_SYS_ADMIN");

	/* nobody's non-dumpable process: ptrace needs CAP_SYS_PTRACE. */
	c.target = nodump;
	c.addr = st_find_rep(R_PAGE, 1)->val;
	c.caps[0] = CAP_CHECKPOINT_RESTORE;
	run_perm(&c, EPERM, "nobody's non-dumpable process");

	/* An unmapped range of a process the caller may not trace: EPERM,
	 * not EFAULT (which would tell about the target's memory map). */
	c.target = rootp;
	c.addr = unmapped_in(rootp, PAGE);
	c.uid = 65534;
	c.caps[0] = CAP_CHECKPOINT_RESTORE;
	run_perm(&c, EPERM, "an unmapped range of root's process");
	c.ncaps = 0;
	run_perm(&c, EPERM, "an unmapped range of root's process");
}

/* The outcome of PAGES in a child as @c->uid with @c->caps: 0 or errno. */
static int perm_result(struct perm *c)
{
	int rc;

	memset(st_shm->res, 0, sizeof(st_shm->res));
	c->slot = 0;
	rc = st_run_child(perm_child, c);
	if (rc != 0)
		st_fail("the child as uid %d with %s could not start (%d)", c->uid,
			caps_name(c), rc);
	return st_shm->res[0].ret ? st_shm->res[0].err : 0;
}

/*
 * Which check comes first where two rows of abi.md's errno table apply:
 * "the argument rules of the conventions first ...; then in this order":
 * flags/count/offset; the ranges, one by one (EFAULT unreadable, EINVAL
 * malformed or the running total above 1 GiB); offset + total; EBADF for the fd; EINVAL for
 * its kind; EPERM without the capability; ESRCH; EBADF for a pidfd;
 * EOPNOTSUPP; EPERM without ptrace access; EAGAIN; then the memory and
 * the file.  Every case runs, then every mismatch is reported at once.
 */
static void pages_errno_order(void **state)
{
	struct ckpt_page_range r[1], bad[1], *g;
	uint64_t p, hole;
	pid_t pid = small_target(&p, &hole, 1), z;
	int dev = st_dev(), fd = tmp_file("/tmp"), pfd[2], dir, reg, bad_n = 0;
	struct perm c = { .dev = dev, .fd = fd, .uid = 65534, .addr = p };
	struct ckpt_pages a;
	char got[1024] = "";

#define ORDER(want, e, ...)						\
	do {								\
		int _e = (e);						\
		char _w[160];						\
		if (_e != (want)) {					\
			snprintf(_w, sizeof(_w), __VA_ARGS__);		\
			st_diag("%s: expected %s, got %s", _w,		\
				st_errname(want), st_errname(_e));	\
			snprintf(got + strlen(got), sizeof(got) - strlen(got), \
				 "%s%s: %s not %s", bad_n++ ? "; " : "", _w, \
				 st_errname(_e), st_errname(want));	\
		}							\
	} while (0)
#define CALL(...)	(ioc_pages(__VA_ARGS__) ? errno : 0)

	(void)state;
	st_spawn(NULL, st_wl_zombie_root, NULL);
	st_wait_ready(2);
	z = st_find_rep(1, 0)->aux;
	st_wait_state(z, 0, 'Z');
	ST_OK(pipe(pfd));
	st_track_fd(pfd[0]);
	st_track_fd(pfd[1]);
	dir = st_track_fd(ST_OK(open("/tmp", O_RDONLY | O_DIRECTORY)));
	reg = reopen(fd, O_RDONLY);
	r[0] = (struct ckpt_page_range){ hole + PAGE, PAGE };	/* not mapped */
	bad[0] = (struct ckpt_page_range){ p + 1, PAGE };	/* unaligned */

	/* flags, count, offset: before everything. */
	a = (struct ckpt_pages){ .flags = 2, .pid = 0, .fd = ~0U, .count = 1,
				 .ranges = 0 };
	ORDER(EINVAL, ioctl(dev, CKPT_IOC_PAGES, &a) ? errno : 0,
	      "unknown flag, ranges NULL, fd -1, pid 0");
	ORDER(EINVAL, CALL(dev, 0, ~0U, NULL, 0, 0), "count 0, fd -1, pid 0");
	ORDER(EINVAL, CALL(dev, 0, ~0U, NULL, 1, 1), "unaligned offset, ranges NULL");
	ORDER(EINVAL, CALL(dev, 0, ~0U, NULL, 1, 1ULL << 63), "offset 2^63, ranges NULL");
	/* The ranges, one by one, before the fd and the pid. */
	ORDER(EFAULT, CALL(dev, 0, ~0U, NULL, 1, 0), "ranges NULL, fd -1, pid 0");
	ORDER(EINVAL, CALL(dev, 0, ~0U, bad, 1, 0), "unaligned range, fd -1, pid 0");
	g = st_guarded(2 * sizeof(*g));
	g[0] = bad[0];
	g[1] = (struct ckpt_page_range){ p, PAGE };
	ORDER(EINVAL, CALL(dev, pid, fd, g, 3, 0),
	      "a bad range, then one in a guard page");
	g[0] = (struct ckpt_page_range){ p, PAGE };
	g[1] = bad[0];
	ORDER(EINVAL, CALL(dev, pid, fd, g, 2, 0), "a good range, then a bad one");
	g[1] = (struct ckpt_page_range){ p, PAGE };
	ORDER(EFAULT, CALL(dev, pid, fd, g, 3, 0),
	      "two good ranges, then one in a guard page");
	/* The running total is checked range by range too: 2 x 768 MiB
	 * exceeds 1 GiB at the second range, before the unreadable third. */
	g[0] = (struct ckpt_page_range){ 0x200000000000ULL, 768 * MiB };
	g[1] = (struct ckpt_page_range){ 0x200000000000ULL, 768 * MiB };
	ORDER(EINVAL, CALL(dev, pid, fd, g, 3, 0),
	      "768 MiB, 768 MiB, then a range in a guard page (the running total, range by range)");
	g[1] = (struct ckpt_page_range){ 0x200000000000ULL, PAGE };
	ORDER(EFAULT, CALL(dev, pid, fd, g, 3, 0x7ffffffff0000000ULL),
	      "offset + total beyond LLONG_MAX, then a range in a guard page");
	/* The total before the fd. */
	g[0] = (struct ckpt_page_range){ 0x200000000000ULL, 768 * MiB };
	g[1] = (struct ckpt_page_range){ 0x200000000000ULL, 768 * MiB };
	ORDER(EINVAL, CALL(dev, 0, ~0U, g, 2, 0), "more than 1 GiB, fd -1, pid 0");
	ORDER(EINVAL, CALL(dev, 0, ~0U, r, 1, 0x7ffffffffffff000ULL),
	      "offset + total beyond LLONG_MAX, fd -1, pid 0");
	/* The fd: EBADF, then its kind, before the pid. */
	ORDER(EBADF, CALL(dev, 0, ~0U, r, 1, 0), "fd -1, pid 0");
	ORDER(EBADF, CALL(dev, 0, reg, r, 1, 0), "an O_RDONLY file, pid 0");
	ORDER(EBADF, CALL(dev, pid, dir, r, 1, 0),
	      "a directory (not open for writing, and not a regular file)");
	ORDER(EINVAL, CALL(dev, 0, pfd[1], r, 1, 0), "a pipe, pid 0");
	/* The target before its memory. */
	ORDER(ESRCH, CALL(dev, 0, fd, r, 1, 0), "pid 0, range not mapped");
	ORDER(EOPNOTSUPP, CALL(dev, 2, fd, r, 1, 0), "kthreadd, range not mapped");
	ORDER(EAGAIN, CALL(dev, z, fd, r, 1, 0), "a zombie, range not mapped");
	/* Unprivileged: the argument and fd rules first, then EPERM for the
	 * capability before anything about the target. */
	c.target = pid;
	c.addr = p + 1;
	ORDER(EINVAL, perm_result(&c), "no capability, an unaligned range");
	c.addr = p;
	c.fd = -1;
	ORDER(EBADF, perm_result(&c), "no capability, fd -1");
	c.fd = pfd[1];
	ORDER(EINVAL, perm_result(&c), "no capability, a pipe");
	c.fd = fd;
	c.target = 0;
	ORDER(EPERM, perm_result(&c), "no capability, pid 0");
	c.target = 2;
	ORDER(EPERM, perm_result(&c), "no capability, kthreadd");
	c.target = z;
	ORDER(EPERM, perm_result(&c), "no capability, a zombie");
	/* The capability but no ptrace access (root's processes, as
	 * nobody): EOPNOTSUPP before it, EAGAIN and the memory after. */
	c.caps[0] = CAP_CHECKPOINT_RESTORE;
	c.ncaps = 1;
	c.target = 0;
	ORDER(ESRCH, perm_result(&c), "CAP_CHECKPOINT_RESTORE as nobody, pid 0");
	c.target = 2;
	ORDER(EOPNOTSUPP, perm_result(&c), "CAP_CHECKPOINT_RESTORE as nobody, kthreadd");
	c.target = z;
	ORDER(EPERM, perm_result(&c), "CAP_CHECKPOINT_RESTORE as nobody, root's zombie");
	c.target = pid;
	c.addr = hole + PAGE;
	ORDER(EPERM, perm_result(&c),
	      "CAP_CHECKPOINT_RESTORE as nobody, an unmapped range of root's process");
	if (bad_n)
		st_fail("%d cases disagree with the order of abi.md's errno table: %s",
			bad_n, got);
#undef CALL
#undef ORDER
}

/* ---- file-system errors: as pwrite returns them ---------------------------------------- */

static void pages_enospc(void **state)
{
	char dir[PATH_MAX];
	struct ckpt_page_range r[1];
	uint8_t *buf = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct ckpt_info info;
	int dev = st_dev(), fd, fd2;
	uint64_t p;
	pid_t pid;

	(void)state;
	memset(&info, 0, sizeof(info));
	ST_CHECK(buf != MAP_FAILED);
	fill(buf, R_PAGE, 0, 32);
	ST_CHECK(mount_tmpfs("small", "size=64k", dir, sizeof(dir)) != NULL,
		 "mount tmpfs size=64k: %s", st_errname(errno));
	fd = tmp_file(dir);
	/* pwrite: a short write, then ENOSPC. */
	{
		ssize_t n = pwrite(fd, buf, 32 * PAGE, 0);

		ST_CHECK(n > 0 && n < (ssize_t)(32 * PAGE), "pwrite: %zd", n);
		EXPECT_ERR(ENOSPC, pwrite(fd, buf + n, 32 * PAGE - n, n),
			   "pwrite on the full tmpfs");
		ST_OK(ftruncate(fd, 0));
	}
	r[0] = (struct ckpt_page_range){ (uintptr_t)buf, 32 * PAGE };
	EXPECT_ERR(ENOSPC, ioc_pages(dev, getpid(), fd, r, 1, 0),
		   "128 KiB into a 64 KiB tmpfs");
	/* Another process as the source, at an offset. */
	pid = small_target(&p, NULL, 32);
	r[0] = (struct ckpt_page_range){ p, 32 * PAGE };
	fd2 = tmp_file(dir);
	EXPECT_ERR(ENOSPC, ioc_pages(dev, pid, fd2, r, 1, 8 * PAGE),
		   "128 KiB at 32 KiB into a full tmpfs");
	/* The module is fine: with room again, the same calls work. */
	ST_OK(ftruncate(fd2, 0));
	ST_OK(ftruncate(fd, 0));
	r[0] = (struct ckpt_page_range){ p + 4 * PAGE, 8 * PAGE };
	EXPECT_OK(ioc_pages(dev, pid, fd, r, 1, 0), "32 KiB into the emptied tmpfs");
	check_pattern(fd, 0, R_PAGE, 4, 8, "after ENOSPC");
	ST_OK(ioctl(dev, CKPT_IOC_INFO, &info));
	fd2 = tmp_file("/tmp");
	r[0] = (struct ckpt_page_range){ p, 32 * PAGE };
	EXPECT_OK(ioc_pages(dev, pid, fd2, r, 1, 0), "128 KiB into /tmp");
	check_pattern(fd2, 0, R_PAGE, 0, 32, "after ENOSPC, /tmp");
	munmap(buf, 32 * PAGE);
}

/* Size limits and seals: the errno pwrite gives for the same write. */
static void pages_fs_errors(void **state)
{
	struct ckpt_page_range r[1];
	char edir[PATH_MAX];
	uint64_t p, off;
	pid_t pid = small_target(&p, NULL, 4);
	int dev = st_dev(), fd = tmp_file("/tmp"), mfd, pe, e, i;
	uint8_t buf[PAGE];
	ssize_t n;

	(void)state;
	memset(buf, 1, sizeof(buf));
	r[0] = (struct ckpt_page_range){ p, PAGE };
	/* The write must end at LLONG_MAX at most: tmpfs holds it, the
	 * page at 2^63 - 8192 is the last; a page at 2^63 - 4096 ends at
	 * 2^63 (EINVAL, as pwrite says too); offsets above LLONG_MAX are
	 * EINVAL. */
	off = 0x7fffffffffffe000ULL;
	EXPECT_OK(ioc_pages(dev, pid, fd, r, 1, off), "a page at %#llx on tmpfs",
		  (unsigned long long)off);
	ST_EQ(file_size(fd), off + PAGE);
	check_pattern(fd, off, R_PAGE, 0, 1, "at 2^63 - 8192");
	r[0].len = 2 * PAGE;
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 1, off),
		   "two pages at %#llx (end 2^63)", (unsigned long long)off);
	r[0].len = PAGE;
	off = 0x7ffffffffffff000ULL;
	n = pwrite(fd, buf, PAGE, (off_t)off);
	pe = errno;
	ST_CHECK(n < 0 && pe == EINVAL, "pwrite of a page at %#llx: %zd (%s)",
		 (unsigned long long)off, n, st_errname(pe));
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 1, off),
		   "a page at %#llx (end 2^63)", (unsigned long long)off);
	ST_OK(ftruncate(fd, 0));
	for (i = 0; i < 3; i++) {
		off = i == 0 ? 1ULL << 63 : i == 1 ? 0ULL - PAGE : 0x8000000000001000ULL;
		EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 1, off),
			   "offset %#llx (above LLONG_MAX)", (unsigned long long)off);
	}
	/* ext4: far beyond its maximum file size. */
	if (mount_ext4(edir, sizeof(edir))) {
		int efd = tmp_file(edir);

		off = 1ULL << 50;
		EXPECT_ERR(EFBIG, pwrite(efd, buf, PAGE, (off_t)off), "pwrite at 2^50 on ext4");
		EXPECT_ERR(EFBIG, ioc_pages(dev, pid, efd, r, 1, off), "PAGES at 2^50 on ext4");
		EXPECT_OK(ioc_pages(dev, pid, efd, r, 1, 1ULL << 32), "PAGES at 4 GiB on ext4");
		check_pattern(efd, 1ULL << 32, R_PAGE, 0, 1, "ext4 at 4 GiB");
	}
	/* A write-sealed memfd: pwrite fails with EPERM, so must PAGES. */
	mfd = st_track_fd(ST_OK(memfd_create("ckpt-st-pages", MFD_ALLOW_SEALING)));
	ST_OK(ftruncate(mfd, 4 * PAGE));
	ST_OK(fcntl(mfd, F_ADD_SEALS, F_SEAL_GROW));
	/* Growing: refused; within the size: fine. */
	n = pwrite(mfd, buf, PAGE, 4 * PAGE);
	e = errno;
	ST_CHECK(n == -1, "pwrite past a F_SEAL_GROW memfd's end: %zd", n);
	EXPECT_ERR(e, ioc_pages(dev, pid, mfd, r, 1, 4 * PAGE),
		   "past the end of a F_SEAL_GROW memfd (pwrite: %s)", st_errname(e));
	EXPECT_OK(ioc_pages(dev, pid, mfd, r, 1, 3 * PAGE), "within a F_SEAL_GROW memfd");
	check_pattern(mfd, 3 * PAGE, R_PAGE, 0, 1, "F_SEAL_GROW memfd");
	ST_EQ(file_size(mfd), 4 * PAGE);
	ST_OK(fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE));
	n = pwrite(mfd, buf, PAGE, 0);
	e = errno;
	ST_CHECK(n == -1, "pwrite into a F_SEAL_WRITE memfd: %zd", n);
	EXPECT_ERR(e, ioc_pages(dev, pid, mfd, r, 1, 0),
		   "a F_SEAL_WRITE memfd (pwrite: %s)", st_errname(e));
	check_pattern(mfd, 3 * PAGE, R_PAGE, 0, 1, "F_SEAL_WRITE memfd, unchanged");
}

/* ---- the destination is the source ------------------------------------------------------ */

static void shared_file_wl(void *arg)
{
	int fd = open(arg, O_RDWR | O_CLOEXEC);
	uint8_t *m;

	WL_CHECK(fd >= 0);
	m = wl_map(8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	close(fd);
	st_report(R_PAGE, 0, 0, (uintptr_t)m);
	st_ready();
	st_idle();
}

/*
 * A range that maps the output file itself is refused (EINVAL) before any
 * of its batch is written: the pages read would be the pages written, so
 * overlapping ranges could not give what process_vm_readv + pwrite give.
 * Copying within the file, overlapping, a page onto itself: all EINVAL,
 * and the file keeps its content.
 */
static void pages_source_is_destination(void **state)
{
	static char path[] = "/tmp/ckpt-st-pages-shared.XXXXXX";
	int dev = st_dev(), fd;
	struct ckpt_page_range r[1];
	uint8_t *buf = malloc(8 * PAGE);
	uint64_t m;
	pid_t pid;

	(void)state;
	ST_CHECK(buf != NULL);
	strcpy(path + strlen(path) - 6, "XXXXXX");
	fd = st_track_fd(ST_OK(mkstemp(path)));
	fill(buf, R_PAGE, 0, 4);
	fill(buf + 4 * PAGE, R_PAGE, 0, 4);	/* pages 4-7 = pages 0-3 */
	ST_EQ(pwrite(fd, buf, 8 * PAGE, 0), (ssize_t)(8 * PAGE));
	/* The target maps the file shared (st_spawn closes inherited fds). */
	pid = st_spawn(NULL, shared_file_wl, path);
	st_wait_ready(1);
	unlink(path);
	m = st_find_rep(R_PAGE, 0)->val;
	r[0] = (struct ckpt_page_range){ m, 4 * PAGE };
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 1, 4 * PAGE),
		   "the file's pages 0-3, mapped shared, into pages 4-7");
	r[0] = (struct ckpt_page_range){ m, 6 * PAGE };
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 1, PAGE), "pages 0-5 onto 1-6");
	r[0] = (struct ckpt_page_range){ m + 2 * PAGE, PAGE };
	EXPECT_ERR(EINVAL, ioc_pages(dev, pid, fd, r, 1, 2 * PAGE), "a page onto itself");
	check_pattern(fd, 0, R_PAGE, 0, 4, "after the refusals");
	check_pattern(fd, 4 * PAGE, R_PAGE, 0, 4, "after the refusals");
	/* Another file's shared mapping is an ordinary source. */
	{
		int other = tmp_file("/tmp");

		r[0] = (struct ckpt_page_range){ m, 4 * PAGE };
		EXPECT_OK(ioc_pages(dev, pid, other, r, 1, 0), "the mapped file into another file");
		check_pattern(other, 0, R_PAGE, 0, 4, "the mapped file into another file");
	}
	free(buf);
}

/* ---- concurrency and signals ---------------------------------------------------------- */

struct par {
	int dev, fd, idx, iters;
	pid_t pid;
	uint64_t p;
	int err;
};

static void *par_thread(void *arg)
{
	struct par *t = arg;
	struct ckpt_page_range r[1] = { { t->p + (t->idx % 4) * PAGE, 4 * PAGE - (t->idx % 4) * PAGE } };
	int i;

	for (i = 0; i < t->iters && !t->err; i++)
		if (ioc_pages(t->dev, t->pid, t->fd, r, 1, t->idx * 8 * PAGE))
			t->err = errno;
	return NULL;
}

/* PAGES takes no per-file lock: parallel calls on one fd and one file. */
static void pages_parallel(void **state)
{
	struct par t[4];
	pthread_t th[4];
	uint64_t p;
	pid_t pid = small_target(&p, NULL, 4);
	int fd = tmp_file("/tmp"), i, dev;
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_simple_tree(cg, 1);

	(void)state;
	/* On a file that holds a session (which does not matter). */
	dev = st_begin(cg, root);
	for (i = 0; i < 4; i++) {
		t[i] = (struct par){ .dev = dev, .fd = fd, .idx = i, .iters = 20,
				     .pid = pid, .p = p };
		errno = pthread_create(&th[i], NULL, par_thread, &t[i]);
		ST_CHECK(errno == 0, "pthread_create: %s", st_errname(errno));
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < 4; i++) {
		if (t[i].err)
			st_fail("thread %d: PAGES failed: %s", i, st_errname(t[i].err));
		check_pattern(fd, i * 8 * PAGE, R_PAGE, i % 4, 4 - i % 4, "parallel");
	}
	session_intact(dev);
}

static int sig_child(void *arg)
{
	struct perm *c = arg;
	struct ckpt_page_range r = { c->addr, 256 * MiB };

	st_shm->res[0].ret = 1;		/* started */
	st_shm->res[0].ret = ioc_pages(c->dev, getpid(), c->fd, &r, 1, 0);
	st_shm->res[0].err = errno;
	return 0;
}

/* A caller SIGKILLed in a long call dies promptly (EINTR inside). */
static void pages_fatal_signal(void **state)
{
	uint8_t *mem = mmap(NULL, 256 * MiB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct perm c = { .dev = st_dev(), .fd = tmp_file("/tmp") };
	uint64_t t0, deadline, size = 0;
	struct ckpt_page_range r[1];
	int status;
	pid_t pid;

	(void)state;
	ST_CHECK(mem != MAP_FAILED);
	c.addr = (uintptr_t)mem;
	memset(st_shm->res, 0, sizeof(st_shm->res));
	fflush(stdout);
	pid = fork();
	ST_CHECK(pid >= 0, "fork: %s", st_errname(errno));
	if (pid == 0)
		_exit(sig_child(&c));
	st_track_pid(pid);
	/* Kill it once the file has grown, i.e. in the middle of the call. */
	t0 = ckpt_now_ms();
	deadline = t0 + 60000;
	while ((size = file_size(c.fd)) < 4 * MiB && ckpt_now_ms() < deadline &&
	       waitpid(pid, &status, WNOHANG) == 0)
		;
	ST_OK(kill(pid, SIGKILL));
	t0 = ckpt_now_ms();
	ST_OK(waitpid(pid, &status, 0));
	st_diag("killed at file size %llu, dead after %llu ms, final size %llu",
		(unsigned long long)size,
		(unsigned long long)(ckpt_now_ms() - t0),
		(unsigned long long)file_size(c.fd));
	if (!WIFSIGNALED(status))
		st_fail("the caller was not killed in the call (status %#x, ioctl %d/%s): the call was over too soon to test",
			status, st_shm->res[0].ret, st_errname(st_shm->res[0].err));
	if (file_size(c.fd) >= 256 * MiB)
		st_fail("the call wrote all 256 MiB although its caller was SIGKILLed at %llu bytes",
			(unsigned long long)size);
	/* The module is fine. */
	ST_OK(ftruncate(c.fd, 0));
	r[0] = (struct ckpt_page_range){ (uintptr_t)mem, PAGE };
	EXPECT_OK(ioc_pages(c.dev, getpid(), c.fd, r, 1, 0), "PAGES after the kill");
	munmap(mem, 256 * MiB);
}

/* The caller's fd loses its writability meanwhile: O_APPEND set with
 * F_SETFL during a long call stops it (checked before each batch). */
static void pages_append_meanwhile(void **state)
{
	uint8_t *mem = mmap(NULL, 256 * MiB, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct perm c = { .dev = st_dev(), .fd = tmp_file("/tmp") };
	uint64_t deadline, size = 0;
	int status;
	pid_t pid;

	(void)state;
	ST_CHECK(mem != MAP_FAILED);
	c.addr = (uintptr_t)mem;
	memset(st_shm->res, 0, sizeof(st_shm->res));
	fflush(stdout);
	pid = fork();
	ST_CHECK(pid >= 0, "fork: %s", st_errname(errno));
	if (pid == 0)
		_exit(sig_child(&c));
	st_track_pid(pid);
	deadline = ckpt_now_ms() + 60000;
	while ((size = file_size(c.fd)) < 4 * MiB && ckpt_now_ms() < deadline &&
	       waitpid(pid, &status, WNOHANG) == 0)
		;
	/* The same open file description as the child's fd. */
	ST_OK(fcntl(c.fd, F_SETFL, O_APPEND));
	ST_OK(waitpid(pid, &status, 0));
	st_diag("O_APPEND set at file size %llu, final size %llu",
		(unsigned long long)size, (unsigned long long)file_size(c.fd));
	ST_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
	if (st_shm->res[0].ret != -1 || st_shm->res[0].err != EINVAL)
		st_fail("PAGES of 256 MiB with O_APPEND set on its fd at %llu bytes: expected -1/EINVAL, got %d/%s",
			(unsigned long long)size, st_shm->res[0].ret,
			st_shm->res[0].ret ? st_errname(st_shm->res[0].err) : "success");
	ST_CHECK(file_size(c.fd) < 256 * MiB, "all 256 MiB written");
	munmap(mem, 256 * MiB);
}

/* ---- CKPT_PAGES_PIDFD ------------------------------------------------------------------ */

static int ioc_pages_pidfd(int dev, uint32_t pidfd, int fd,
			   const struct ckpt_page_range *r, uint64_t offset)
{
	struct ckpt_pages a = { .flags = CKPT_PAGES_PIDFD, .pid = pidfd, .fd = fd,
				.count = 1, .ranges = (uintptr_t)r,
				.offset = offset };

	return ioctl(dev, CKPT_IOC_PAGES, &a);
}

static void pages_pidfd(void **state)
{
	struct ckpt_page_range r[1];
	uint64_t p;
	pid_t pid = small_target(&p, NULL, 4), z, dead;
	int dev = st_dev(), fd = tmp_file("/tmp"), pfd, zfd, dfd, kfd, closed;
	struct perm c = { .dev = dev, .fd = fd, .uid = 65534,
			  .flags = CKPT_PAGES_PIDFD };

	(void)state;
	r[0] = (struct ckpt_page_range){ p + PAGE, 2 * PAGE };
	pfd = st_track_fd(ST_OK(ckpt_pidfd_open(pid, 0)));
	EXPECT_OK(ioc_pages_pidfd(dev, pfd, fd, r, PAGE), "a pidfd of the target");
	check_pattern(fd, PAGE, R_PAGE, 1, 2, "by pidfd");
	/* Not a pidfd: EBADF. */
	EXPECT_ERR(EBADF, ioc_pages_pidfd(dev, fd, fd, r, 0), "a regular file as the pidfd");
	EXPECT_ERR(EBADF, ioc_pages_pidfd(dev, dev, fd, r, 0), "/dev/ckpt as the pidfd");
	EXPECT_ERR(EBADF, ioc_pages_pidfd(dev, ~0U, fd, r, 0), "pidfd -1");
	EXPECT_ERR(EBADF, ioc_pages_pidfd(dev, 0x80000000U, fd, r, 0), "pidfd 2^31");
	closed = ST_OK(dup(pfd));
	ST_OK(close(closed));
	EXPECT_ERR(EBADF, ioc_pages_pidfd(dev, closed, fd, r, 0), "a closed pidfd number");
	if (fcntl(pid, F_GETFD) < 0)
		EXPECT_ERR(EBADF, ioc_pages_pidfd(dev, pid, fd, r, 0),
			   "the target's pid (%d) as the pidfd", pid);
	/* A zombie (not reaped): no memory map. */
	st_spawn(NULL, st_wl_zombie_root, NULL);
	st_wait_ready(2);
	z = st_find_rep(1, 0)->aux;
	st_wait_state(z, 0, 'Z');
	zfd = st_track_fd(ST_OK(ckpt_pidfd_open(z, 0)));
	EXPECT_ERR(EAGAIN, ioc_pages_pidfd(dev, zfd, fd, r, 0), "a pidfd of a zombie");
	/* Reaped: ESRCH. */
	fflush(stdout);
	dead = fork();
	ST_CHECK(dead >= 0);
	if (dead == 0) {
		pause();
		_exit(0);
	}
	st_track_pid(dead);
	dfd = st_track_fd(ST_OK(ckpt_pidfd_open(dead, 0)));
	ST_OK(kill(dead, SIGKILL));
	ST_OK(waitpid(dead, NULL, 0));
	EXPECT_ERR(ESRCH, ioc_pages_pidfd(dev, dfd, fd, r, 0), "a pidfd of a reaped process");
	/* A kernel thread. */
	kfd = ckpt_pidfd_open(2, 0);
	if (kfd >= 0) {
		st_track_fd(kfd);
		EXPECT_ERR(EOPNOTSUPP, ioc_pages_pidfd(dev, kfd, fd, r, 0), "a pidfd of kthreadd");
	} else {
		st_diag("pidfd_open(2): %s: the kernel thread case is left out",
			st_errname(errno));
	}
	/* The pid rules do not apply to a pidfd number: 0 is an fd. */
	{
		char link[64] = "";

		if (readlink("/proc/self/fd/0", link, sizeof(link) - 1) < 0 ||
		    !strstr(link, "pidfd"))
			EXPECT_ERR(EBADF, ioc_pages_pidfd(dev, 0, fd, r, 0),
				   "pidfd 0 (fd 0: '%s', not a pidfd)", link);
	}
	/* Without the capability: EPERM before the pidfd is looked at. */
	c.target = fd;
	run_perm(&c, EPERM, "a regular file as the pidfd, no capability");
	c.target = pfd;
	run_perm(&c, EPERM, "a pidfd of root's process, no capability");
	c.caps[0] = CAP_CHECKPOINT_RESTORE;
	c.ncaps = 1;
	run_perm(&c, EPERM, "a pidfd of root's process, no ptrace access");
	c.target = fd;
	run_perm(&c, EBADF, "a regular file as the pidfd, with the capability");
}

/* ---- userfaultfd --------------------------------------------------------------------- */

#define UFFD_PAGES	8

static uint64_t uffd_base;

/* Answers every missing-page fault with the R_UFFD pattern. */
static void *uffd_handler(void *arg)
{
	static uint8_t buf[PAGE] __attribute__((aligned(4096)));
	int uffd = (int)(intptr_t)arg;
	struct uffdio_copy cp;
	struct uffd_msg msg;
	uint64_t addr;

	st_ready();
	for (;;) {
		ssize_t n = read(uffd, &msg, sizeof(msg));

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		WL_CHECK(n == sizeof(msg));
		if (msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		addr = msg.arg.pagefault.address & ~(PAGE - 1);
		fill(buf, R_UFFD, (addr - uffd_base) / PAGE, 1);
		cp = (struct uffdio_copy){ .dst = addr, .src = (uintptr_t)buf,
					   .len = PAGE };
		WL_CHECK(ioctl(uffd, UFFDIO_COPY, &cp) == 0 || errno == EEXIST);
		__atomic_add_fetch(&st_shm->counter[0], 1, __ATOMIC_SEQ_CST);
	}
}

/* UFFD_PAGES missing-mode pages and a thread that serves them; aux:
 * errno if userfaultfd is not there. */
static void uffd_wl(void *arg)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	uint8_t *m;
	int uffd;

	(void)arg;
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0) {
		st_report(R_UFFD, 0, errno, 0);
		st_ready();
		st_ready();
		st_idle();
	}
	WL_CHECK(ioctl(uffd, UFFDIO_API, &api) == 0);
	m = wl_map(UFFD_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1);
	uffd_base = (uintptr_t)m;
	reg = (struct uffdio_register){
		.range = { .start = (uintptr_t)m, .len = UFFD_PAGES * PAGE },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};
	WL_CHECK(ioctl(uffd, UFFDIO_REGISTER, &reg) == 0);
	st_wl_thread(uffd_handler, (void *)(intptr_t)uffd);
	st_report(R_UFFD, 0, 0, (uintptr_t)m);
	st_ready();
	st_idle();
}

/*
 * abi.md: "a range registered with userfaultfd waits for its handler
 * (killably; if the handler is frozen, only a fatal signal ends the
 * wait)".
 */
static void pages_userfaultfd(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	struct perm c = { .dev = st_dev(), .fd = tmp_file("/tmp") };
	const struct st_rep *rep;
	struct ckpt_page_range r[1];
	uint64_t m, deadline;
	int status;
	pid_t pid, kid;

	(void)state;
	pid = st_spawn(cg, uffd_wl, NULL);
	st_wait_ready(2);
	rep = st_find_rep(R_UFFD, 0);
	if (rep->aux) {
		st_diag("userfaultfd: %s: the test is left out", st_errname(rep->aux));
		return;
	}
	m = rep->val;
	/* Running handler: the pages come from it. */
	r[0] = (struct ckpt_page_range){ m, 4 * PAGE };
	EXPECT_OK(ioc_pages(c.dev, pid, c.fd, r, 1, 0), "4 userfaultfd pages");
	check_pattern(c.fd, 0, R_UFFD, 0, 4, "userfaultfd pages");
	/* (It counts right after UFFDIO_COPY, which already woke us.) */
	deadline = ckpt_now_ms() + 10000;
	while (st_counter(0) < 4 && ckpt_now_ms() < deadline)
		ckpt_sleep_ms(2);
	ST_CHECK(st_counter(0) >= 4, "the handler served %llu faults",
		 (unsigned long long)st_counter(0));
	/* Frozen handler: the call waits until its caller is killed. */
	st_freeze(cg);
	memset(st_shm->res, 0, sizeof(st_shm->res));
	c.addr = m + 4 * PAGE;
	fflush(stdout);
	kid = fork();
	ST_CHECK(kid >= 0);
	if (kid == 0) {
		struct ckpt_page_range kr = { c.addr, PAGE };

		st_shm->res[0].ret = 1;
		st_shm->res[0].ret = ioc_pages(c.dev, pid, c.fd, &kr, 1, 8 * PAGE);
		st_shm->res[0].err = errno;
		_exit(0);
	}
	st_track_pid(kid);
	ckpt_sleep_ms(1000);
	if (waitpid(kid, &status, WNOHANG) != 0)
		st_fail("PAGES of a userfaultfd page whose handler is frozen returned: %d/%s",
			st_shm->res[0].ret, st_errname(st_shm->res[0].err));
	ST_OK(kill(kid, SIGKILL));
	deadline = ckpt_now_ms() + 30000;
	while (waitpid(kid, &status, WNOHANG) == 0) {
		if (ckpt_now_ms() > deadline) {
			st_dump_task(kid);
			st_fail("the caller, waiting for a frozen userfaultfd handler, did not die of SIGKILL in 30 s");
		}
		ckpt_sleep_ms(5);
	}
	ST_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
	/* Thawed, the handler serves the rest. */
	st_thaw(cg);
	r[0] = (struct ckpt_page_range){ m + 4 * PAGE, 4 * PAGE };
	EXPECT_OK(ioc_pages(c.dev, pid, c.fd, r, 1, 0), "4 more pages, the handler thawed");
	check_pattern(c.fd, 0, R_UFFD, 4, 4, "userfaultfd pages after the thaw");
}

static const struct CMUnitTest tests[] = {
	ST_TEST(pages_simple),
	ST_TEST(pages_info),
	ST_TEST(pages_truth_running),
	ST_TEST(pages_truth_frozen_v2),
	ST_TEST(pages_truth_frozen_v1),
	ST_TEST(pages_untouched),
	ST_TEST(pages_self),
	ST_TEST(pages_bad_args),
	ST_TEST(pages_struct_size),
	ST_TEST(pages_bad_fd),
	ST_TEST(pages_bad_target),
	ST_TEST(pages_unprivileged),
	ST_TEST(pages_errno_order),
	ST_TEST(pages_enospc),
	ST_TEST(pages_fs_errors),
	ST_TEST(pages_source_is_destination),
	ST_TEST(pages_parallel),
	ST_TEST(pages_fatal_signal),
	ST_TEST(pages_append_meanwhile),
	ST_TEST(pages_pidfd),
	ST_TEST(pages_userfaultfd),
};

const struct st_group st_group_pages = { "pages", tests, ARRAY_SIZE(tests) };
