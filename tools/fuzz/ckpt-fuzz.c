// SPDX-License-Identifier: GPL-2.0
/*
 * ckpt-fuzz: a seeded ioctl fuzzer for /dev/ckpt.  Runs in the test VM as
 * root with ckpt.ko loaded (tools/fuzz/run-in-vm.sh).
 *
 *   ckpt-fuzz [--seed N] [--calls N] [--threads N] [--procs N] [--unload]
 *
 * Worker threads issue random and boundary ioctls (command numbers, sizes,
 * flags, reserved fields, pointers, cgroup fds, pids, pidfds) on a shared
 * pool of /dev/ckpt fds that are reopened and dup'ed under them.  Session
 * children (--procs) do the same on their own fds and are SIGKILLed at
 * random moments.  Background threads kill tasks of one frozen v2 tree
 * (respawning it), write freezer.state / cgroup.freeze / cgroup.procs, and
 * the workers try to unload the module now and then.
 *
 * PAGES writes only into this run's scratch files: each worker's own file on
 * a 16 MiB tmpfs mounted for the run (opened read-write, write-only,
 * read-only, O_APPEND and O_DIRECT), or an fd that is not a regular file or
 * not open (a pipe, a directory, /dev/ckpt, closed numbers); a garbage
 * struct gets one of those too.  Its ranges point into the fuzzer's own
 * memory (which the workload trees share as forks: its text, the shared
 * stats page), into memory that is not mapped, or are malformed; its target
 * is a pid, or with CKPT_PAGES_PIDFD a pidfd (of the fuzzer, of the trees)
 * or an fd that is none.  The struct is passed at its VER0 size (32: no
 * @hash), at its VER1 size (40) and at other sizes (33..39 pass only the
 * low bytes of @hash).  With CKPT_PAGES_XXH64 and/or a @hash, the state it
 * points to (in a page of the worker's own, before a guard page) starts a
 * new hash, continues the worker's chain (the state the last successful
 * hashed call stored), or is an arbitrary valid state, a state with a bad
 * len, or it is NULL, read-only (the copy back fails), unmapped or straddles
 * the guard page.
 *
 * Checked ("invariant checks", counted in the summary line):
 *   - every ioctl returns 0 or -1 with an errno documented for it in
 *     Documentation/abi.md; where the result is certain (unknown command,
 *     short size, bad pointer, nonzero tail) the exact errno;
 *   - INFO and SCAN results are coherent (abi_version, count vs capacity,
 *     err_reason matching the errno, the root record first);
 *   - PAGES, in abi.md's order: the argument rules give EINVAL (EFAULT for
 *     an unreadable ranges array); then EBADF or EINVAL for a bad fd,
 *     EBADF for a pidfd that is none; on the fuzzer itself, EFAULT for
 *     unmapped memory, otherwise success (or ENOSPC from the scratch file
 *     system), and then the file holds exactly the pages; the argument is
 *     never written back;
 *   - PAGES' hash state (CKPT_PAGES_XXH64), between the ranges and the fd
 *     checks as ckpt_pages() orders them: the flag without @hash or @hash
 *     without the flag EINVAL, an unreadable state EFAULT, a len that is
 *     not a multiple of 32 EINVAL; then an fd not open for reading EBADF;
 *     a state that cannot be written back EFAULT after the write.  A failed
 *     call leaves the state as it was.  A successful hashed call (any
 *     target) stored len = len in + bytes written and the XXH64 (libxxhash,
 *     seed 0) of what the scratch file holds (pread): the one-shot XXH64 of
 *     the written range for a new hash, of the concatenation of everything
 *     the chain wrote for a continued one, and for every state (arbitrary
 *     ones too) the len, accumulators and digest libxxhash reaches from
 *     the state passed in;
 *   - INFO at VER2 size: vmas_flags 0, pages_flags what setup read (with
 *     CKPT_PAGES_PIDFD, within CKPT_PAGES_FLAGS);
 *   - freezer writes and migrations give 0 or EBUSY;
 *   - delete_module fails with EWOULDBLOCK/EBUSY while fds are open;
 *   - at the end, with every fd closed: v1 freezer.state is not
 *     CHECKPOINTING and refreezes to FROZEN, v2 cgroup.freeze accepts a
 *     write, a fresh BEGIN/END works on each frozen cgroup, and (--unload)
 *     the module unloads.
 * With --threads 1 --procs 0 the call sequence depends only on the seed
 * (its hash is printed); the results may still vary with timing.
 *
 * This file: the globals, reporting, setup and teardown, the end checks, the
 * summary and main.  The rest: fz-gen.c (argument generation), fz-pages.c
 * (PAGES generation and verification), fz-ioctl.c (one call and the
 * workers), fz-bg.c (session children and background threads); shared
 * declarations in fz-internal.h.
 */
#include <stdarg.h>
#include <sys/mount.h>
#include "fz-internal.h"

struct shared *sh;
uint64_t seed, max_calls = 20000;
int nprocs = 2;
static int nthreads = 4, do_unload;
long page;

struct ckpt_cg cg_a, cg_k, cg_t, cg_f;
static struct ckpt_cg cg_top, cg_ftop;
struct fz_tree ta, tt, tf;
struct fz_tree tk;			/* replaced by the killer */
pthread_mutex_t tk_lock = PTHREAD_MUTEX_INITIALIZER;
int slots[NSLOT];
uint32_t xstate_size;

/* fd pools, filled at setup */
int cgfds[20], ncgfds;
int pidfds[10], npidfds;
uint8_t *ro_page, *guard_page;
/* PAGES' scratch file system and fds that are not regular files */
char scratch_dir[64];
static int scratch_mounted;
int pipe_fds[2] = { -1, -1 }, scratch_dirfd = -1;
int self_pidfd = -1;		/* a pidfd of the fuzzer process */
pid_t fuzzer_pid;
uint64_t pages_offered;		/* CKPT_IOC_INFO's pages_flags */

/* ---- reporting (no stdio locks: also used in forked children) ---------- */

void out(const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(1, buf, n) < 0)
		return;
}

void check(bool ok, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	uint64_t nf;

	if (ok) {
		__atomic_fetch_add(&sh->passed, 1, __ATOMIC_RELAXED);
		return;
	}
	nf = __atomic_fetch_add(&sh->failed, 1, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (nf < 50)
		out("ckpt-fuzz: FAIL (seed %llu, call %llu, pid %d): %s\n",
		    (unsigned long long)seed,
		    (unsigned long long)__atomic_load_n(&sh->calls, __ATOMIC_RELAXED),
		    (int)getpid(), buf);
	if (nf == 0)
		snprintf(sh->first_fail, sizeof(sh->first_fail), "%s", buf);
}

/* ---- setup and end checks ------------------------------------------------ */

static void die(const char *what)
{
	out("ckpt-fuzz: setup failed: %s: %s\n", what, fz_errname(errno));
	out("ckpt-fuzz: 0 passed, 1 failed\n");
	exit(1);
}

static void setup(void)
{
	struct ckpt_info info;

	if (fz_cg_make(&cg_top, false, "ckpt-fuzz"))
		die("mkdir v2 ckpt-fuzz");
	if (ckpt_cg_mkdir(&cg_a, &cg_top, "a") || ckpt_cg_mkdir(&cg_k, &cg_top, "k") ||
	    ckpt_cg_mkdir(&cg_t, &cg_top, "t"))
		die("mkdir v2 children");
	if (fz_cg_make(&cg_ftop, true, "ckpt-fuzz") ||
	    ckpt_cg_mkdir(&cg_f, &cg_ftop, "f"))
		die("mkdir v1 freezer cgroups");
	if (fz_tree_spawn(&cg_a, 4, 2, &ta) || fz_tree_spawn(&cg_k, 6, 1, &tk) ||
	    fz_tree_spawn(&cg_t, 2, 0, &tt) || fz_tree_spawn(&cg_f, 3, 1, &tf))
		die("spawn trees");
	if (fz_cg_freeze(&cg_a, 30000) || fz_cg_freeze(&cg_k, 30000) ||
	    fz_cg_freeze(&cg_f, 30000))
		die("freeze");

	for (int i = 0; i < NSLOT; i++) {
		slots[i] = ckpt_dev_open();
		if (slots[i] < 0)
			die("open /dev/ckpt");
	}
	if (ckpt_ioc_info(slots[0], &info))
		die("CKPT_IOC_INFO");
	xstate_size = info.xstate_size;
	pages_offered = info.pages_flags;
	check((pages_offered & CKPT_PAGES_PIDFD) && !(pages_offered & ~CKPT_PAGES_FLAGS),
	      "INFO: pages_flags %#llx", (unsigned long long)pages_offered);
	out("ckpt-fuzz: PAGES flags offered %#llx%s\n", (unsigned long long)pages_offered,
	    pages_offered & CKPT_PAGES_XXH64 ? "" :
	    " (no CKPT_PAGES_XXH64: hashed calls must fail with EINVAL)");

	/* cgroup fds: real and bogus */
	cgfds[ncgfds++] = ckpt_cg_open(&cg_a);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_a);
	cgfds[ncgfds++] = open(cg_a.path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_k);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_k);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_f);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_f);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_t);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_top);
	cgfds[ncgfds++] = ckpt_cg_open(&cg_ftop);
	cgfds[ncgfds++] = open(ckpt_cgroup2_mount(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cgfds[ncgfds++] = open("/proc/version", O_RDONLY | O_CLOEXEC);
	cgfds[ncgfds++] = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	{
		char p[PATH_MAX];

		if (ckpt_cg_file(&cg_a, "cgroup.procs", p, sizeof(p)))
			die("path");
		cgfds[ncgfds++] = open(p, O_RDONLY | O_CLOEXEC);
	}
	cgfds[ncgfds++] = slots[0];
	cgfds[ncgfds++] = 1000;		/* a closed fd number */
	cgfds[ncgfds++] = -1;
	cgfds[ncgfds++] = 0x7fffffff;
	cgfds[ncgfds++] = 0;
	for (int i = 0; i < ncgfds; i++)
		if (cgfds[i] < 0 && i < 14)
			die("open a cgroup fd");
	close(1000);

	pidfds[npidfds++] = ckpt_pidfd_open(ta.root, 0);
	pidfds[npidfds++] = ckpt_pidfd_open(ta.root, 0);
	pidfds[npidfds++] = ckpt_pidfd_open(tf.root, 0);
	pidfds[npidfds++] = ckpt_pidfd_open(tk.root, 0);	/* goes stale */
	pidfds[npidfds++] = ckpt_pidfd_open(ta.kids[0], 0);
	pidfds[npidfds++] = cgfds[11];		/* a regular file */
	pidfds[npidfds++] = cgfds[0];		/* a cgroup dir */
	pidfds[npidfds++] = 1000;
	pidfds[npidfds++] = -1;
	for (int i = 0; i < 5; i++)
		if (pidfds[i] < 0)
			die("pidfd_open");

	page = sysconf(_SC_PAGESIZE);
	ro_page = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ro_page == MAP_FAILED)
		die("mmap");
	memset(ro_page, 0, page);
	mprotect(ro_page, page, PROT_READ);
	guard_page = ro_page + page;
	mprotect(guard_page, page, PROT_NONE);

	/* PAGES writes only here: a 16 MiB tmpfs of this run. */
	snprintf(scratch_dir, sizeof(scratch_dir), "/run/ckpt-fuzz-scratch.%d",
		 (int)getpid());
	if (mkdir(scratch_dir, 0700) && errno != EEXIST)
		die("mkdir the scratch directory");
	if (mount("tmpfs", scratch_dir, "tmpfs", 0, "size=16m,mode=0700"))
		die("mount a 16 MiB tmpfs for PAGES' scratch files");
	scratch_mounted = 1;
	scratch_dirfd = open(scratch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (scratch_dirfd < 0 || pipe2(pipe_fds, O_CLOEXEC))
		die("scratch fds");
	fuzzer_pid = getpid();
	self_pidfd = ckpt_pidfd_open(fuzzer_pid, 0);
	if (self_pidfd < 0)
		die("pidfd_open(self)");
}

static void scratch_teardown(void)
{
	close(self_pidfd);
	close(scratch_dirfd);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	if (scratch_mounted && umount2(scratch_dir, MNT_DETACH))
		out("ckpt-fuzz: umount %s: %s\n", scratch_dir, fz_errname(errno));
	rmdir(scratch_dir);
}

/* BEGIN + SCAN + END on @cg with @root must work on a fresh fd. */
static void end_check_session(const struct ckpt_cg *cg, pid_t root)
{
	int fd = ckpt_dev_open(), cgfd = ckpt_cg_open(cg), r = -1;
	uint64_t deadline = ckpt_now_ms() + 20000;
	struct ckpt_task *recs = NULL;
	uint32_t n = 0;

	for (;;) {
		r = ckpt_ioc_begin(fd, cgfd, root, 0);
		if (!r || errno != EAGAIN || ckpt_now_ms() > deadline)
			break;
		ckpt_sleep_ms(10);
	}
	check(r == 0, "end: BEGIN on %s: %s", cg->path, fz_errname(errno));
	if (!r) {
		r = ckpt_scan_all(fd, &recs, &n, NULL);
		check(r == 0 && n >= 1, "end: SCAN on %s: %s", cg->path,
		      fz_errname(errno));
		free(recs);
		check(ckpt_ioc_end(fd) == 0, "end: END on %s: %s", cg->path,
		      fz_errname(errno));
	}
	close(fd);
	close(cgfd);
}

static void end_checks(void)
{
	char buf[64];

	char num[24];

	for (int i = 0; i < NSLOT; i++)
		close(slots[i]);
	snprintf(num, sizeof(num), "%d", ta.kids[2]);
	check(ckpt_cg_write(&cg_a, "cgroup.procs", num) == 0,
	      "end: move %s back into a: %s", num, fz_errname(errno));
	/* v1: not left CHECKPOINTING, and it refreezes */
	check(ckpt_cg_read(&cg_f, "freezer.state", buf, sizeof(buf)) > 0 &&
	      !strstr(buf, "CHECKPOINTING"),
	      "end: v1 freezer.state reads %s", buf);
	check(ckpt_cg_freeze(&cg_f, 20000) == 0 &&
	      ckpt_cg_read(&cg_f, "freezer.state", buf, sizeof(buf)) > 0 &&
	      !strcmp(buf, "FROZEN\n"),
	      "end: v1 refreeze: %s, state %s", fz_errname(errno), buf);
	/* v2: writes work (no EBUSY), and the cgroups are frozen */
	check(ckpt_cg_write(&cg_a, "cgroup.freeze", "1") == 0,
	      "end: write a/cgroup.freeze: %s", fz_errname(errno));
	check(ckpt_cg_write(&cg_k, "cgroup.freeze", "1") == 0,
	      "end: write k/cgroup.freeze: %s", fz_errname(errno));
	check(ckpt_cg_freeze(&cg_a, 20000) == 0, "end: a frozen: %s",
	      fz_errname(errno));
	end_check_session(&cg_a, ta.root);
	end_check_session(&cg_f, tf.root);
}

static void print_summary(uint64_t hash)
{
	out("ckpt-fuzz: %llu ioctl calls, %llu other ops (reopen/dup/unload), seed %llu\n",
	    (unsigned long long)sh->calls, (unsigned long long)sh->other_ops,
	    (unsigned long long)seed);
	if (nthreads == 1 && nprocs == 0)
		out("ckpt-fuzz: call sequence hash %016llx\n",
		    (unsigned long long)hash);
	out("ckpt-fuzz: PAGES XXH64: %llu hashed calls checked against libxxhash "
	    "(%llu new, %llu continuing a chain, longest %llu calls, %llu from an "
	    "arbitrary state; %llu MiB), %llu refused for the state or fd as predicted\n",
	    (unsigned long long)sh->hashed, (unsigned long long)sh->hashed_new,
	    (unsigned long long)sh->hashed_chain, (unsigned long long)sh->chain_max,
	    (unsigned long long)sh->hashed_arb,
	    (unsigned long long)(sh->hashed_bytes >> 20),
	    (unsigned long long)sh->hash_refused);
	for (int c = 0; c < NHIST; c++) {
		char line[1024];
		int n = snprintf(line, sizeof(line), "ckpt-fuzz:   %-6s", cmd_names[c]);

		for (int e = 0; e < MAXERR; e++)
			if (sh->hist[c][e] && n < (int)sizeof(line) - 40)
				n += snprintf(line + n, sizeof(line) - n, " %s=%llu",
					      fz_errname(e),
					      (unsigned long long)sh->hist[c][e]);
		out("%s\n", line);
	}
}

int main(int argc, char **argv)
{
	pthread_t th[64], bg[4];
	struct worker *ws;
	int nbg = 0;
	bool have_seed = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--seed") && v) {
			seed = strtoull(v, NULL, 0);
			have_seed = true;
			i++;
		} else if (!strcmp(a, "--calls") && v) {
			max_calls = strtoull(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--threads") && v) {
			nthreads = atoi(v);
			i++;
		} else if (!strcmp(a, "--procs") && v) {
			nprocs = atoi(v);
			i++;
		} else if (!strcmp(a, "--unload")) {
			do_unload = 1;
		} else {
			fprintf(stderr, "usage: %s [--seed N] [--calls N] [--threads N] "
				"[--procs N] [--unload]\n", argv[0]);
			return 2;
		}
	}
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > 64)
		nthreads = 64;
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec * 1000003ULL) ^ (uint64_t)ts.tv_nsec ^
		       ((uint64_t)getpid() << 32);
		seed &= 0xffffffffffffULL;
	}
	out("ckpt-fuzz: seed %llu (replay: --seed %llu --calls %llu --threads %d --procs %d)\n",
	    (unsigned long long)seed, (unsigned long long)seed,
	    (unsigned long long)max_calls, nthreads, nprocs);

	page = sysconf(_SC_PAGESIZE);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setup();

	uint64_t t0 = ckpt_now_ms();

	pthread_create(&bg[nbg++], NULL, reaper_main, NULL);
	if (nthreads > 1) {
		pthread_create(&bg[nbg++], NULL, killer_main, NULL);
		pthread_create(&bg[nbg++], NULL, writer_main, NULL);
	}
	if (nprocs > 0)
		pthread_create(&bg[nbg++], NULL, procs_main, NULL);

	ws = calloc(nthreads, sizeof(*ws));
	for (int i = 0; i < nthreads; i++)
		worker_setup(&ws[i], i);
	for (int i = 1; i < nthreads; i++)
		pthread_create(&th[i], NULL, worker_main, &ws[i]);
	worker_main(&ws[0]);
	for (int i = 1; i < nthreads; i++)
		pthread_join(th[i], NULL);
	/* background threads stop on the call count; the reaper on stop */
	for (int i = 1; i < nbg; i++)
		pthread_join(bg[i], NULL);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(bg[0], NULL);
	fz_reap();
	out("ckpt-fuzz: %llu calls in %llu ms\n", (unsigned long long)sh->calls,
	    (unsigned long long)(ckpt_now_ms() - t0));

	end_checks();

	/* tear down the workloads */
	fz_cg_empty(&cg_a, 5000);
	fz_cg_empty(&cg_k, 5000);
	fz_cg_empty(&cg_t, 5000);
	fz_cg_empty(&cg_f, 5000);
	fz_reap();
	for (int i = 0; i < ncgfds; i++)
		if (i != 14 && cgfds[i] > 2 && cgfds[i] != 1000 && cgfds[i] != 0x7fffffff)
			close(cgfds[i]);
	for (int i = 0; i < 5; i++)
		close(pidfds[i]);
	for (int i = 0; i < nthreads; i++)
		worker_close(&ws[i]);
	scratch_teardown();
	ckpt_cg_destroy(&cg_top, 10000);
	ckpt_cg_destroy(&cg_ftop, 10000);
	if (do_unload) {
		int r = fz_delete_module();

		check(r == 0, "end: delete_module(ckpt) with every fd closed: %s",
		      fz_errname(errno));
	}
	print_summary(ws[0].hash);
	if (sh->failed)
		out("ckpt-fuzz: first failure: %s\n", sh->first_fail);
	out("ckpt-fuzz: %llu passed, %llu failed\n",
	    (unsigned long long)sh->passed, (unsigned long long)sh->failed);
	return sh->failed ? 1 : 0;
}
