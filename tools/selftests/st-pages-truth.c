// SPDX-License-Identifier: GPL-2.0
/*
 * st-pages-truth.c: CKPT_IOC_PAGES (group "pages"): what the files hold.
 *
 * The truth workload fills mappings of every kind with a known pattern;
 * several ranges of it, in no address order and one twice, go into files
 * in one call, which must then equal /proc/PID/mem (and process_vm_readv),
 * itself equal to the pattern: on tmpfs (pre-filled around the range),
 * huge tmpfs and ext4 on a loop device, with the target running or frozen
 * in a session (see st-pages.c).  Also: never-touched memory, file-system
 * errors as pwrite returns them, and a source that maps the destination
 * (on tmpfs, and through overlayfs).
 */
#include <sys/uio.h>
#include "st-pages.h"

/* ---- the truth workload (forked children: WL_CHECK, no cmocka) ---------------------- */

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

/* ---- runner helpers --------------------------------------------------------------- */

/* @len bytes of @pid at @addr through /proc/PID/mem (FOLL_FORCE). */
uint8_t *proc_mem(pid_t pid, uint64_t addr, size_t len)
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

/* ---- the truth test ------------------------------------------------------------------ */

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

pid_t truth_target(const struct ckpt_cg *cg, void *arg, struct layout *l)
{
	int base = __atomic_load_n(&st_shm->ready, __ATOMIC_SEQ_CST);
	pid_t pid = st_spawn(cg, truth_wl, arg);

	st_wait_ready(base + 2);
	get_layout(pid, l);
	return pid;
}

void truth_ranges(const struct layout *l, struct prange *r)
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
int prefilled(const char *dir, uint64_t len)
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

uint64_t truth_total(const struct layout *l)
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
	d = mount_huge(hdir, sizeof(hdir));
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
void pages_truth_running(void **state)
{
	struct layout l;
	pid_t pid;
	int dev;

	(void)state;
	ST_EQ(sysconf(_SC_PAGESIZE), PAGE);
	pid = truth_target(NULL, (void *)1, &l);
	thp_diag(pid, l.thp);
	dev = st_dev();
	truth_all_files(dev, dev, &l);
	/* It kept running all along. */
	ST_CHECK(st_state(pid, 0) != 'Z');
}

/* A frozen target in a session: on the session's file and another. */
static void pages_truth_frozen(bool v1)
{
	struct ckpt_cg *cg = st_cg_new(v1, "c");
	struct layout l;
	pid_t pid;
	int sfd;

	pid = truth_target(cg, NULL, &l);
	st_freeze(cg);
	sfd = st_begin(cg, pid);
	truth_all_files(sfd, st_dev(), &l);
	/* The session is intact. */
	session_intact(sfd);
	ST_OK(ckpt_ioc_end(sfd));
}

void pages_truth_frozen_v2(void **state)
{
	(void)state;
	pages_truth_frozen(false);
}

void pages_truth_frozen_v1(void **state)
{
	(void)state;
	pages_truth_frozen(true);
}

/* ---- never-touched memory ------------------------------------------------------------ */

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
void pages_untouched(void **state)
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

/* ---- file-system errors: as pwrite returns them ---------------------------------------- */

void pages_enospc(void **state)
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
void pages_fs_errors(void **state)
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
void pages_source_is_destination(void **state)
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

/* ---- the same through overlayfs ---------------------------------------------------------- */

#define OVL_PAGES	8
#define OVL_MAPS	3

/* The file on the overlay and, the same file, in the upper directory. */
struct ovl_paths {
	char merged[PATH_MAX + 16], upper[PATH_MAX + 16];
};

/*
 * Maps the file OVL_PAGES pages long three times, every page faulted by a
 * read: through the overlay shared and writable (R_PAGE 0) and private and
 * read-only (R_PAGE 1), and the upper file shared (R_PAGE 2).  All three
 * map the upper file's page cache: overlayfs maps the real file.
 */
static void ovl_file_wl(void *arg)
{
	const struct ovl_paths *p = arg;
	volatile uint8_t sink;
	uint8_t *m[OVL_MAPS];
	size_t i, j;
	int fd;

	fd = open(p->merged, O_RDWR | O_CLOEXEC);
	WL_CHECK(fd >= 0);
	m[0] = wl_map(OVL_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	m[1] = wl_map(OVL_PAGES * PAGE, PROT_READ, MAP_PRIVATE, fd);
	close(fd);
	fd = open(p->upper, O_RDWR | O_CLOEXEC);
	WL_CHECK(fd >= 0);
	m[2] = wl_map(OVL_PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd);
	close(fd);
	for (i = 0; i < OVL_MAPS; i++) {
		for (j = 0; j < OVL_PAGES; j++)
			sink = m[i][j * PAGE];
		st_report(R_PAGE, (int)i, 0, (uintptr_t)m[i]);
	}
	(void)sink;
	st_ready();
	st_idle();
}

/* The page frame at @addr of @pid (/proc/PID/pagemap; root sees it), 0
 * when not present. */
static uint64_t pfn_at(pid_t pid, uint64_t addr)
{
	char path[64];
	uint64_t e;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	fd = ST_OK(open(path, O_RDONLY | O_CLOEXEC));
	ST_EQ(pread(fd, &e, sizeof(e), (off_t)(addr / PAGE * sizeof(e))),
	      (ssize_t)sizeof(e));
	close(fd);
	return e >> 63 ? e & ((1ULL << 55) - 1) : 0;
}

/*
 * pages_source_is_destination through overlayfs.  A mapping of an overlay
 * file maps the upper (real) file's pages, and a write through the
 * overlay file lands in that same page cache, while the overlay file's
 * own f_mapping stays empty: the module must see the upper file's pages as
 * the output file's.  The target maps the file through the overlay shared,
 * through the overlay private and read-only (still the page-cache pages:
 * nothing was written to them) and directly from the upper directory
 * shared; each is refused (EINVAL) into an O_RDWR fd of the overlay file
 * and into one of the upper file, the file unchanged.  Every failing call
 * is reported, not only the first.  Another file on the same overlay is
 * an ordinary destination.
 */
void pages_source_is_destination_ovl(void **state)
{
	static const char *const mapname[OVL_MAPS] = {
		"overlay file mapped shared",
		"overlay file mapped private read-only",
		"upper file mapped shared",
	};
	static const struct {
		uint64_t first, npages, at;	/* source pages, file offset (pages) */
		const char *what;
	} call[] = {
		{ 0, 4, 4, "pages 0-3 into 4-7" },
		{ 0, 6, 1, "pages 0-5 onto 1-6" },
		{ 2, 1, 2, "page 2 onto itself" },
	};
	char dir[PATH_MAX], upper[PATH_MAX], other[PATH_MAX + 16], got[4096] = "";
	struct ovl_paths p;
	struct ckpt_page_range r[1];
	uint8_t *buf = malloc(OVL_PAGES * PAGE);
	uint64_t m[OVL_MAPS], pfn;
	int dev = st_dev(), fd, ufd, ofd, out[2], bad_n = 0, ncalls = 0, e;
	size_t i, j, k;
	pid_t pid;

	(void)state;
	ST_CHECK(buf != NULL);
	if (!mount_overlay(dir, sizeof(dir), upper, sizeof(upper)))
		goto out;
	snprintf(p.merged, sizeof(p.merged), "%s/image", dir);
	snprintf(p.upper, sizeof(p.upper), "%s/image", upper);
	/* Created through the overlay: the file is in the upper directory. */
	fd = st_track_fd(ST_OK(open(p.merged, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)));
	fill(buf, R_PAGE, 0, 4);
	fill(buf + 4 * PAGE, R_PAGE, 0, 4);	/* pages 4-7 = pages 0-3 */
	ST_EQ(pwrite(fd, buf, OVL_PAGES * PAGE, 0), (ssize_t)(OVL_PAGES * PAGE));
	ufd = st_track_fd(ST_OK(open(p.upper, O_RDWR | O_CLOEXEC)));
	pid = st_spawn(NULL, ovl_file_wl, &p);
	st_wait_ready(1);
	for (i = 0; i < OVL_MAPS; i++)
		m[i] = st_find_rep(R_PAGE, (int)i)->val;
	/* The premise: the three mappings are the same pages. */
	for (j = 0; j < OVL_PAGES; j++) {
		pfn = pfn_at(pid, m[0] + j * PAGE);
		ST_CHECK(pfn != 0, "page %zu of the shared overlay mapping not present", j);
		for (i = 1; i < OVL_MAPS; i++)
			if (pfn_at(pid, m[i] + j * PAGE) != pfn)
				st_fail("page %zu: the %s is not the page of the %s (pfn %#llx)",
					j, mapname[i], mapname[0], (unsigned long long)pfn);
	}
	out[0] = fd;
	out[1] = ufd;
	for (k = 0; k < 2; k++)
		for (i = 0; i < OVL_MAPS; i++)
			for (j = 0; j < ARRAY_SIZE(call); j++) {
				r[0] = (struct ckpt_page_range){
					m[i] + call[j].first * PAGE, call[j].npages * PAGE };
				e = ioc_pages(dev, pid, out[k], r, 1, call[j].at * PAGE) ? errno : 0;
				ncalls++;
				ORDER(EINVAL, e, "%s, %s, into the %s file", mapname[i],
				      call[j].what, k ? "upper" : "overlay");
			}
	if (bad_n)
		st_fail("%d of %d calls not refused: %s", bad_n, ncalls, got);
	check_pattern(fd, 0, R_PAGE, 0, 4, "after the refusals");
	check_pattern(fd, 4 * PAGE, R_PAGE, 0, 4, "after the refusals");
	check_pattern(ufd, 0, R_PAGE, 0, 4, "the upper file after the refusals");
	/* Another file on the same overlay is an ordinary destination. */
	snprintf(other, sizeof(other), "%s/other", dir);
	ofd = st_track_fd(ST_OK(open(other, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)));
	for (i = 0; i < OVL_MAPS; i++) {
		r[0] = (struct ckpt_page_range){ m[i], OVL_PAGES * PAGE };
		EXPECT_OK(ioc_pages(dev, pid, ofd, r, 1, i * OVL_PAGES * PAGE),
			  "the %s into another overlay file", mapname[i]);
		check_pattern(ofd, i * OVL_PAGES * PAGE, R_PAGE, 0, 4, mapname[i]);
		check_pattern(ofd, (i * OVL_PAGES + 4) * PAGE, R_PAGE, 0, 4, mapname[i]);
	}
out:
	free(buf);
}
