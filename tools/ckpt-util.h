/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ckpt-util.h: small header-only helpers for programs that drive /dev/ckpt.
 *
 *   - /dev/ckpt: open it, thin wrappers for every ioctl, a sizing scan;
 *   - cgroups: make a child cgroup (v2, or a v1 freezer hierarchy), move a
 *     task in, freeze and wait until frozen, thaw, kill, remove;
 *   - /proc: the fields of /proc/PID/stat, the threads of a process, the
 *     children of a thread, the NSpid line of a task.
 *
 * Conventions: like system calls, every function returns 0 (or a count, a
 * size, an fd) on success and -1 with errno set on failure.  Nothing here
 * prints, exits or keeps global state, so any tool can include it.  Arrays
 * a function returns are malloc()ed; the caller frees them.
 *
 * Freezing waits for the end of the transition:
 *   v2  writes 1 to cgroup.freeze, then poll()s cgroup.events until it
 *       reads "frozen 1";
 *   v1  writes FROZEN to freezer.state and re-reads it until it says
 *       FROZEN.  The v1 freezer only records FROZEN when the file is read,
 *       and 6.1's sometimes stalls in FREEZING until FROZEN is written
 *       again, so the wait re-asserts FROZEN each round (as CRIU does).
 */
#ifndef CKPT_UTIL_H
#define CKPT_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <linux/ckpt.h>

#define CKPT_DEV_PATH		"/dev/" CKPT_DEVICE_NAME
#define CKPT_CGROUP2_DEFAULT	"/sys/fs/cgroup"	/* env CKPT_CGROUP2 */
#define CKPT_FREEZER_DEFAULT	"/run/ckpt-freezer"	/* env CKPT_FREEZER */

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC	0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC	0x63677270
#endif
#ifndef __NR_pidfd_open
#define __NR_pidfd_open		434
#endif

/* ---- time ------------------------------------------------------------- */

static inline uint64_t ckpt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void ckpt_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- files -------------------------------------------------------------- */

/* Write @s to @path in one write(); the write's errno is kept. */
static inline int ckpt_write_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, s, len);
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	if ((size_t)n != len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Read up to @size - 1 bytes of @path into @buf, NUL-terminated. */
static inline ssize_t ckpt_read_file(const char *path, char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd, err;

	if (!size) {
		errno = EINVAL;
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			close(fd);
			errno = err;
			return -1;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

/* Parse a whitespace-separated list of decimal numbers (pid lists). */
static inline int ckpt_parse_pids(const char *s, pid_t **out, size_t *count)
{
	size_t n = 0, cap = 16;
	pid_t *v = malloc(cap * sizeof(*v));
	char *end;
	long x;

	if (!v)
		return -1;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		errno = 0;
		x = strtol(s, &end, 10);
		if (end == s || errno || x <= 0 || x > INT_MAX) {
			free(v);
			errno = EINVAL;
			return -1;
		}
		s = end;
		if (n == cap) {
			pid_t *nv = realloc(v, (cap *= 2) * sizeof(*v));

			if (!nv) {
				free(v);
				return -1;
			}
			v = nv;
		}
		v[n++] = (pid_t)x;
	}
	*out = v;
	*count = n;
	return 0;
}

/* A whole file of unknown size (the /proc and cgroup lists), malloc()ed. */
static inline char *ckpt_slurp(const char *path)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *nb;
	ssize_t n;
	int fd, err;

	if (!buf)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return NULL;
	}
	for (;;) {
		if (cap - len < 2) {
			nb = realloc(buf, cap *= 2);
			if (!nb) {
				err = ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
fail:
	close(fd);
	free(buf);
	errno = err;
	return NULL;
}

/* ---- /dev/ckpt ---------------------------------------------------------- */

static inline int ckpt_dev_open(void)
{
	return open(CKPT_DEV_PATH, O_RDWR | O_CLOEXEC);
}

static inline int ckpt_pidfd_open(pid_t pid, unsigned int flags)
{
	return (int)syscall(__NR_pidfd_open, pid, flags);
}

static inline int ckpt_ioc_info(int fd, struct ckpt_info *info)
{
	memset(info, 0, sizeof(*info));
	return ioctl(fd, CKPT_IOC_INFO, info);
}

/* @root is a pid, or a pidfd with CKPT_BEGIN_ROOT_PIDFD in @flags. */
static inline int ckpt_ioc_begin(int fd, int cgroup_fd, int root,
				 unsigned int flags)
{
	struct ckpt_begin b = {
		.flags = flags,
		.cgroup_fd = (__u32)cgroup_fd,
		.root = (__u32)root,
	};

	return ioctl(fd, CKPT_IOC_BEGIN, &b);
}

static inline int ckpt_ioc_end(int fd)
{
	struct ckpt_end e = { 0 };

	return ioctl(fd, CKPT_IOC_END, &e);
}

/*
 * One SCAN call.  @out (optional) receives the whole struct as the kernel
 * wrote it back, also on failure (count, err_pid, err_reason).
 */
static inline int ckpt_ioc_scan(int fd, struct ckpt_task *recs,
				uint32_t capacity, struct ckpt_scan *out)
{
	struct ckpt_scan s = {
		.capacity = capacity,
		.records = (__u64)(uintptr_t)recs,
	};
	int ret = ioctl(fd, CKPT_IOC_SCAN, &s);
	int err = errno;

	if (out)
		*out = s;
	errno = err;
	return ret;
}

/*
 * Scan into a buffer sized by the kernel: ask with capacity 0, allocate,
 * scan; retry while the tree grows (ENOSPC).  On success *@recs is
 * malloc()ed and holds *@count records.  @out as for ckpt_ioc_scan().
 */
static inline int ckpt_scan_all(int fd, struct ckpt_task **recs,
				uint32_t *count, struct ckpt_scan *out)
{
	struct ckpt_scan s;
	struct ckpt_task *buf = NULL;
	uint32_t cap = 0;
	int tries, err;

	memset(&s, 0, sizeof(s));
	if (out)
		*out = s;
	for (tries = 0; tries < 16; tries++) {
		if (ckpt_ioc_scan(fd, buf, cap, &s) == 0) {
			if (out)
				*out = s;
			*recs = buf;
			*count = s.count;
			return 0;
		}
		err = errno;
		if (err != ENOSPC) {
			free(buf);
			if (out)
				*out = s;
			errno = err;
			return -1;
		}
		free(buf);
		cap = s.count + s.count / 8 + 16;
		buf = calloc(cap, sizeof(*buf));
		if (!buf)
			return -1;
	}
	free(buf);
	errno = EAGAIN;
	return -1;
}

/*
 * One REGS call for thread @tid.  @xstate/@xstate_size as in struct
 * ckpt_regs.  @out receives the struct as written back, also on failure.
 */
static inline int ckpt_ioc_regs(int fd, pid_t tid, unsigned int flags,
				void *xstate, uint32_t xstate_size,
				struct ckpt_regs *out)
{
	struct ckpt_regs r;
	int ret, err;

	memset(&r, 0, sizeof(r));
	r.flags = flags;
	r.tid = (__u32)tid;
	r.xstate = (__u64)(uintptr_t)xstate;
	r.xstate_size = xstate_size;
	ret = ioctl(fd, CKPT_IOC_REGS, &r);
	err = errno;
	if (out)
		*out = r;
	errno = err;
	return ret;
}

static inline const char *ckpt_scan_err_name(uint32_t reason)
{
	static const char *const names[] = {
		[CKPT_SCAN_ERR_NONE] = "NONE",
		[CKPT_SCAN_ERR_NOT_FROZEN] = "NOT_FROZEN",
		[CKPT_SCAN_ERR_PTRACED] = "PTRACED",
		[CKPT_SCAN_ERR_CGROUP] = "CGROUP",
		[CKPT_SCAN_ERR_ACCESS] = "ACCESS",
		[CKPT_SCAN_ERR_DEAD] = "DEAD",
		[CKPT_SCAN_ERR_UNSTABLE] = "UNSTABLE",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "?";
}

/* ---- cgroups -------------------------------------------------------------- */

/* A cgroup directory: on the v2 hierarchy, or on a v1 freezer hierarchy. */
struct ckpt_cg {
	char path[PATH_MAX];
	bool v1;
};

static inline const char *ckpt_cgroup2_mount(void)
{
	const char *p = getenv("CKPT_CGROUP2");

	return p && *p ? p : CKPT_CGROUP2_DEFAULT;
}

static inline const char *ckpt_freezer_mount(void)
{
	const char *p = getenv("CKPT_FREEZER");

	return p && *p ? p : CKPT_FREEZER_DEFAULT;
}

/* Is @path the top of a cgroup v2 (v1 == false) or v1 mount? */
static inline bool ckpt_is_cgroupfs(const char *path, bool v1)
{
	struct statfs sf;

	if (statfs(path, &sf))
		return false;
	return (unsigned long)sf.f_type ==
	       (v1 ? CGROUP_SUPER_MAGIC : CGROUP2_SUPER_MAGIC);
}

static inline int ckpt_cg_init(struct ckpt_cg *cg, const char *path, bool v1)
{
	if ((size_t)snprintf(cg->path, sizeof(cg->path), "%s", path) >=
	    sizeof(cg->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	cg->v1 = v1;
	return 0;
}

/* @out = @cg/@name, the path only. */
static inline int ckpt_cg_sub(struct ckpt_cg *out, const struct ckpt_cg *cg,
			      const char *name)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", cg->path, name) >=
	    sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return ckpt_cg_init(out, path, cg->v1);
}

/* @out = @cg/@name, on disk: mkdir() unless it exists already. */
static inline int ckpt_cg_mkdir(struct ckpt_cg *out, const struct ckpt_cg *cg,
				const char *name)
{
	if (ckpt_cg_sub(out, cg, name))
		return -1;
	if (mkdir(out->path, 0755) && errno != EEXIST)
		return -1;
	return 0;
}

static inline int ckpt_cg_file(const struct ckpt_cg *cg, const char *file,
			       char *buf, size_t size)
{
	if ((size_t)snprintf(buf, size, "%s/%s", cg->path, file) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static inline int ckpt_cg_write(const struct ckpt_cg *cg, const char *file,
				const char *s)
{
	char path[PATH_MAX];

	if (ckpt_cg_file(cg, file, path, sizeof(path)))
		return -1;
	return ckpt_write_file(path, s);
}

static inline ssize_t ckpt_cg_read(const struct ckpt_cg *cg, const char *file,
				   char *buf, size_t size)
{
	char path[PATH_MAX];

	if (ckpt_cg_file(cg, file, path, sizeof(path)))
		return -1;
	return ckpt_read_file(path, buf, size);
}

/* An fd of the cgroup directory, the kind CKPT_IOC_BEGIN takes. */
static inline int ckpt_cg_open(const struct ckpt_cg *cg)
{
	return open(cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* Move process @pid (all its threads) into @cg. */
static inline int ckpt_cg_attach(const struct ckpt_cg *cg, pid_t pid)
{
	char num[24];

	snprintf(num, sizeof(num), "%d\n", (int)pid);
	return ckpt_cg_write(cg, "cgroup.procs", num);
}

/* Move one thread: v1 "tasks"; v2 "cgroup.threads" (threaded cgroups). */
static inline int ckpt_cg_attach_thread(const struct ckpt_cg *cg, pid_t tid)
{
	char num[24];

	snprintf(num, sizeof(num), "%d\n", (int)tid);
	return ckpt_cg_write(cg, cg->v1 ? "tasks" : "cgroup.threads", num);
}

/* The processes (cgroup.procs) of @cg itself. */
static inline int ckpt_cg_procs(const struct ckpt_cg *cg, pid_t **pids,
				size_t *count)
{
	char path[PATH_MAX];
	char *s;
	int ret;

	if (ckpt_cg_file(cg, "cgroup.procs", path, sizeof(path)))
		return -1;
	s = ckpt_slurp(path);
	if (!s)
		return -1;
	ret = ckpt_parse_pids(s, pids, count);
	free(s);
	return ret;
}

/*
 * "key value" lookup in a flat-keyed file such as cgroup.events.
 * Returns the value, or -1 with ENOENT.
 */
static inline long ckpt_keyed_value(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtol(p + klen + 1, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	errno = ENOENT;
	return -1;
}

/*
 * The freezer state of @cg as its files show it: v2 "frozen 1" in
 * cgroup.events; v1 freezer.state reading FROZEN.  1, 0, or -1.
 */
static inline int ckpt_cg_is_frozen(const struct ckpt_cg *cg)
{
	char buf[256];
	long v;

	if (cg->v1) {
		if (ckpt_cg_read(cg, "freezer.state", buf, sizeof(buf)) < 0)
			return -1;
		return !strcmp(buf, "FROZEN\n");
	}
	if (ckpt_cg_read(cg, "cgroup.events", buf, sizeof(buf)) < 0)
		return -1;
	v = ckpt_keyed_value(buf, "frozen");
	return v < 0 ? -1 : v == 1;
}

/* v2: does @cg or a descendant hold a task ("populated 1")?  v1: @cg. */
static inline int ckpt_cg_populated(const struct ckpt_cg *cg)
{
	char buf[256];
	pid_t *pids;
	size_t n;
	long v;

	if (cg->v1) {
		if (ckpt_cg_procs(cg, &pids, &n))
			return -1;
		free(pids);
		return n != 0;
	}
	if (ckpt_cg_read(cg, "cgroup.events", buf, sizeof(buf)) < 0)
		return -1;
	v = ckpt_keyed_value(buf, "populated");
	return v < 0 ? -1 : v == 1;
}

/* Start freezing @cg, without waiting. */
static inline int ckpt_cg_freeze_start(const struct ckpt_cg *cg)
{
	return cg->v1 ? ckpt_cg_write(cg, "freezer.state", "FROZEN")
		      : ckpt_cg_write(cg, "cgroup.freeze", "1");
}

/* v2: wait until cgroup.events reads "frozen @want", by poll(). */
static inline int ckpt_cg2_wait_frozen(const struct ckpt_cg *cg, bool want,
				       unsigned int timeout_ms)
{
	uint64_t deadline = ckpt_now_ms() + timeout_ms;
	char path[PATH_MAX], buf[256];
	struct pollfd pfd;
	ssize_t n;
	long v;
	int fd, err;

	if (ckpt_cg_file(cg, "cgroup.events", path, sizeof(path)))
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		/* Reading re-arms the poll: no event is lost in between. */
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			goto fail;
		buf[n] = '\0';
		v = ckpt_keyed_value(buf, "frozen");
		if (v < 0)
			goto fail;
		if ((v == 1) == want)
			break;
		uint64_t now = ckpt_now_ms();

		if (now >= deadline) {
			errno = ETIMEDOUT;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLPRI;
		/* Also wake up now and then, in case an event is missed. */
		if (poll(&pfd, 1, (int)(deadline - now > 1000 ? 1000 :
					 deadline - now)) < 0 && errno != EINTR)
			goto fail;
	}
	close(fd);
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/*
 * v1: re-read freezer.state until it reads FROZEN, writing FROZEN again
 * between reads.  Fails with the write's errno (e.g. EBUSY), or ETIMEDOUT.
 */
static inline int ckpt_cg1_wait_frozen(const struct ckpt_cg *cg,
				       unsigned int timeout_ms)
{
	uint64_t deadline = ckpt_now_ms() + timeout_ms;
	unsigned int nap = 1;
	char buf[64];

	for (;;) {
		if (ckpt_cg_read(cg, "freezer.state", buf, sizeof(buf)) < 0)
			return -1;
		if (!strcmp(buf, "FROZEN\n"))
			return 0;
		if (ckpt_now_ms() >= deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		ckpt_sleep_ms(nap);
		if (nap < 50)
			nap *= 2;
		if (ckpt_cg_write(cg, "freezer.state", "FROZEN"))
			return -1;
	}
}

static inline char **ckpt_cg_children(const struct ckpt_cg *cg);
static inline void ckpt_strv_free(char **v);

/*
 * v2: wait until @cg and every cgroup below it reads "frozen 1".  The
 * kernel (6.1, 6.12) sets "frozen 1" on a cgroup as soon as its own tasks
 * are frozen, while tasks in its descendants may still be on their way, so
 * the whole subtree must read frozen.  Even that is not airtight for a
 * cgroup with tasks of its own and sub-cgroups: when its last descendant
 * freezes, the kernel marks it frozen without looking at its own tasks
 * (cgroup_propagate_frozen).  A scan right after may then see a task that
 * is still on its way to the freezer (EBUSY, CKPT_SCAN_ERR_NOT_FROZEN);
 * it gets there on its own, so retrying a little later works.
 */
static inline int ckpt_cg2_wait_tree_frozen(const struct ckpt_cg *cg,
					    uint64_t deadline)
{
	uint64_t now = ckpt_now_ms();
	char **kids, **k;
	struct ckpt_cg sub;
	int ret = 0;

	if (ckpt_cg2_wait_frozen(cg, true,
				 deadline > now ? (unsigned int)(deadline - now) : 0))
		return -1;
	kids = ckpt_cg_children(cg);
	if (!kids)
		return -1;
	for (k = kids; *k && !ret; k++) {
		if ((size_t)snprintf(sub.path, sizeof(sub.path), "%s/%s",
				     cg->path, *k) >= sizeof(sub.path)) {
			errno = ENAMETOOLONG;
			ret = -1;
			break;
		}
		sub.v1 = false;
		ret = ckpt_cg2_wait_tree_frozen(&sub, deadline);
	}
	ckpt_strv_free(kids);
	return ret;
}

/* Freeze @cg and wait until it is fully frozen, descendants included. */
static inline int ckpt_cg_freeze(const struct ckpt_cg *cg,
				 unsigned int timeout_ms)
{
	if (ckpt_cg_freeze_start(cg))
		return -1;
	if (cg->v1)	/* v1 reads FROZEN only when its children are */
		return ckpt_cg1_wait_frozen(cg, timeout_ms);
	return ckpt_cg2_wait_tree_frozen(cg, ckpt_now_ms() + timeout_ms);
}

/* Thaw @cg (its own setting); v2 waits for "frozen 0" when it applies. */
static inline int ckpt_cg_thaw(const struct ckpt_cg *cg)
{
	return cg->v1 ? ckpt_cg_write(cg, "freezer.state", "THAWED")
		      : ckpt_cg_write(cg, "cgroup.freeze", "0");
}

/*
 * SIGKILL every process of @cg (v2: and of its descendants, by
 * cgroup.kill).  Each process of @cg itself also gets a kill(): 6.1's
 * cgroup.kill signals the leader thread only, which misses a process whose
 * leader has exited while its other threads live on.
 */
static inline int ckpt_cg_kill(const struct ckpt_cg *cg)
{
	pid_t *pids;
	size_t i, n;

	if (!cg->v1)
		ckpt_cg_write(cg, "cgroup.kill", "1");
	if (ckpt_cg_procs(cg, &pids, &n))
		return -1;
	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	free(pids);
	return 0;
}

/* The sub-cgroups of @cg (directory names), malloc()ed, NULL-terminated. */
static inline char **ckpt_cg_children(const struct ckpt_cg *cg)
{
	size_t n = 0, cap = 8;
	char **v = calloc(cap, sizeof(*v));
	struct dirent *de;
	DIR *d;

	if (!v)
		return NULL;
	d = opendir(cg->path);
	if (!d) {
		free(v);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (n + 1 >= cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		v[n] = strdup(de->d_name);
		if (v[n])
			n++;
	}
	v[n] = NULL;
	closedir(d);
	return v;
}

static inline void ckpt_strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* Kill and thaw @cg and its descendants, top-down. */
static inline void ckpt_cg_kill_thaw_tree(const struct ckpt_cg *cg)
{
	char **kids, **k;
	struct ckpt_cg sub;

	ckpt_cg_kill(cg);
	ckpt_cg_thaw(cg);
	kids = ckpt_cg_children(cg);
	for (k = kids; k && *k; k++)
		if (!ckpt_cg_sub(&sub, cg, *k))
			ckpt_cg_kill_thaw_tree(&sub);
	ckpt_strv_free(kids);
}

static inline int ckpt_cg_rmdir_tree(const struct ckpt_cg *cg,
				     uint64_t deadline)
{
	char **kids = ckpt_cg_children(cg), **k;
	struct ckpt_cg sub;
	int ret = 0;

	if (!kids)
		return errno == ENOENT ? 0 : -1;
	for (k = kids; *k; k++) {
		if (ckpt_cg_sub(&sub, cg, *k) ||
		    ckpt_cg_rmdir_tree(&sub, deadline))
			ret = -1;
	}
	ckpt_strv_free(kids);
	for (;;) {
		if (!rmdir(cg->path) || errno == ENOENT)
			return ret;
		if (errno != EBUSY || ckpt_now_ms() >= deadline)
			return -1;
		/* Tasks still exiting, or one that arrived late. */
		ckpt_cg_kill(cg);
		ckpt_cg_thaw(cg);
		ckpt_sleep_ms(10);
	}
}

/*
 * Tear down @cg and everything below it: kill its tasks, thaw it (so that
 * a v1-frozen task can die), wait until it is empty and rmdir it, deepest
 * first.  A CHECKPOINTING cgroup cannot be thawed: end its session first.
 * Reaping the killed tasks is the caller's business; a cgroup empties when
 * its tasks exit, reaped or not.
 */
static inline int ckpt_cg_destroy(const struct ckpt_cg *cg,
				  unsigned int timeout_ms)
{
	ckpt_cg_kill_thaw_tree(cg);
	return ckpt_cg_rmdir_tree(cg, ckpt_now_ms() + timeout_ms);
}

/* ---- /proc -------------------------------------------------------------- */

/* The fields of /proc/PID/stat that describe a task's place in the tree. */
struct ckpt_proc_stat {
	pid_t pid;
	char state;		/* R S D T t Z X I ... */
	pid_t ppid;
	pid_t pgrp;
	pid_t session;
	long num_threads;
	char comm[32];
};

/*
 * /proc/@pid/stat, or /proc/@pid/task/@tid/stat with @tid > 0.  The
 * numbers are in the pid namespace of this /proc mount.
 */
static inline int ckpt_proc_stat(pid_t pid, pid_t tid,
				 struct ckpt_proc_stat *st)
{
	char path[64], buf[1024];
	const char *p, *rp;
	size_t clen;
	int n;

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (ckpt_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	/* "pid (comm) state ppid pgrp session tty tpgid flags ..." */
	p = strchr(buf, '(');
	rp = strrchr(buf, ')');
	if (!p || !rp || rp < p) {
		errno = EINVAL;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->pid = (pid_t)strtol(buf, NULL, 10);
	clen = (size_t)(rp - p - 1);
	if (clen >= sizeof(st->comm))
		clen = sizeof(st->comm) - 1;
	memcpy(st->comm, p + 1, clen);
	n = sscanf(rp + 1, " %c %d %d %d %*d %*d %*u %*u %*u %*u %*u %*u %*u "
		   "%*d %*d %*d %*d %ld", &st->state, &st->ppid, &st->pgrp,
		   &st->session, &st->num_threads);
	if (n != 5) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static inline int ckpt_pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* The thread ids of process @pid (/proc/PID/task), sorted ascending. */
static inline int ckpt_proc_tasks(pid_t pid, pid_t **tids, size_t *count)
{
	size_t n = 0, cap = 8;
	pid_t *v = malloc(cap * sizeof(*v));
	struct dirent *de;
	char path[64];
	DIR *d;
	int err;

	if (!v)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	if (!d) {
		err = errno;
		free(v);
		errno = err;
		return -1;
	}
	while ((de = readdir(d))) {
		long x = strtol(de->d_name, NULL, 10);

		if (x <= 0)
			continue;
		if (n == cap) {
			pid_t *nv = realloc(v, (cap *= 2) * sizeof(*v));

			if (!nv) {
				closedir(d);
				free(v);
				errno = ENOMEM;
				return -1;
			}
			v = nv;
		}
		v[n++] = (pid_t)x;
	}
	closedir(d);
	qsort(v, n, sizeof(*v), ckpt_pid_cmp);
	*tids = v;
	*count = n;
	return 0;
}

/*
 * The children that thread @tid of process @pid forked and that are still
 * its children (/proc/PID/task/TID/children, CONFIG_PROC_CHILDREN).
 */
static inline int ckpt_proc_children(pid_t pid, pid_t tid, pid_t **kids,
				     size_t *count)
{
	char path[96];
	char *s;
	int ret;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, tid);
	s = ckpt_slurp(path);
	if (!s)
		return -1;
	ret = ckpt_parse_pids(s, kids, count);
	free(s);
	return ret;
}

/*
 * The "NSpid:" line of a task: its id in the pid namespace of this /proc
 * mount first, then in each nested namespace down to its own.  Stores up to
 * @max ids in @ids and returns how many the line has.
 */
static inline int ckpt_proc_nspid(pid_t pid, pid_t tid, pid_t *ids, int max)
{
	char path[96], buf[4096];
	const char *p;
	int n = 0;

	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (ckpt_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nNSpid:");
	if (!p) {
		errno = ENOENT;
		return -1;
	}
	p += strlen("\nNSpid:");
	for (;;) {
		char *end;
		long x;

		while (*p == ' ' || *p == '\t')
			p++;
		x = strtol(p, &end, 10);
		if (end == p)
			break;
		if (n < max)
			ids[n] = (pid_t)x;
		n++;
		p = end;
	}
	return n;
}

#endif /* CKPT_UTIL_H */
