/* SPDX-License-Identifier: GPL-2.0 */
/*
 * st.h: the framework of the ckpt.ko selftests (cmocka, TAP output).
 *
 * Every test runs between st_setup() and st_teardown().  Whatever a test
 * creates through the st_* helpers is tracked and torn down afterwards,
 * also when an assertion failed half-way: open fds are closed first (which
 * ends any session), then tracked processes are SIGKILLed, the test's
 * cgroups are killed, thawed and removed, and every child of the runner is
 * reaped.  The runner is a child subreaper, so orphaned workload processes
 * come back to it.
 *
 * Workloads are processes forked by st_spawn(): the child blocks on a
 * pipe until the runner has moved it into its cgroup, then builds its
 * subtree.  Workload code runs in the children and must not use cmocka:
 * it reports through the shared memory page st_shm (WL_CHECK on failure).
 */
#ifndef CKPT_ST_H
#define CKPT_ST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/wait.h>

#include "ckpt-util.h"

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

/* Generous: the VM is emulated (TCG). */
#define ST_TIMEOUT_MS		120000

/* ---- shared memory between the runner and its workloads ----------------- */

#define ST_MAX_REP		512

/* What a workload task says about itself (getpid() etc. in its own pid ns). */
struct st_rep {
	int role;		/* test-defined */
	int idx;		/* test-defined */
	pid_t pid, ppid, pgid, sid, tid;
	pid_t aux;		/* e.g. a child's pid as fork() returned it */
	uint64_t val;		/* e.g. a register value */
};

struct st_shm {
	int ready;			/* workload tasks that are set up */
	int fail_line;			/* WL_CHECK failure: line, errno */
	int fail_errno;
	int nrep;
	int flag;			/* test-defined */
	volatile uint64_t counter[8];	/* progress counters */
	struct st_rep rep[ST_MAX_REP];
	/* The outcome of a call made by a helper child (st_run_child). */
	struct {
		int ret, err;
		struct ckpt_scan scan;
		struct ckpt_regs regs;
	} res[4];
};

extern struct st_shm *st_shm;

/* ---- assertions ------------------------------------------------------------ */

void st_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void st_fail_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
const char *st_errname(int err);

#define st_fail(...)	st_fail_at(__FILE__, __LINE__, __VA_ARGS__)

#define ST_CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			st_fail("check '" #cond "' failed: " __VA_ARGS__); \
	} while (0)

/* @expr (a syscall-like call) must succeed: returns its value. */
#define ST_OK(expr)							\
	({								\
		long _r;						\
		errno = 0;						\
		_r = (long)(expr);					\
		if (_r < 0)						\
			st_fail("%s failed: %s", #expr, st_errname(errno)); \
		_r;							\
	})

/* @expr must fail with exactly @err. */
#define ST_ERR(expr, err)						\
	do {								\
		long _r;						\
		int _e;							\
		errno = 0;						\
		_r = (long)(expr);					\
		_e = errno;						\
		if (_r != -1 || _e != (err))				\
			st_fail("%s: expected -1/%s, got %ld/%s", #expr, \
				st_errname(err), _r,			\
				_r == -1 ? st_errname(_e) : "no error"); \
	} while (0)

#define ST_EQ(a, b)							\
	do {								\
		long long _a = (long long)(a), _b = (long long)(b);	\
		if (_a != _b)						\
			st_fail("%s == %s: %lld (%#llx) != %lld (%#llx)", \
				#a, #b, _a, _a, _b, _b);		\
	} while (0)

/* ---- workload side (runs in forked children, no cmocka) ------------------- */

void st_wl_fail(int line, int err) __attribute__((noreturn));
#define WL_CHECK(cond)							\
	do {								\
		if (!(cond))						\
			st_wl_fail(__LINE__, errno);			\
	} while (0)

typedef void (*st_fn)(void *arg);

void st_ready(void);				/* one more task is set up */
void st_idle(void) __attribute__((noreturn));	/* pause() forever */
void st_report(int role, int idx, pid_t aux, uint64_t val);
pid_t st_wl_fork(st_fn fn, void *arg);		/* fork; child runs fn, idles */
pid_t st_gettid(void);
/* A thread that runs @fn (which must not return) or idles if NULL. */
void st_wl_thread(void *(*fn)(void *), void *arg);
void st_wl_counter(void *arg) __attribute__((noreturn)); /* counter[(long)arg]++ */
void st_wl_idle(void *arg) __attribute__((noreturn));	/* st_idle() */
void st_wl_exit(void *arg) __attribute__((noreturn));	/* _exit(0) */

/* ---- runner side ------------------------------------------------------------ */

int st_setup(void **state);
int st_teardown(void **state);
#define ST_TEST(fn)	cmocka_unit_test_setup_teardown(fn, st_setup, st_teardown)

/* This test's cgroup @name (v1: on the freezer hierarchy), created. */
struct ckpt_cg *st_cg_new(bool v1, const char *name);
/* The test's top cgroup on that hierarchy (the parent of st_cg_new ones). */
struct ckpt_cg *st_cg_top(bool v1);
struct ckpt_cg *st_cg_child(const struct ckpt_cg *parent, const char *name);
void st_freeze(const struct ckpt_cg *cg);
void st_thaw(const struct ckpt_cg *cg);
int st_cg_fd(const struct ckpt_cg *cg);		/* tracked O_DIRECTORY fd */
bool st_in_cgroup(pid_t tid, const struct ckpt_cg *cg);

int st_track_fd(int fd);
void st_close(int fd);				/* close a tracked fd */
void st_track_pid(pid_t pid);
void st_track_mount(const char *path);
/* Write @value to a sysctl/sysfs file; the old value returns at teardown. */
void st_set_knob(const char *path, const char *value);

int st_dev(void);				/* tracked /dev/ckpt fd */
int st_begin(const struct ckpt_cg *cg, pid_t root);	/* new fd + BEGIN */

/* Fork a workload: moved into @cg (if any) before it runs @fn. */
pid_t st_spawn(const struct ckpt_cg *cg, st_fn fn, void *arg);
void st_wait_ready(int n);
void st_wait_state(pid_t pid, pid_t tid, char state);
const struct st_rep *st_find_rep(int role, int idx);
char st_state(pid_t pid, pid_t tid);
void st_dump_task(pid_t tid);			/* /proc details, as diagnostics */
uint64_t st_counter(int i);
void st_expect_counter_stuck(int i, unsigned int ms);
void st_expect_counter_moves(int i);

/* Run @fn in a forked child and return its exit status (or -1). */
int st_run_child(int (*fn)(void *arg), void *arg);
/* In a child: become @uid/@gid, keeping only the capabilities in @caps. */
int st_drop_privs(uid_t uid, gid_t gid, const int *caps, int ncaps);

/* A root process with @nkids idle children, in @cg, frozen. */
pid_t st_simple_tree(const struct ckpt_cg *cg, int nkids);
/* A workload root with one zombie child (role 1, idx 0: aux is its pid). */
void st_wl_zombie_root(void *arg) __attribute__((noreturn));
/* The pid of a child that has exited and been reaped: names no task. */
pid_t st_reaped_pid(void);
/* @base (an ioctl command) with the argument size @size instead. */
unsigned long st_ioc_sized(unsigned long base, unsigned int size);
/* @size bytes ending right before an inaccessible (PROT_NONE) page. */
void *st_guarded(size_t size);

/* ---- truth from /proc and scan checks (st-truth.c) ------------------------ */

struct st_ttask {
	pid_t tid, tgid;		/* numbers of this /proc (the caller's) */
	pid_t ppid, pgid, sid;
	char state;
	bool leader;
	uint32_t depth;
	pid_t nspid[8];
	int nns;
	bool matched;
};

struct st_truth {
	struct st_ttask *t;
	size_t n, cap;
	pid_t root;
	int level;			/* root's pid ns below the caller's */
};

void st_truth_collect(pid_t root, struct st_truth *tr);
void st_truth_free(struct st_truth *tr);
pid_t st_map_pid(pid_t host, int level);
/* Scan with @fd and compare every record with the truth from /proc. */
struct ckpt_task *st_scan_check(int fd, pid_t root, uint32_t *count);
void st_check_records(const struct ckpt_task *r, uint32_t n,
		      const struct st_truth *tr);
void st_check_order(const struct ckpt_task *r, uint32_t n);
const struct ckpt_task *st_find_rec(const struct ckpt_task *r, uint32_t n,
				    pid_t vpid);

/* ---- groups ---------------------------------------------------------------- */

struct st_group {
	const char *name;
	const struct CMUnitTest *tests;
	size_t n;
};

extern const struct st_group st_group_input, st_group_session,
	st_group_guard, st_group_scan, st_group_scanfail, st_group_regs,
	st_group_scale, st_group_modlife, st_group_thread, st_group_mm,
	st_group_pages;

#endif /* CKPT_ST_H */
