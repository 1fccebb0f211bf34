// SPDX-License-Identifier: GPL-2.0
/*
 * st-pages.c: CKPT_IOC_PAGES (group "pages"), against the contract in
 * Documentation/abi.md, section "CKPT_IOC_PAGES".  The group spans
 * st-pages*.c (st-pages.h says which file holds what); this file has the
 * shared helpers, the argument, fd, target and permission rules, and the
 * list of tests.
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
 *
 * CKPT_PAGES_XXH64 (st-pages-xxh64.c): the digest against libxxhash's
 * XXH64 of what the file holds (pread), in one call and carried over
 * several, with a target that keeps rewriting its pages, through a file
 * whose own page cache stays empty (overlayfs: the module reads back), and
 * its argument rules and errno order.
 */
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include "st-pages.h"

/* ---- the command ---------------------------------------------------------------- */

int ioc_pages(int dev, uint32_t pid, uint32_t fd,
	      const struct ckpt_page_range *r, uint32_t count, uint64_t offset)
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

/* ---- workloads (forked children: WL_CHECK, no cmocka) ------------------------------- */

uint8_t *wl_map(size_t len, int prot, int flags, int fd)
{
	void *p = mmap(NULL, len, prot, flags, fd, 0);

	WL_CHECK(p != MAP_FAILED);
	return p;
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
int tmp_file(const char *dir)
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
int reopen(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return st_track_fd(ST_OK(open(path, flags)));
}

void track_pipe(int pfd[2])
{
	ST_OK(pipe(pfd));
	st_track_fd(pfd[0]);
	st_track_fd(pfd[1]);
}

uint64_t file_size(int fd)
{
	struct stat st;

	ST_OK(fstat(fd, &st));
	return (uint64_t)st.st_size;
}

uint8_t *read_at(int fd, uint64_t off, size_t len)
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


/* An address range of @len bytes that is mapped nowhere in @pid. */
uint64_t unmapped_in(pid_t pid, uint64_t len)
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
bool find_mapping(pid_t pid, const char *name, uint64_t *start,
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
bool smaps_header(const char *line, unsigned long long *start)
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

/* ---- file systems -------------------------------------------------------------------- */

bool fs_listed(const char *fs)
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

const char *new_mountpoint(const char *tag, char *dir, size_t len)
{
	snprintf(dir, len, "/run/ckpt-st-pages-%s.%d", tag, getpid());
	if (mkdir(dir, 0700) && errno != EEXIST)
		st_fail("mkdir %s: %s", dir, st_errname(errno));
	return dir;
}

/* A tmpfs with @opts, mounted and tracked. */
const char *mount_tmpfs(const char *tag, const char *opts, char *dir,
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

/* A tmpfs with huge=always (large folios in the page cache), or a plain
 * one where the kernel refuses that (with a diagnostic); tracked. */
const char *mount_huge(char *dir, size_t len)
{
	const char *d = mount_tmpfs("huge", "huge=always", dir, len);

	if (!d) {
		st_diag("tmpfs huge=always: %s; a plain tmpfs instead",
			st_errname(errno));
		d = mount_tmpfs("huge", "", dir, len);
		ST_CHECK(d != NULL, "mount tmpfs: %s", st_errname(errno));
	}
	return d;
}

/*
 * A small ext4 on a loop device, mounted and tracked, or NULL (with a
 * diagnostic) when this kernel has neither built in nor as modules (the
 * debug kernel).  A Debian kernel has both: there, failing to set it up
 * fails the test.
 */
const char *mount_ext4(char *dir, size_t len)
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

/*
 * An overlayfs (lower, upper and work directories on a new tmpfs) mounted
 * at @dir and tracked, its upper directory in @upper; or NULL (with a
 * diagnostic) when this kernel has no overlayfs, neither built in nor as a
 * module (the debug kernel).  A Debian kernel has it as a module: there,
 * failing to mount it fails the test.
 */
const char *mount_overlay(char *dir, size_t len, char *upper, size_t ulen)
{
	char base[256], path[512], opts[3 * PATH_MAX + 64];
	static const char *const sub[] = { "lower", "upper", "work", "merged" };
	struct utsname u;
	size_t i;

	ST_OK(uname(&u));
	snprintf(path, sizeof(path), "/lib/modules/%s/kernel/fs/overlayfs",
		 u.release);
	if (!fs_listed("overlay") && access(path, F_OK)) {
		st_diag("kernel %s has no overlayfs: the overlay file is left out",
			u.release);
		return NULL;
	}
	ST_CHECK(mount_tmpfs("ovl", "", base, sizeof(base)) != NULL,
		 "mount tmpfs: %s", st_errname(errno));
	for (i = 0; i < ARRAY_SIZE(sub); i++) {
		snprintf(path, sizeof(path), "%s/%s", base, sub[i]);
		ST_OK(mkdir(path, 0700));
	}
	snprintf(dir, len, "%s/merged", base);
	snprintf(upper, ulen, "%s/upper", base);
	snprintf(opts, sizeof(opts), "lowerdir=%s/lower,upperdir=%s,workdir=%s/work",
		 base, upper, base);
	if (!fs_listed("overlay") && system("modprobe overlay 2>/dev/null") != 0)
		st_diag("modprobe overlay failed: trying the mount anyway");
	if (mount("overlay", dir, "overlay", 0, opts))
		st_fail("mount -t overlay -o %s %s: %s", opts, dir, st_errname(errno));
	st_track_mount(dir);
	return dir;
}

/* SCAN with no room says ENOSPC when the session is there. */
void session_intact(int sfd)
{
	struct ckpt_scan s;

	EXPECT_ERR(ENOSPC, ckpt_ioc_scan(sfd, NULL, 0, &s), "SCAN, capacity 0");
	ST_CHECK(s.count >= 1, "SCAN count %u", s.count);
}

/* ---- a small call, the smoke test (and the fault-injection test) ---------------------- */

void check_pattern(int fd, uint64_t off, int role, size_t first,
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

pid_t small_target(uint64_t *p, uint64_t *hole, size_t npages)
{
	int base = __atomic_load_n(&st_shm->ready, __ATOMIC_SEQ_CST);
	pid_t pid = st_spawn(NULL, small_wl, (void *)(uintptr_t)npages);

	st_wait_ready(base + 1);
	*p = st_find_rep(R_PAGE, 0)->val;
	if (hole)
		*hole = st_find_rep(R_HOLE, 0)->val;
	return pid;
}

pid_t zombie_target(pid_t *root)
{
	int base = __atomic_load_n(&st_shm->ready, __ATOMIC_SEQ_CST);
	pid_t r = st_spawn(NULL, st_wl_zombie_root, NULL), z;

	st_wait_ready(base + 1);
	z = st_find_rep(1, 0)->aux;
	st_wait_state(z, 0, 'Z');
	if (root)
		*root = r;
	return z;
}

void pages_simple(void **state)
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

void pages_info(void **state)
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

void pages_bad_args(void **state)
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
 * the argument pointer; the wrong direction.  The module knows
 * CKPT_PAGES_SIZE_VER1 bytes: a nonzero @hash (bytes 32-39) is not E2BIG
 * but EINVAL (without CKPT_PAGES_XXH64), see pages_xxh64_bad_args. */
void pages_struct_size(void **state)
{
	static const unsigned int tails[] = { 8, 64, 4096 - CKPT_PAGES_SIZE_VER1 };
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
		size = CKPT_PAGES_SIZE_VER1 + tails[t];
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
		for (at = CKPT_PAGES_SIZE_VER1; at < size; at += 1 + (size - at) / 3) {
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
	a = st_guarded(CKPT_PAGES_SIZE_VER1);
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

void pages_bad_fd(void **state)
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
	track_pipe(pfd);
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

void pages_bad_target(void **state)
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
	z = zombie_target(&zroot);
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
void pages_self(void **state)
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

/* ---- permission ---------------------------------------------------------------------- */

static int perm_child(void *arg)
{
	struct perm *c = arg;
	struct ckpt_page_range r = { c->addr, PAGE };

	struct ckpt_pages a = { .flags = c->flags, .pid = c->target, .fd = c->fd,
				.count = 1, .ranges = (uintptr_t)&r,
				.offset = c->offset, .hash = c->hash };

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

/* The outcome of PAGES in a child as @c->uid with @c->caps: 0 or errno. */
int perm_result(struct perm *c)
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

void run_perm(struct perm *c, int want, const char *target)
{
	if (perm_result(c) != want)
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

void pages_unprivileged(void **state)
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

/*
 * Which check comes first where two rows of abi.md's errno table apply:
 * "the argument rules of the conventions first ...; then in this order":
 * flags/count/offset; the ranges, one by one (EFAULT unreadable, EINVAL
 * malformed or the running total above 1 GiB); offset + total; EBADF for the fd; EINVAL for
 * its kind; EPERM without the capability; ESRCH; EBADF for a pidfd;
 * EOPNOTSUPP; EPERM without ptrace access; EAGAIN; then the memory and
 * the file.  Every case runs, then every mismatch is reported at once.
 */
void pages_errno_order(void **state)
{
	struct ckpt_page_range r[1], bad[1], *g;
	uint64_t p, hole;
	pid_t pid = small_target(&p, &hole, 1), z;
	int dev = st_dev(), fd = tmp_file("/tmp"), pfd[2], dir, reg, bad_n = 0;
	struct perm c = { .dev = dev, .fd = fd, .uid = 65534, .addr = p };
	struct ckpt_pages a;
	char got[1024] = "";

#define CALL(...)	(ioc_pages(__VA_ARGS__) ? errno : 0)

	(void)state;
	z = zombie_target(NULL);
	track_pipe(pfd);
	dir = st_track_fd(ST_OK(open("/tmp", O_RDONLY | O_DIRECTORY)));
	reg = reopen(fd, O_RDONLY);
	r[0] = (struct ckpt_page_range){ hole + PAGE, PAGE };	/* not mapped */
	bad[0] = (struct ckpt_page_range){ p + 1, PAGE };	/* unaligned */

	/* flags, count, offset: before everything (1 << 2: the first flag
	 * no module knows). */
	a = (struct ckpt_pages){ .flags = 1U << 2, .pid = 0, .fd = ~0U, .count = 1,
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

void pages_pidfd(void **state)
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
	z = zombie_target(NULL);
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
	ST_TEST(pages_source_is_destination_ovl),
	ST_TEST(pages_parallel),
	ST_TEST(pages_fatal_signal),
	ST_TEST(pages_append_meanwhile),
	ST_TEST(pages_pidfd),
	ST_TEST(pages_userfaultfd),
	ST_TEST(pages_xxh64_info),
	ST_TEST(pages_xxh64_ranges),
	ST_TEST(pages_xxh64_chain),
	ST_TEST(pages_xxh64_running),
	ST_TEST(pages_xxh64_readback),
	ST_TEST(pages_xxh64_readback_ramfs),
	ST_TEST(pages_xxh64_bad_args),
	ST_TEST(pages_xxh64_errno_order),
};

const struct st_group st_group_pages = { "pages", tests, ARRAY_SIZE(tests) };
