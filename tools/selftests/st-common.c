// SPDX-License-Identifier: GPL-2.0
/*
 * st-common.c: the selftest framework (fixtures, workloads, privilege
 * dropping) and main().
 *
 *   ckpt-selftests [-l] [PATTERN...]
 *
 * A PATTERN that names a group runs the group; one with a '/' is matched
 * (fnmatch) against "group/test"; any other against the test name (a plain
 * word matches as a substring).  -l lists the tests instead.  Output is
 * cmocka's: set CMOCKA_MESSAGE_OUTPUT=TAP for TAP.
 *
 * Environment: CKPT_CGROUP2 (default /sys/fs/cgroup), CKPT_FREEZER (a v1
 * freezer hierarchy, default /run/ckpt-freezer), CKPT_KO (ckpt.ko, for
 * the modlife group), CKPT_ST_ALARM (seconds a test may take, default 300).
 */
#include <fnmatch.h>
#include <sched.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <grp.h>
#include <linux/capability.h>
#include "st.h"

struct st_shm *st_shm;

#define ST_MAX_FDS	64
#define ST_MAX_PIDS	64
#define ST_MAX_CGS	64
#define ST_MAX_MOUNTS	4
#define ST_MAX_KNOBS	8

static struct {
	int fds[ST_MAX_FDS];
	int nfds;
	pid_t pids[ST_MAX_PIDS];
	int npids;
	struct ckpt_cg *cgs[ST_MAX_CGS];	/* malloc()ed, freed at teardown */
	int ncgs;
	struct ckpt_cg *top[2];			/* [v1] */
	char mounts[ST_MAX_MOUNTS][PATH_MAX];
	int nmounts;
	struct {
		char path[PATH_MAX];
		char old[512];
	} knobs[ST_MAX_KNOBS];
	int nknobs;
	unsigned int seq;
	cpu_set_t cpus;				/* the runner's affinity */
	bool cpus_ok;
} ctx;

static struct ckpt_cg st_base[2];		/* [v1] */
static bool st_base_ok[2];

/* ---- diagnostics -------------------------------------------------------------- */

void st_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void st_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("# FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	_fail(file, line);
	abort();	/* _fail() does not return */
}

const char *st_errname(int err)
{
	static char buf[32];
	const char *s = err ? strerrorname_np(err) : "0";

	if (s)
		return s;
	snprintf(buf, sizeof(buf), "errno %d", err);
	return buf;
}

/* ---- workload side -------------------------------------------------------------- */

void st_wl_fail(int line, int err)
{
	int zero = 0;

	__atomic_compare_exchange_n(&st_shm->fail_line, &zero, line, false,
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	st_shm->fail_errno = err;
	_exit(99);
}

void st_ready(void)
{
	__atomic_add_fetch(&st_shm->ready, 1, __ATOMIC_SEQ_CST);
}

void st_idle(void)
{
	for (;;)
		pause();
}

pid_t st_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

void st_report(int role, int idx, pid_t aux, uint64_t val)
{
	int slot = __atomic_fetch_add(&st_shm->nrep, 1, __ATOMIC_SEQ_CST);
	struct st_rep *r;

	WL_CHECK(slot < ST_MAX_REP);
	r = &st_shm->rep[slot];
	r->pid = getpid();
	r->ppid = getppid();
	r->pgid = getpgrp();
	r->sid = getsid(0);
	r->tid = st_gettid();
	r->aux = aux;
	r->val = val;
	r->idx = idx;
	__atomic_store_n(&r->role, role, __ATOMIC_SEQ_CST);
}

pid_t st_wl_fork(st_fn fn, void *arg)
{
	pid_t pid = fork();

	WL_CHECK(pid >= 0);
	if (pid == 0) {
		if (fn)
			fn(arg);
		else
			st_ready();
		st_idle();
	}
	return pid;
}

static void *st_idle_thread(void *arg)
{
	(void)arg;
	st_ready();
	st_idle();
}

void st_wl_thread(void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	pthread_t th;

	WL_CHECK(!pthread_attr_init(&attr));
	WL_CHECK(!pthread_attr_setstacksize(&attr, 256 * 1024));
	errno = pthread_create(&th, &attr, fn ? fn : st_idle_thread, arg);
	WL_CHECK(errno == 0);
	pthread_attr_destroy(&attr);
}

void st_wl_counter(void *arg)
{
	long i = (long)arg;
	struct timespec ts = { 0, 1000000 };

	st_ready();
	for (;;) {
		__atomic_add_fetch(&st_shm->counter[i], 1, __ATOMIC_SEQ_CST);
		nanosleep(&ts, NULL);
	}
}

void st_wl_idle(void *arg)
{
	(void)arg;
	st_idle();
}

void st_wl_exit(void *arg)
{
	(void)arg;
	_exit(0);
}

/* ---- tracking -------------------------------------------------------------------- */

int st_track_fd(int fd)
{
	if (ctx.nfds >= ST_MAX_FDS)
		st_fail("too many fds");
	ctx.fds[ctx.nfds++] = fd;
	return fd;
}

void st_close(int fd)
{
	int i;

	for (i = 0; i < ctx.nfds; i++) {
		if (ctx.fds[i] == fd) {
			ctx.fds[i] = ctx.fds[--ctx.nfds];
			ST_OK(close(fd));
			return;
		}
	}
	st_fail("fd %d is not tracked", fd);
}

void st_track_pid(pid_t pid)
{
	if (ctx.npids >= ST_MAX_PIDS)
		st_fail("too many pids");
	ctx.pids[ctx.npids++] = pid;
}

void st_track_mount(const char *path)
{
	if (ctx.nmounts >= ST_MAX_MOUNTS)
		st_fail("too many mounts");
	snprintf(ctx.mounts[ctx.nmounts++], PATH_MAX, "%s", path);
}

void st_set_knob(const char *path, const char *value)
{
	char buf[512], *l, *r;
	int i;

	for (i = 0; i < ctx.nknobs; i++)
		if (!strcmp(ctx.knobs[i].path, path))
			break;
	if (i == ctx.nknobs) {
		if (ctx.nknobs >= ST_MAX_KNOBS)
			st_fail("too many knobs");
		if (ckpt_read_file(path, buf, sizeof(buf)) < 0)
			st_fail("reading %s: %s", path, st_errname(errno));
		/* "[none] core freezer" style files: the selected word */
		l = strchr(buf, '[');
		r = l ? strchr(l, ']') : NULL;
		if (l && r) {
			*r = '\0';
			memmove(buf, l + 1, strlen(l + 1) + 1);
		}
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(ctx.knobs[i].path, PATH_MAX, "%s", path);
		snprintf(ctx.knobs[i].old, sizeof(ctx.knobs[i].old), "%s", buf);
		ctx.nknobs++;
	}
	if (ckpt_write_file(path, value))
		st_fail("writing '%s' to %s: %s", value, path, st_errname(errno));
}

static struct ckpt_cg *st_track_cg(void)
{
	struct ckpt_cg *cg;

	if (ctx.ncgs >= ST_MAX_CGS)
		st_fail("too many cgroups");
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		st_fail("out of memory");
	ctx.cgs[ctx.ncgs++] = cg;
	return cg;
}

struct ckpt_cg *st_cg_top(bool v1)
{
	char name[32];

	if (ctx.top[v1])
		return ctx.top[v1];
	if (!st_base_ok[v1])
		st_fail("no cgroup %s hierarchy at %s (set %s)",
			v1 ? "v1 freezer" : "v2",
			v1 ? ckpt_freezer_mount() : ckpt_cgroup2_mount(),
			v1 ? "CKPT_FREEZER" : "CKPT_CGROUP2");
	snprintf(name, sizeof(name), "t%u", ctx.seq);
	ctx.top[v1] = st_track_cg();
	ST_OK(ckpt_cg_mkdir(ctx.top[v1], &st_base[v1], name));
	return ctx.top[v1];
}

struct ckpt_cg *st_cg_child(const struct ckpt_cg *parent, const char *name)
{
	struct ckpt_cg *cg = st_track_cg();

	ST_OK(ckpt_cg_mkdir(cg, parent, name));
	return cg;
}

struct ckpt_cg *st_cg_new(bool v1, const char *name)
{
	return st_cg_child(st_cg_top(v1), name);
}

/*
 * Is every task of @cg and below in the v2 freezer trap?  A frozen v2 task
 * sleeps in get_signal() (do_freezer_trap); zombies, stopped and traced
 * tasks do not matter here.  Returns the first task that is not, or 0.
 */
static pid_t st_cg2_unfrozen_task(const struct ckpt_cg *cg)
{
	char path[96], wchan[64], **kids, **k;
	struct ckpt_proc_stat st;
	pid_t *pids, *tids, bad = 0;
	size_t i, j, n, nt;
	struct ckpt_cg sub;

	if (ckpt_cg_procs(cg, &pids, &n))
		st_fail("%s/cgroup.procs: %s", cg->path, st_errname(errno));
	for (i = 0; i < n && !bad; i++) {
		if (ckpt_proc_tasks(pids[i], &tids, &nt))
			continue;		/* gone */
		for (j = 0; j < nt && !bad; j++) {
			if (ckpt_proc_stat(pids[i], tids[j], &st) ||
			    strchr("ZXTt", st.state))
				continue;
			snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan",
				 pids[i], tids[j]);
			if (ckpt_read_file(path, wchan, sizeof(wchan)) < 0 ||
			    strcmp(wchan, "get_signal"))
				bad = tids[j];
		}
		free(tids);
	}
	free(pids);
	kids = ckpt_cg_children(cg);
	for (k = kids; k && *k && !bad; k++)
		if (!ckpt_cg_sub(&sub, cg, *k))
			bad = st_cg2_unfrozen_task(&sub);
	ckpt_strv_free(kids);
	return bad;
}

/*
 * Freeze and wait.  On v2, "frozen 1" in cgroup.events can come before all
 * tasks are frozen when a cgroup has tasks of its own and sub-cgroups: 6.1
 * and 6.12 set it from the cgroup's own tasks alone (cgroup_update_frozen)
 * or from its descendants alone (cgroup_propagate_frozen).  So the tests
 * also wait until every task sleeps in the freezer trap.
 */
void st_freeze(const struct ckpt_cg *cg)
{
	uint64_t deadline = ckpt_now_ms() + ST_TIMEOUT_MS;
	pid_t bad;

	if (ckpt_cg_freeze(cg, ST_TIMEOUT_MS))
		st_fail("freezing %s: %s", cg->path, st_errname(errno));
	if (cg->v1)
		return;
	while ((bad = st_cg2_unfrozen_task(cg))) {
		if (ckpt_now_ms() > deadline) {
			st_dump_task(bad);
			st_fail("%s reads frozen, but task %d is not", cg->path,
				bad);
		}
		ckpt_sleep_ms(2);
	}
}

void st_thaw(const struct ckpt_cg *cg)
{
	if (ckpt_cg_thaw(cg))
		st_fail("thawing %s: %s", cg->path, st_errname(errno));
}

int st_cg_fd(const struct ckpt_cg *cg)
{
	return st_track_fd(ST_OK(ckpt_cg_open(cg)));
}

/* Is task @tid in @cg (exactly), per /proc/TID/cgroup? */
bool st_in_cgroup(pid_t tid, const struct ckpt_cg *cg)
{
	const char *mnt = cg->v1 ? ckpt_freezer_mount() : ckpt_cgroup2_mount();
	size_t mlen = strlen(mnt);
	char path[64], *text, *line, *save = NULL;
	const char *rel;
	bool in = false;

	if (strncmp(cg->path, mnt, mlen))
		st_fail("%s is not below %s", cg->path, mnt);
	rel = cg->path + mlen;
	if (!*rel)
		rel = "/";
	snprintf(path, sizeof(path), "/proc/%d/cgroup", tid);
	text = ckpt_slurp(path);
	if (!text)
		st_fail("reading %s: %s", path, st_errname(errno));
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		/* "0::/path" (v2) or "N:ctrl,ctrl:/path" (v1) */
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		bool match;

		if (!c2)
			continue;
		*c1 = '\0';
		*c2 = '\0';
		if (cg->v1) {
			char *ctl, *s2 = NULL;

			match = false;
			for (ctl = strtok_r(c1 + 1, ",", &s2); ctl;
			     ctl = strtok_r(NULL, ",", &s2))
				if (!strcmp(ctl, "freezer"))
					match = true;
		} else {
			match = !strcmp(line, "0") && c1[1] == '\0';
		}
		if (match) {
			in = !strcmp(c2 + 1, rel);
			break;
		}
	}
	free(text);
	return in;
}

static void st_dump_cgroup(const struct ckpt_cg *cg);

int st_dev(void)
{
	int fd = ckpt_dev_open();

	if (fd < 0)
		st_fail("open %s: %s (is ckpt.ko loaded?)", CKPT_DEV_PATH,
			st_errname(errno));
	return st_track_fd(fd);
}

int st_begin(const struct ckpt_cg *cg, pid_t root)
{
	int fd = st_dev();
	int cgfd = st_cg_fd(cg);

	if (ckpt_ioc_begin(fd, cgfd, root, 0)) {
		int err = errno;

		st_dump_cgroup(cg);
		st_fail("BEGIN on %s, root %d: %s", cg->path, root,
			st_errname(err));
	}
	st_close(cgfd);
	return fd;
}

/* ---- workloads --------------------------------------------------------------------- */

pid_t st_spawn(const struct ckpt_cg *cg, st_fn fn, void *arg)
{
	int gate[2];
	pid_t pid;
	char c;

	ST_OK(pipe(gate));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		st_fail("fork: %s", st_errname(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(gate[1]);
		if (read(gate[0], &c, 1) != 1)
			_exit(98);
		/* No inherited fd (a /dev/ckpt one!) may outlive the test's. */
		close_range(3, ~0U, 0);
		fn(arg);
		_exit(0);
	}
	close(gate[0]);
	st_track_pid(pid);
	if (cg && ckpt_cg_attach(cg, pid)) {
		int err = errno;

		close(gate[1]);
		st_fail("moving %d into %s: %s", pid, cg->path, st_errname(err));
	}
	ST_OK(write(gate[1], "g", 1));
	close(gate[1]);
	return pid;
}

static void st_check_wl_fail(void)
{
	int line = __atomic_load_n(&st_shm->fail_line, __ATOMIC_SEQ_CST);

	if (line)
		st_fail("a workload task failed at line %d: %s", line,
			st_errname(st_shm->fail_errno));
}

void st_wait_ready(int n)
{
	uint64_t deadline = ckpt_now_ms() + ST_TIMEOUT_MS;
	unsigned int nap = 1;

	for (;;) {
		st_check_wl_fail();
		if (__atomic_load_n(&st_shm->ready, __ATOMIC_SEQ_CST) >= n)
			return;
		if (ckpt_now_ms() > deadline)
			st_fail("only %d of %d workload tasks got ready",
				st_shm->ready, n);
		ckpt_sleep_ms(nap);
		if (nap < 20)
			nap++;
	}
}

char st_state(pid_t pid, pid_t tid)
{
	struct ckpt_proc_stat st;

	if (ckpt_proc_stat(pid, tid, &st))
		st_fail("/proc/%d/task/%d/stat: %s", pid, tid > 0 ? tid : pid,
			st_errname(errno));
	return st.state;
}

void st_wait_state(pid_t pid, pid_t tid, char state)
{
	uint64_t deadline = ckpt_now_ms() + ST_TIMEOUT_MS;
	char s;

	while ((s = st_state(pid, tid)) != state) {
		if (ckpt_now_ms() > deadline)
			st_fail("task %d/%d: state %c, waited for %c", pid, tid,
				s, state);
		ckpt_sleep_ms(2);
	}
}

const struct st_rep *st_find_rep(int role, int idx)
{
	int i, n = __atomic_load_n(&st_shm->nrep, __ATOMIC_SEQ_CST);

	for (i = 0; i < n && i < ST_MAX_REP; i++)
		if (__atomic_load_n(&st_shm->rep[i].role, __ATOMIC_SEQ_CST) ==
		    role && st_shm->rep[i].idx == idx)
			return &st_shm->rep[i];
	st_fail("no report from workload role %d idx %d", role, idx);
}

uint64_t st_counter(int i)
{
	return __atomic_load_n(&st_shm->counter[i], __ATOMIC_SEQ_CST);
}

void st_expect_counter_stuck(int i, unsigned int ms)
{
	uint64_t a = st_counter(i), b;

	ckpt_sleep_ms(ms);
	b = st_counter(i);
	if (a != b)
		st_fail("counter %d advanced from %llu to %llu: a task ran while it should be frozen",
			i, (unsigned long long)a, (unsigned long long)b);
}

void st_expect_counter_moves(int i)
{
	uint64_t deadline = ckpt_now_ms() + ST_TIMEOUT_MS;
	uint64_t a = st_counter(i);

	while (st_counter(i) == a) {
		if (ckpt_now_ms() > deadline)
			st_fail("counter %d stuck at %llu: the task does not run",
				i, (unsigned long long)a);
		ckpt_sleep_ms(5);
	}
}

static void st_simple_root(void *arg)
{
	long i, n = (long)arg;

	for (i = 0; i < n; i++)
		st_wl_fork(NULL, NULL);
	st_ready();
	st_idle();
}

pid_t st_simple_tree(const struct ckpt_cg *cg, int nkids)
{
	int base = __atomic_load_n(&st_shm->ready, __ATOMIC_SEQ_CST);
	pid_t root = st_spawn(cg, st_simple_root, (void *)(long)nkids);

	st_wait_ready(base + nkids + 1);
	st_freeze(cg);
	return root;
}

void st_wl_zombie_root(void *arg)
{
	(void)arg;
	st_report(1, 0, st_wl_fork(st_wl_exit, NULL), 0);
	st_ready();
	st_idle();
}

pid_t st_reaped_pid(void)
{
	pid_t pid = fork();

	if (pid < 0)
		st_fail("fork: %s", st_errname(errno));
	if (pid == 0)
		_exit(0);
	ST_OK(waitpid(pid, NULL, 0));
	return pid;
}

unsigned long st_ioc_sized(unsigned long base, unsigned int size)
{
	return _IOC(_IOC_DIR(base), _IOC_TYPE(base), _IOC_NR(base), size);
}

/* ---- helper children and privileges -------------------------------------------------- */

int st_run_child(int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		st_fail("fork: %s", st_errname(errno));
	if (pid == 0)
		_exit(fn(arg));
	st_track_pid(pid);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			st_fail("waitpid: %s", st_errname(errno));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int st_drop_privs(uid_t uid, gid_t gid, const int *caps, int ncaps)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2], got[2];
	int i;

	memset(data, 0, sizeof(data));
	for (i = 0; i < ncaps; i++) {
		data[caps[i] / 32].effective |= 1U << (caps[i] % 32);
		data[caps[i] / 32].permitted |= 1U << (caps[i] % 32);
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return -1;
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid))
		return -1;
	if (syscall(SYS_capset, &hdr, data))
		return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0))
		return -1;
	if (syscall(SYS_capget, &hdr, got))
		return -1;
	for (i = 0; i < 2; i++) {
		if (got[i].effective != data[i].effective ||
		    got[i].permitted != data[i].permitted ||
		    got[i].inheritable) {
			errno = EPERM;
			return -1;
		}
	}
	return 0;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

static void st_alarm(int sig)
{
	static const char msg[] =
		"# FAIL: the test ran out of time (CKPT_ST_ALARM); aborting\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	_exit(3);
}

int st_setup(void **state)
{
	const char *a = getenv("CKPT_ST_ALARM");

	(void)state;
	ctx.seq++;
	memset(st_shm, 0, sizeof(*st_shm));
	/* Tests may pin the runner to a CPU: teardown undoes it. */
	ctx.cpus_ok = !sched_getaffinity(0, sizeof(ctx.cpus), &ctx.cpus);
	signal(SIGALRM, st_alarm);
	alarm(a && atoi(a) > 0 ? (unsigned int)atoi(a) : 300);
	return 0;
}

/* SIGKILL and reap every child of the runner, orphans included. */
static int st_reap_all(unsigned int timeout_ms)
{
	uint64_t deadline = ckpt_now_ms() + timeout_ms;
	pid_t self = getpid(), *kids;
	size_t i, n;

	for (;;) {
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			;
		if (ckpt_proc_children(self, self, &kids, &n))
			return -1;
		for (i = 0; i < n; i++)
			kill(kids[i], SIGKILL);
		free(kids);
		if (!n)
			return 0;
		if (ckpt_now_ms() > deadline) {
			st_diag("teardown: %zu children left", n);
			return -1;
		}
		ckpt_sleep_ms(5);
	}
}

void st_dump_task(pid_t tid)
{
	static const char *const files[] = { "status", "wchan", "stack", "cgroup" };
	char path[64], *text, *line, *save;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", tid, files[i]);
		text = ckpt_slurp(path);
		if (!text) {
			st_diag("%s: %s", path, st_errname(errno));
			continue;
		}
		save = NULL;
		for (line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			if (i || !strncmp(line, "State", 5) ||
			    !strncmp(line, "Sig", 3) || !strncmp(line, "ShdPnd", 6) ||
			    !strncmp(line, "PPid", 4) || !strncmp(line, "Tgid", 4))
				st_diag("%s: %s", path, line);
		free(text);
	}
}

/* What is left in @cg and below: for a teardown that got stuck. */
static void st_dump_cgroup(const struct ckpt_cg *cg)
{
	char buf[512], path[96], wchan[64], **kids, **k;
	struct ckpt_proc_stat st;
	struct ckpt_cg sub;
	pid_t *pids;
	size_t i, n;

	if (ckpt_cg_read(cg, cg->v1 ? "freezer.state" : "cgroup.events", buf,
			 sizeof(buf)) >= 0)
		st_diag("%s: %s", cg->path, buf);
	if (!ckpt_cg_procs(cg, &pids, &n)) {
		for (i = 0; i < n; i++) {
			snprintf(path, sizeof(path), "/proc/%d/wchan", pids[i]);
			if (ckpt_read_file(path, wchan, sizeof(wchan)) < 0)
				wchan[0] = '\0';
			if (!ckpt_proc_stat(pids[i], 0, &st))
				st_diag("  pid %d (%s) state %c ppid %d threads %ld wchan %s",
					pids[i], st.comm, st.state, st.ppid,
					st.num_threads, wchan);
			st_dump_task(pids[i]);
		}
		free(pids);
	}
	kids = ckpt_cg_children(cg);
	for (k = kids; k && *k; k++)
		if (!ckpt_cg_sub(&sub, cg, *k))
			st_dump_cgroup(&sub);
	ckpt_strv_free(kids);
}

int st_teardown(void **state)
{
	int i, ret = 0;

	(void)state;
	for (i = ctx.nknobs - 1; i >= 0; i--) {
		if (ckpt_write_file(ctx.knobs[i].path, ctx.knobs[i].old)) {
			st_diag("teardown: cannot restore %s to '%s': %s",
				ctx.knobs[i].path, ctx.knobs[i].old,
				st_errname(errno));
			ret = -1;
		}
	}
	ctx.nknobs = 0;
	/* Closing the fds ends the sessions, so the cgroups can thaw. */
	for (i = 0; i < ctx.nfds; i++)
		close(ctx.fds[i]);
	ctx.nfds = 0;
	for (i = 0; i < ctx.npids; i++)
		kill(ctx.pids[i], SIGKILL);
	ctx.npids = 0;
	/* Both hierarchies first: a v1-frozen task dies only once thawed. */
	for (i = 0; i < 2; i++)
		if (ctx.top[i])
			ckpt_cg_kill_thaw_tree(ctx.top[i]);
	for (i = 0; i < 2; i++) {
		if (ctx.top[i] && ckpt_cg_destroy(ctx.top[i], 60000)) {
			st_diag("teardown: cannot remove %s: %s",
				ctx.top[i]->path, st_errname(errno));
			st_dump_cgroup(ctx.top[i]);
			ret = -1;
		}
		ctx.top[i] = NULL;
	}
	for (i = 0; i < ctx.ncgs; i++)
		free(ctx.cgs[i]);
	ctx.ncgs = 0;
	if (st_reap_all(60000))
		ret = -1;
	for (i = ctx.nmounts - 1; i >= 0; i--) {
		if (umount2(ctx.mounts[i], MNT_DETACH) && errno != EINVAL)
			st_diag("teardown: umount %s: %s", ctx.mounts[i],
				st_errname(errno));
		rmdir(ctx.mounts[i]);
	}
	ctx.nmounts = 0;
	if (ctx.cpus_ok && sched_setaffinity(0, sizeof(ctx.cpus), &ctx.cpus)) {
		st_diag("teardown: cannot restore the runner's CPU affinity: %s",
			st_errname(errno));
		ret = -1;
	}
	alarm(0);
	return ret;
}

/* ---- main -------------------------------------------------------------------------------- */

static const struct st_group *const st_groups[] = {
	&st_group_input,
	&st_group_session,
	&st_group_guard,
	&st_group_scan,
	&st_group_scanfail,
	&st_group_regs,
	&st_group_thread,
	&st_group_mm,
	&st_group_pages,
	&st_group_scale,
	&st_group_modlife,	/* last: it unloads and reloads ckpt.ko */
};

static bool st_selected(const struct st_group *g, const char *test,
			char **pats, int npats)
{
	char full[256];
	int i;

	if (!npats)
		return true;
	snprintf(full, sizeof(full), "%s/%s", g->name, test);
	for (i = 0; i < npats; i++) {
		const char *p = pats[i];

		if (!strcmp(p, g->name))
			return true;
		if (strchr(p, '/')) {
			if (!fnmatch(p, full, 0))
				return true;
		} else if (strpbrk(p, "*?[")) {
			if (!fnmatch(p, test, 0))
				return true;
		} else if (strstr(test, p)) {
			return true;
		}
	}
	return false;
}

static void st_make_base(bool v1)
{
	const char *mnt = v1 ? ckpt_freezer_mount() : ckpt_cgroup2_mount();
	struct ckpt_cg root;
	char name[64];

	if (!ckpt_is_cgroupfs(mnt, v1)) {
		printf("# no cgroup %s hierarchy at %s\n", v1 ? "v1" : "v2", mnt);
		return;
	}
	snprintf(name, sizeof(name), "ckpt-selftests.%d", getpid());
	if (ckpt_cg_init(&root, mnt, v1) ||
	    ckpt_cg_mkdir(&st_base[v1], &root, name)) {
		printf("# cannot create a cgroup below %s: %s\n", mnt,
		       st_errname(errno));
		return;
	}
	st_base_ok[v1] = true;
}

int main(int argc, char **argv)
{
	struct CMUnitTest *sel;
	bool list = false;
	int i, npats = 0, failed = 0;
	size_t g, t, n;
	char **pats;

	setvbuf(stdout, NULL, _IOLBF, 0);
	pats = calloc(argc, sizeof(*pats));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l"))
			list = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: %s [-l] [GROUP | GROUP/TEST-GLOB | TEST]...\n",
			       argv[0]);
			return 0;
		} else
			pats[npats++] = argv[i];
	}
	if (list) {
		for (g = 0; g < ARRAY_SIZE(st_groups); g++)
			for (t = 0; t < st_groups[g]->n; t++)
				if (st_selected(st_groups[g],
						st_groups[g]->tests[t].name,
						pats, npats))
					printf("%s/%s\n", st_groups[g]->name,
					       st_groups[g]->tests[t].name);
		return 0;
	}

	signal(SIGPIPE, SIG_IGN);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0))
		perror("PR_SET_CHILD_SUBREAPER");
	st_shm = mmap(NULL, sizeof(*st_shm), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st_shm == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	st_make_base(false);
	st_make_base(true);

	for (g = 0; g < ARRAY_SIZE(st_groups); g++) {
		const struct st_group *grp = st_groups[g];

		sel = calloc(grp->n, sizeof(*sel));
		for (t = n = 0; t < grp->n; t++)
			if (st_selected(grp, grp->tests[t].name, pats, npats))
				sel[n++] = grp->tests[t];
		if (n)
			failed += _cmocka_run_group_tests(grp->name, sel, n,
							  NULL, NULL) != 0;
		free(sel);
	}

	for (i = 0; i < 2; i++)
		if (st_base_ok[i] && ckpt_cg_destroy(&st_base[i], 30000))
			printf("# cannot remove %s: %s\n", st_base[i].path,
			       st_errname(errno));
	return failed ? 1 : 0;
}

/* A page-aligned buffer of @size bytes followed by an inaccessible page. */
void *st_guarded(size_t size)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (size + pg - 1) / pg * pg;
	char *p = mmap(NULL, len + pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		st_fail("mmap: %s", st_errname(errno));
	ST_OK(mprotect(p + len, pg, PROT_NONE));
	return p + len - size;	/* ends right at the guard page */
}
