// SPDX-License-Identifier: GPL-2.0
/*
 * st-input.c: argument checking of every command (group "input").
 *
 * Unknown commands, size versioning, flags and reserved fields, bad
 * pointers, buffer capacities, fds that are not cgroups or pidfds, pids
 * that do not exist, and commands that need a session without one.
 */
#include <cpuid.h>
#include <sys/mman.h>
#include <termios.h>
#include "st.h"

#define RW		(_IOC_READ | _IOC_WRITE)
#define KADDR		((void *)0xffff888000000000UL)

/* @base with another size. */
static const struct {
	unsigned long cmd;
	unsigned int ver0;
	unsigned int ksize;	/* the struct as this header defines it */
	const char *name;
} cmds[] = {
	{ CKPT_IOC_INFO, CKPT_INFO_SIZE_VER0, sizeof(struct ckpt_info), "INFO" },
	{ CKPT_IOC_BEGIN, CKPT_BEGIN_SIZE_VER0, sizeof(struct ckpt_begin), "BEGIN" },
	{ CKPT_IOC_END, CKPT_END_SIZE_VER0, sizeof(struct ckpt_end), "END" },
	{ CKPT_IOC_SCAN, CKPT_SCAN_SIZE_VER0, sizeof(struct ckpt_scan), "SCAN" },
	{ CKPT_IOC_REGS, CKPT_REGS_SIZE_VER0, sizeof(struct ckpt_regs), "REGS" },
	{ CKPT_IOC_SIGACTIONS, CKPT_SIGACTIONS_SIZE_VER0,
	  sizeof(struct ckpt_sigactions), "SIGACTIONS" },
	{ CKPT_IOC_THREAD, CKPT_THREAD_SIZE_VER0, sizeof(struct ckpt_thread),
	  "THREAD" },
};


static void *unmapped(void)
{
	void *p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		st_fail("mmap: %s", st_errname(errno));
	ST_OK(munmap(p, 4096));
	return p;
}

/* A frozen v2 tree (root + @nkids) with a session; returns the fd. */
static int session(pid_t *root, int nkids)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");

	*root = st_simple_tree(cg, nkids);
	return st_begin(cg, *root);
}

/* ---- INFO ------------------------------------------------------------------ */

static void input_info(void **state)
{
	unsigned int a, b, c, d, want = 0;
	struct ckpt_info info;
	int fd = st_dev();

	(void)state;
	memset(&info, 0xa5, sizeof(info));
	info.flags = 0;
	ST_OK(ioctl(fd, CKPT_IOC_INFO, &info));
	ST_EQ(info.flags, 0);
	ST_EQ(info.abi_version, CKPT_ABI_VERSION);
	ST_EQ(info.begin_flags, CKPT_BEGIN_FLAGS);
	ST_EQ(info.scan_flags, 0);
	ST_EQ(info.regs_flags, CKPT_REGS_FLAGS);
	ST_EQ(info.task_record_size, sizeof(struct ckpt_task));
	ST_EQ(info.task_record_size, CKPT_TASK_SIZE_VER0);
	/* The XSAVE size of the features enabled in XCR0, per the CPU. */
	__cpuid(1, a, b, c, d);
	if ((c & bit_XSAVE) && (c & bit_OSXSAVE)) {
		__cpuid_count(0xd, 0, a, b, c, d);
		want = b;
	}
	ST_EQ(info.xstate_size, want);
}

/* ---- unknown commands ------------------------------------------------------ */

static void input_enotty(void **state)
{
	static const unsigned long bad[] = {
		_IOC(RW, CKPT_IOC_MAGIC, 0x09, 40),	/* unknown nr */
		_IOC(RW, CKPT_IOC_MAGIC, 0x7f, 40),
		_IOC(RW, CKPT_IOC_MAGIC, 0xff, 40),
		_IOC(RW, CKPT_IOC_MAGIC + 1, 0x00, 40),	/* wrong type */
		_IOC(RW, CKPT_IOC_MAGIC - 1, 0x03, 32),
		_IOC(RW, 'f', 0x00, 40),
		_IOC(_IOC_WRITE, CKPT_IOC_MAGIC, 0x00, 40),	/* INFO, wrong dir */
		_IOC(_IOC_READ, CKPT_IOC_MAGIC, 0x00, 40),
		_IOC(_IOC_NONE, CKPT_IOC_MAGIC, 0x00, 0),
		_IOC(RW, CKPT_IOC_MAGIC, 0x01, 16),		/* BEGIN as IOWR */
		_IOC(_IOC_READ, CKPT_IOC_MAGIC, 0x02, 8),	/* END as IOR */
		_IOC(_IOC_WRITE, CKPT_IOC_MAGIC, 0x03, 32),	/* SCAN as IOW */
		_IOC(_IOC_WRITE, CKPT_IOC_MAGIC, 0x04, 240),	/* REGS as IOW */
		_IOC(_IOC_NONE, CKPT_IOC_MAGIC, 0x04, 0),
		_IOC(_IOC_WRITE, CKPT_IOC_MAGIC, 0x05, 24),	/* SIGACTIONS as IOW */
		_IOC(_IOC_READ, CKPT_IOC_MAGIC, 0x06, 128),	/* THREAD as IOR */
		_IOC(_IOC_WRITE, CKPT_IOC_MAGIC, 0x07, 40),	/* VMAS as IOW */
		_IOC(RW, CKPT_IOC_MAGIC, 0x08, 32),		/* PAGES as IOWR */
		_IOC(_IOC_READ, CKPT_IOC_MAGIC, 0x08, 32),	/* PAGES as IOR */
		TCGETS,
	};
	char buf[512];
	size_t i;
	int fd = st_dev();

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(buf, 0, sizeof(buf));
		errno = 0;
		if (ioctl(fd, bad[i], buf) != -1 || errno != ENOTTY)
			st_fail("command %#lx: expected ENOTTY, got %s", bad[i],
				errno ? st_errname(errno) : "success");
	}
}

/* ---- size versioning -------------------------------------------------------- */

static void input_size_too_small(void **state)
{
	char buf[512];
	size_t i;
	unsigned int sz[3];
	int j, fd = st_dev();

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		sz[0] = 0;
		sz[1] = cmds[i].ver0 / 2;
		sz[2] = cmds[i].ver0 - 1;
		for (j = 0; j < 3; j++) {
			memset(buf, 0, sizeof(buf));
			errno = 0;
			if (ioctl(fd, st_ioc_sized(cmds[i].cmd, sz[j]), buf) != -1 ||
			    errno != EINVAL)
				st_fail("%s with size %u: expected EINVAL, got %s",
					cmds[i].name, sz[j],
					errno ? st_errname(errno) : "success");
		}
	}
}

/* A struct bigger than the module knows, with a zero tail, works. */
static void input_size_bigger_zero_tail(void **state)
{
	union {
		char raw[16384];
		struct ckpt_info info;
		struct ckpt_begin begin;
		struct ckpt_end end;
		struct ckpt_scan scan;
		struct ckpt_regs regs;
	} *u = calloc(1, sizeof(*u));
	struct ckpt_task recs[8];
	struct ckpt_cg *cg;
	pid_t root;
	int fd, cgfd;
	size_t k;

	(void)state;
	ST_CHECK(u != NULL);
	fd = st_dev();
	/* INFO, a little and a lot bigger (the largest size a command holds). */
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_INFO, sizeof(struct ckpt_info) + 8), u));
	ST_EQ(u->info.abi_version, CKPT_ABI_VERSION);
	for (k = sizeof(struct ckpt_info); k < sizeof(struct ckpt_info) + 8; k++)
		ST_EQ(u->raw[k], 0);
	memset(u, 0, sizeof(*u));
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_INFO, _IOC_SIZEMASK), u));
	ST_EQ(u->info.task_record_size, CKPT_TASK_SIZE_VER0);

	cg = st_cg_new(false, "c");
	root = st_simple_tree(cg, 3);
	cgfd = st_cg_fd(cg);

	memset(u, 0, sizeof(*u));
	u->begin.cgroup_fd = cgfd;
	u->begin.root = root;
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_BEGIN, CKPT_BEGIN_SIZE_VER0 + 16), u));

	memset(u, 0, sizeof(*u));
	u->scan.capacity = ARRAY_SIZE(recs);
	u->scan.records = (uintptr_t)recs;
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_SCAN, CKPT_SCAN_SIZE_VER0 + 32), u));
	ST_EQ(u->scan.count, 4);
	ST_EQ(recs[0].vpid, root);

	memset(u, 0, sizeof(*u));
	u->regs.flags = CKPT_REGS_GP;
	u->regs.tid = root;
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_REGS, CKPT_REGS_SIZE_VER0 + 64), u));
	ST_CHECK(u->regs.gp.ip != 0, "no registers");
	ST_EQ(u->regs.gp.cs, 0x33);

	memset(u, 0, sizeof(*u));
	ST_OK(ioctl(fd, st_ioc_sized(CKPT_IOC_END, CKPT_END_SIZE_VER0 + 8), u));
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
	free(u);
}

/* A bigger struct with a nonzero byte beyond what the module knows: E2BIG. */
static void input_size_bigger_nonzero_tail(void **state)
{
	static const unsigned int tails[] = { 8, 64, 4096 };
	char *buf = calloc(1, 16384);
	struct ckpt_task recs[8];
	struct ckpt_begin *b = (void *)buf;
	struct ckpt_scan *s = (void *)buf;
	struct ckpt_regs *r = (void *)buf;
	unsigned int t, at, size;
	struct ckpt_cg *cg;
	size_t i;
	pid_t root;
	int fd, cgfd;

	(void)state;
	ST_CHECK(buf != NULL);
	fd = st_dev();
	cg = st_cg_new(false, "c");
	root = st_simple_tree(cg, 1);
	cgfd = st_cg_fd(cg);

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (t = 0; t < ARRAY_SIZE(tails); t++) {
			size = cmds[i].ksize + tails[t];
			for (at = cmds[i].ksize; at < size; at += size - 1 - cmds[i].ksize) {
				memset(buf, 0, 16384);
				/* Otherwise valid arguments. */
				if (cmds[i].cmd == CKPT_IOC_BEGIN) {
					b->cgroup_fd = cgfd;
					b->root = root;
				} else if (cmds[i].cmd == CKPT_IOC_SCAN) {
					s->capacity = ARRAY_SIZE(recs);
					s->records = (uintptr_t)recs;
				} else if (cmds[i].cmd == CKPT_IOC_REGS) {
					r->flags = CKPT_REGS_GP;
					r->tid = root;
				}
				buf[at] = 1;
				errno = 0;
				if (ioctl(fd, st_ioc_sized(cmds[i].cmd, size), buf) != -1 ||
				    errno != E2BIG)
					st_fail("%s size %u, byte %u set: expected E2BIG, got %s",
						cmds[i].name, size, at,
						errno ? st_errname(errno) : "success");
				if (at == size - 1)
					break;
			}
		}
		/* BEGIN was refused: no session.  Start one for the rest. */
		if (cmds[i].cmd == CKPT_IOC_BEGIN) {
			ST_ERR(ckpt_ioc_end(fd), ENOENT);
			ST_OK(ckpt_ioc_begin(fd, cgfd, root, 0));
		}
	}
	/* END was refused: the session is still there. */
	ST_OK(ckpt_ioc_scan(fd, recs, ARRAY_SIZE(recs), NULL));
	ST_OK(ckpt_ioc_end(fd));
	free(buf);
}

/* ---- flags and reserved fields ------------------------------------------------ */

static void input_unknown_flags(void **state)
{
	static const uint32_t bad_begin[] = { 2, 4, 0x80000000, ~0U };
	static const uint32_t bad_other[] = { 1, 2, 0x80000000, ~0U };
	static const uint32_t bad_regs[] = { 0, 4, 8, CKPT_REGS_GP | 4,
					     0x80000000, ~0U };
	struct ckpt_task recs[8];
	struct ckpt_info info;
	struct ckpt_begin b;
	struct ckpt_end e;
	struct ckpt_scan s;
	struct ckpt_regs r;
	struct ckpt_cg *cg;
	pid_t root;
	size_t i;
	int fd, cgfd;

	(void)state;
	fd = st_dev();
	cg = st_cg_new(false, "c");
	root = st_simple_tree(cg, 1);
	cgfd = st_cg_fd(cg);

	for (i = 0; i < ARRAY_SIZE(bad_other); i++) {
		memset(&info, 0, sizeof(info));
		info.flags = bad_other[i];
		ST_ERR(ioctl(fd, CKPT_IOC_INFO, &info), EINVAL);
	}
	for (i = 0; i < ARRAY_SIZE(bad_begin); i++) {
		b = (struct ckpt_begin){ .flags = bad_begin[i],
					 .cgroup_fd = cgfd, .root = root };
		ST_ERR(ioctl(fd, CKPT_IOC_BEGIN, &b), EINVAL);
	}
	/* EINVAL comes first: even without CAP_* or a valid cgroup. */
	b = (struct ckpt_begin){ .flags = 2, .cgroup_fd = ~0U, .root = 0 };
	ST_ERR(ioctl(fd, CKPT_IOC_BEGIN, &b), EINVAL);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);	/* no session came of it */

	ST_OK(ckpt_ioc_begin(fd, cgfd, root, 0));
	for (i = 0; i < ARRAY_SIZE(bad_other); i++) {
		e = (struct ckpt_end){ .flags = bad_other[i] };
		ST_ERR(ioctl(fd, CKPT_IOC_END, &e), EINVAL);
		s = (struct ckpt_scan){ .flags = bad_other[i],
					.capacity = ARRAY_SIZE(recs),
					.records = (uintptr_t)recs };
		ST_ERR(ioctl(fd, CKPT_IOC_SCAN, &s), EINVAL);
	}
	for (i = 0; i < ARRAY_SIZE(bad_regs); i++) {
		memset(&r, 0, sizeof(r));
		r.flags = bad_regs[i];
		r.tid = root;
		ST_ERR(ioctl(fd, CKPT_IOC_REGS, &r), EINVAL);
	}
	/* The refused END did not end the session. */
	ST_OK(ckpt_ioc_scan(fd, recs, ARRAY_SIZE(recs), NULL));
	ST_OK(ckpt_ioc_end(fd));
}

static void input_reserved_nonzero(void **state)
{
	static const uint32_t vals[] = { 1, 0x80000000, ~0U };
	struct ckpt_task recs[8];
	struct ckpt_begin b;
	struct ckpt_end e;
	struct ckpt_scan s;
	struct ckpt_regs r;
	struct ckpt_cg *cg;
	pid_t root;
	size_t i;
	int fd, cgfd;

	(void)state;
	fd = st_dev();
	cg = st_cg_new(false, "c");
	root = st_simple_tree(cg, 1);
	cgfd = st_cg_fd(cg);

	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		b = (struct ckpt_begin){ .cgroup_fd = cgfd, .root = root,
					 .reserved = vals[i] };
		ST_ERR(ioctl(fd, CKPT_IOC_BEGIN, &b), EINVAL);
	}
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
	ST_OK(ckpt_ioc_begin(fd, cgfd, root, 0));
	for (i = 0; i < ARRAY_SIZE(vals); i++) {
		e = (struct ckpt_end){ .reserved = vals[i] };
		ST_ERR(ioctl(fd, CKPT_IOC_END, &e), EINVAL);
		s = (struct ckpt_scan){ .capacity = ARRAY_SIZE(recs),
					.records = (uintptr_t)recs,
					.reserved = vals[i] };
		ST_ERR(ioctl(fd, CKPT_IOC_SCAN, &s), EINVAL);
		memset(&r, 0, sizeof(r));
		r.flags = CKPT_REGS_GP;
		r.tid = root;
		r.reserved = vals[i];
		ST_ERR(ioctl(fd, CKPT_IOC_REGS, &r), EINVAL);
	}
	ST_OK(ckpt_ioc_scan(fd, recs, ARRAY_SIZE(recs), NULL));
	ST_OK(ckpt_ioc_end(fd));
}

/* ---- bad pointers --------------------------------------------------------------- */

static void input_bad_arg_pointer(void **state)
{
	size_t i;
	void *ptrs[4], *ro;
	const char *what[] = { "NULL", "unmapped", "kernel", "straddling" };
	int j, fd = st_dev();

	(void)state;
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(ro != MAP_FAILED);
	ptrs[0] = NULL;
	ptrs[1] = unmapped();
	ptrs[2] = KADDR;
	ptrs[3] = st_guarded(4);	/* 4 bytes, then a guard page */
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < 4; j++) {
			errno = 0;
			if (ioctl(fd, cmds[i].cmd, ptrs[j]) != -1 || errno != EFAULT)
				st_fail("%s with a %s pointer: expected EFAULT, got %s",
					cmds[i].name, what[j],
					errno ? st_errname(errno) : "success");
		}
	}
	/* INFO into read-only memory: read works, the copy back does not. */
	ST_ERR(ioctl(fd, CKPT_IOC_INFO, ro), EFAULT);
	munmap(ro, 4096);
}

static void input_scan_bad_records(void **state)
{
	struct ckpt_task *ro, *part;
	struct ckpt_scan s;
	pid_t root;
	int fd = session(&root, 4);	/* 5 records */

	(void)state;
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ST_CHECK(ro != MAP_FAILED);
	ST_ERR(ckpt_ioc_scan(fd, NULL, 5, &s), EFAULT);
	ST_ERR(ckpt_ioc_scan(fd, NULL, 100, &s), EFAULT);
	ST_ERR(ckpt_ioc_scan(fd, ro, 5, &s), EFAULT);
	ST_ERR(ckpt_ioc_scan(fd, unmapped(), 5, &s), EFAULT);
	ST_ERR(ckpt_ioc_scan(fd, KADDR, 5, &s), EFAULT);
	/* Room for 4 records, then a guard page; capacity claims 5. */
	part = st_guarded(4 * sizeof(*part));
	ST_ERR(ckpt_ioc_scan(fd, part, 5, &s), EFAULT);
	/* The session is fine afterwards. */
	free(st_scan_check(fd, root, NULL));
	munmap(ro, 4096);
}

static void input_scan_capacity(void **state)
{
	struct ckpt_task *exact, buf[8];
	struct ckpt_scan s;
	pid_t root;
	int fd = session(&root, 5);	/* 6 records */
	size_t i;

	(void)state;
	/* capacity 0 sizes the buffer, with or without one. */
	memset(&s, 0xa5, sizeof(s));
	ST_ERR(ckpt_ioc_scan(fd, NULL, 0, &s), ENOSPC);
	ST_EQ(s.count, 6);
	ST_ERR(ckpt_ioc_scan(fd, buf, 0, &s), ENOSPC);
	ST_EQ(s.count, 6);
	/* One short: ENOSPC, the buffer untouched. */
	memset(buf, 0xa5, sizeof(buf));
	ST_ERR(ckpt_ioc_scan(fd, buf, 5, &s), ENOSPC);
	ST_EQ(s.count, 6);
	for (i = 0; i < sizeof(buf); i++)
		ST_EQ(((unsigned char *)buf)[i], 0xa5);
	/* Exactly enough. */
	ST_OK(ckpt_ioc_scan(fd, buf, 6, &s));
	ST_EQ(s.count, 6);
	/* A huge capacity: only the records that exist are written. */
	exact = st_guarded(6 * sizeof(*exact));
	ST_OK(ckpt_ioc_scan(fd, exact, 0xffffffffU, &s));
	ST_EQ(s.count, 6);
	ST_EQ(memcmp(exact, buf, 6 * sizeof(*exact)), 0);
	ST_OK(ckpt_ioc_scan(fd, exact, 0x7fffffffU, &s));
	ST_EQ(s.count, 6);
}

/* ---- fds that are not what BEGIN wants ---------------------------------------------- */

static void input_begin_not_a_cgroup(void **state)
{
	char tmpl[] = "/tmp/ckpt-st.XXXXXX", path[PATH_MAX];
	struct ckpt_cg *cg, *cg1;
	int fd, bad[12], n = 0, i, closed;
	pid_t root;

	(void)state;
	fd = st_dev();
	cg = st_cg_new(false, "c");
	cg1 = st_cg_new(true, "c");
	root = st_simple_tree(cg, 1);

	bad[n] = st_track_fd(ST_OK(mkstemp(tmpl)));	/* a regular file */
	unlink(tmpl);
	n++;
	bad[n++] = st_track_fd(ST_OK(open("/tmp", O_RDONLY | O_DIRECTORY)));
	bad[n++] = st_track_fd(ST_OK(open("/dev/null", O_RDONLY)));
	ST_OK(ckpt_cg_file(cg, "cgroup.procs", path, sizeof(path)));
	bad[n++] = st_track_fd(ST_OK(open(path, O_RDONLY)));
	bad[n++] = st_track_fd(ST_OK(open(path, O_PATH)));
	ST_OK(ckpt_cg_file(cg, "cgroup.freeze", path, sizeof(path)));
	bad[n++] = st_track_fd(ST_OK(open(path, O_RDONLY)));
	ST_OK(ckpt_cg_file(cg1, "freezer.state", path, sizeof(path)));
	bad[n++] = st_track_fd(ST_OK(open(path, O_RDONLY)));
	ST_OK(ckpt_cg_file(cg1, "tasks", path, sizeof(path)));
	bad[n++] = st_track_fd(ST_OK(open(path, O_RDONLY)));
	bad[n++] = st_track_fd(ST_OK(ckpt_pidfd_open(root, 0)));
	bad[n++] = fd;					/* /dev/ckpt itself */
	closed = ST_OK(dup(fd));
	ST_OK(close(closed));
	bad[n++] = closed;				/* not open */
	bad[n++] = -1;

	for (i = 0; i < n; i++) {
		errno = 0;
		if (ckpt_ioc_begin(fd, bad[i], root, 0) != -1 || errno != EBADF)
			st_fail("cgroup_fd %d (#%d): expected EBADF, got %s",
				bad[i], i, errno ? st_errname(errno) : "success");
	}
	/* INT_MAX + 1 and up are not fds either. */
	ST_ERR(ckpt_ioc_begin(fd, (int)0x80000000U, root, 0), EBADF);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
}

static void input_begin_no_such_root(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	int fd, cgfd;

	(void)state;
	st_simple_tree(cg, 1);
	fd = st_dev();
	cgfd = st_cg_fd(cg);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, st_reaped_pid(), 0), ESRCH);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, 0, 0), ESRCH);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, INT_MAX, 0), ESRCH);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, (int)0x80000000U, 0), ESRCH);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, -1, 0), ESRCH);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
}

static void input_begin_pidfd_not_a_pidfd(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	int fd, cgfd, devnull, closed;
	pid_t root;

	(void)state;
	root = st_simple_tree(cg, 1);
	fd = st_dev();
	cgfd = st_cg_fd(cg);
	devnull = st_track_fd(ST_OK(open("/dev/null", O_RDONLY)));
	closed = ST_OK(dup(devnull));
	ST_OK(close(closed));
	ST_ERR(ckpt_ioc_begin(fd, cgfd, devnull, CKPT_BEGIN_ROOT_PIDFD), EBADF);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, cgfd, CKPT_BEGIN_ROOT_PIDFD), EBADF);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, fd, CKPT_BEGIN_ROOT_PIDFD), EBADF);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, closed, CKPT_BEGIN_ROOT_PIDFD), EBADF);
	ST_ERR(ckpt_ioc_begin(fd, cgfd, -1, CKPT_BEGIN_ROOT_PIDFD), EBADF);
	/* The root's pid number as if it were an fd: not a pidfd. */
	if (root > 2 && fcntl(root, F_GETFD) < 0)
		ST_ERR(ckpt_ioc_begin(fd, cgfd, root, CKPT_BEGIN_ROOT_PIDFD),
		       EBADF);
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
}

/* ---- commands that need a session ------------------------------------------------------ */

static void input_no_session(void **state)
{
	struct ckpt_task recs[4];
	struct ckpt_regs r;
	struct ckpt_scan s;
	pid_t root;
	int fd = st_dev(), fd2;

	(void)state;
	ST_ERR(ckpt_ioc_end(fd), ENOENT);
	ST_ERR(ckpt_ioc_scan(fd, recs, 4, &s), ENOENT);
	ST_ERR(ckpt_ioc_scan(fd, NULL, 0, &s), ENOENT);
	ST_ERR(ckpt_ioc_regs(fd, getpid(), CKPT_REGS_GP, NULL, 0, &r), ENOENT);
	/* Another file's session does not count, nor an ended one. */
	fd2 = session(&root, 1);
	ST_ERR(ckpt_ioc_scan(fd, recs, 4, &s), ENOENT);
	ST_ERR(ckpt_ioc_regs(fd, root, CKPT_REGS_GP, NULL, 0, &r), ENOENT);
	ST_OK(ckpt_ioc_end(fd2));
	ST_ERR(ckpt_ioc_scan(fd2, recs, 4, &s), ENOENT);
	ST_ERR(ckpt_ioc_regs(fd2, root, CKPT_REGS_GP, NULL, 0, &r), ENOENT);
	ST_ERR(ckpt_ioc_end(fd2), ENOENT);
}

static void input_regs_no_such_thread(void **state)
{
	struct ckpt_regs r;
	pid_t root;
	int fd = session(&root, 1);

	(void)state;
	ST_ERR(ckpt_ioc_regs(fd, st_reaped_pid(), CKPT_REGS_GP, NULL, 0, &r), ESRCH);
	ST_ERR(ckpt_ioc_regs(fd, 0, CKPT_REGS_GP, NULL, 0, &r), ESRCH);
	ST_ERR(ckpt_ioc_regs(fd, (pid_t)0x80000000U, CKPT_REGS_GP, NULL, 0, &r),
	       ESRCH);
	ST_ERR(ckpt_ioc_regs(fd, -1, CKPT_REGS_GP, NULL, 0, &r), ESRCH);
}

static void input_regs_bad_xstate(void **state)
{
	struct ckpt_info info;
	struct ckpt_regs r;
	void *ro;
	pid_t root;
	int fd = session(&root, 1);

	(void)state;
	ST_OK(ckpt_ioc_info(fd, &info));
	if (!info.xstate_size) {
		ST_ERR(ckpt_ioc_regs(fd, root, CKPT_REGS_XSTATE, NULL, 0, &r),
		       EOPNOTSUPP);
		return;
	}
	ro = mmap(NULL, info.xstate_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	ST_CHECK(ro != MAP_FAILED);
	ST_ERR(ckpt_ioc_regs(fd, root, CKPT_REGS_XSTATE, NULL,
			     info.xstate_size, &r), EFAULT);
	ST_ERR(ckpt_ioc_regs(fd, root, CKPT_REGS_XSTATE, ro,
			     info.xstate_size, &r), EFAULT);
	ST_ERR(ckpt_ioc_regs(fd, root, CKPT_REGS_XSTATE, unmapped(),
			     info.xstate_size, &r), EFAULT);
	ST_ERR(ckpt_ioc_regs(fd, root, CKPT_REGS_XSTATE, KADDR,
			     info.xstate_size, &r), EFAULT);
	ST_ERR(ckpt_ioc_regs(fd, root, CKPT_REGS_XSTATE,
			     st_guarded(info.xstate_size - 64), info.xstate_size,
			     &r), EFAULT);
	/* And with a good buffer it works. */
	ST_OK(ckpt_ioc_regs(fd, root, CKPT_REGS_XSTATE | CKPT_REGS_GP,
			    st_guarded(info.xstate_size), info.xstate_size, &r));
	ST_EQ(r.xstate_size, info.xstate_size);
	munmap(ro, info.xstate_size);
}

static const struct CMUnitTest tests[] = {
	ST_TEST(input_info),
	ST_TEST(input_enotty),
	ST_TEST(input_size_too_small),
	ST_TEST(input_size_bigger_zero_tail),
	ST_TEST(input_size_bigger_nonzero_tail),
	ST_TEST(input_unknown_flags),
	ST_TEST(input_reserved_nonzero),
	ST_TEST(input_bad_arg_pointer),
	ST_TEST(input_scan_bad_records),
	ST_TEST(input_scan_capacity),
	ST_TEST(input_begin_not_a_cgroup),
	ST_TEST(input_begin_no_such_root),
	ST_TEST(input_begin_pidfd_not_a_pidfd),
	ST_TEST(input_no_session),
	ST_TEST(input_regs_no_such_thread),
	ST_TEST(input_regs_bad_xstate),
};

const struct st_group st_group_input = { "input", tests, ARRAY_SIZE(tests) };
