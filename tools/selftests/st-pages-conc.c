// SPDX-License-Identifier: GPL-2.0
/*
 * st-pages-conc.c: CKPT_IOC_PAGES (group "pages") with something else
 * going on: parallel calls on one file, a caller killed in a long call,
 * O_APPEND set on its fd meanwhile, and a range whose faults a
 * userfaultfd handler serves (running, then frozen).
 */
#include <pthread.h>
#include <linux/userfaultfd.h>
#include "st-pages.h"

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
void pages_parallel(void **state)
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

/*
 * A child of the runner that writes 256 MiB of its own memory (at @mem,
 * mapped but never touched) with @c into a new file in /tmp, in one call:
 * its pid, once the file holds 4 MiB (in the middle of the call), the
 * child has ended or 60 s have passed; *@size: the file size then.
 */
static pid_t long_call(struct perm *c, uint8_t **mem, uint64_t *size,
		       int *status)
{
	uint64_t deadline;
	pid_t pid;

	*mem = mmap(NULL, 256 * MiB, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	c->dev = st_dev();
	c->fd = tmp_file("/tmp");
	ST_CHECK(*mem != MAP_FAILED);
	c->addr = (uintptr_t)*mem;
	memset(st_shm->res, 0, sizeof(st_shm->res));
	fflush(stdout);
	pid = fork();
	ST_CHECK(pid >= 0, "fork: %s", st_errname(errno));
	if (pid == 0)
		_exit(sig_child(c));
	st_track_pid(pid);
	deadline = ckpt_now_ms() + 60000;
	while ((*size = file_size(c->fd)) < 4 * MiB && ckpt_now_ms() < deadline &&
	       waitpid(pid, status, WNOHANG) == 0)
		;
	return pid;
}

/* A caller SIGKILLed in a long call dies promptly (EINTR inside). */
void pages_fatal_signal(void **state)
{
	struct perm c = { 0 };
	struct ckpt_page_range r[1];
	uint64_t t0, size = 0;
	uint8_t *mem;
	int status;
	pid_t pid;

	(void)state;
	/* Kill it once the file has grown, i.e. in the middle of the call. */
	pid = long_call(&c, &mem, &size, &status);
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
void pages_append_meanwhile(void **state)
{
	struct perm c = { 0 };
	uint64_t size = 0;
	uint8_t *mem;
	int status;
	pid_t pid;

	(void)state;
	pid = long_call(&c, &mem, &size, &status);
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
void pages_userfaultfd(void **state)
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
