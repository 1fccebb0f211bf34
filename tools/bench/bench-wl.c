// SPDX-License-Identifier: GPL-2.0
/*
 * bench-wl: the benchmark's workloads (tools/bench/README).  Each sets up its
 * state, creates READY, then parks in pause() until killed.
 *
 *   bench-wl READY mem MIB            MIB MiB of anonymous memory, every
 *                                     page written (dirty, distinct data)
 *   bench-wl READY sparse MIB PCT     MIB MiB mapped, PCT% of its pages
 *                                     written (spread evenly; MADV_NOHUGEPAGE,
 *                                     or THP would make every page present)
 *   bench-wl READY dirty MIB          as mem, then, once READY, rewrites one
 *                                     word of every page in a loop forever:
 *                                     every page is dirty again at a freeze
 *   bench-wl READY maps N             N separate 2-page anonymous mappings
 *                                     (alternating protections so that the
 *                                     kernel cannot merge them), all written
 *   bench-wl READY tree SHAPE N       N tasks in all: SHAPE fan (a fan of
 *                                     fans of processes), chain (each
 *                                     process forks the next), or mix
 *                                     (a fan of fans of processes with 3
 *                                     extra threads each, N/4 processes)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static int ready_pipe[2];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void park(void)
{
	for (;;)
		pause();
}

static void *thread_park(void *arg)
{
	(void)arg;
	park();
	return NULL;
}

static void fill(char *p, size_t len, size_t step, uint64_t seed)
{
	for (size_t off = 0; off < len; off += step) {
		uint64_t *w = (uint64_t *)(p + off);

		for (int i = 0; i < 8; i++)	/* 64 bytes per page: distinct data */
			w[i] = (off + i) * 0x9E3779B97F4A7C15ull ^ seed;
	}
}

static void *map_anon(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("bench-wl: mmap");
	return p;
}

/* A task of the tree: @extra_threads more threads, then report and park. */
static void tree_task(int extra_threads)
{
	pthread_t t;
	char c = 1;

	for (int i = 0; i < extra_threads; i++)
		if (pthread_create(&t, NULL, thread_park, NULL))
			die("bench-wl: pthread_create");
	if (write(ready_pipe[1], &c, 1) != 1)
		die("bench-wl: write");
	close(ready_pipe[0]);
	close(ready_pipe[1]);
	park();
}

static pid_t spawn(int extra_threads)
{
	pid_t c = fork();

	if (c < 0)
		die("bench-wl: fork");
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		tree_task(extra_threads);
	}
	return c;
}

/* Builds the tree; returns the number of reports to wait for. */
static long build_tree(const char *shape, long n)
{
	long procs, fan, per, extra, spawned = 0;
	int threads = 0;

	if (!strcmp(shape, "chain")) {
		/* pid 1 of the chain is us; each child forks the next. */
		for (long i = 1; i < n; i++) {
			pid_t c = fork();

			if (c < 0)
				die("bench-wl: fork");
			if (c > 0) {
				char b = 1;

				if (write(ready_pipe[1], &b, 1) != 1)
					die("bench-wl: write");
				if (i > 1) {
					close(ready_pipe[0]);
					close(ready_pipe[1]);
					park();
				}
				return n - 1;	/* the root (i == 1) waits */
			}
			prctl(PR_SET_PDEATHSIG, SIGKILL);
		}
		close(ready_pipe[0]);
		close(ready_pipe[1]);
		park();	/* the last one */
	}
	if (!strcmp(shape, "mix"))
		threads = 3;
	else if (strcmp(shape, "fan"))
		return -1;
	procs = n / (threads + 1);
	/* the root's own extra threads */
	for (int i = 0; i < threads; i++) {
		pthread_t t;

		if (pthread_create(&t, NULL, thread_park, NULL))
			die("bench-wl: pthread_create");
	}
	for (fan = 1; fan * fan < procs; fan++)
		;
	fan = fan < procs - 1 ? fan : procs - 1;
	per = fan ? (procs - 1 - fan) / fan : 0;
	extra = fan ? (procs - 1 - fan) % fan : 0;
	for (long i = 0; i < fan; i++) {
		pid_t c = fork();

		if (c < 0)
			die("bench-wl: fork");
		if (c == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (long j = 0; j < per + (i < extra); j++)
				spawn(threads);
			tree_task(threads);
		}
		spawned += 1 + per + (i < extra);
	}
	return spawned;
}

int main(int argc, char **argv)
{
	const char *ready, *mode;
	char *dirty = NULL;
	size_t dirty_len = 0;
	long waits = 0;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-wl READY mem MIB | dirty MIB | sparse MIB PCT | maps N | tree fan|chain|mix N\n");
		return 2;
	}
	ready = argv[1];
	mode = argv[2];
	if (pipe(ready_pipe))
		die("bench-wl: pipe");
	if (!strcmp(mode, "mem") && argc == 4) {
		size_t len = (size_t)atol(argv[3]) << 20;

		fill(map_anon(len, PROT_READ | PROT_WRITE), len, 4096, 1);
	} else if (!strcmp(mode, "dirty") && argc == 4) {
		dirty_len = (size_t)atol(argv[3]) << 20;
		dirty = map_anon(dirty_len, PROT_READ | PROT_WRITE);
		fill(dirty, dirty_len, 4096, 3);
	} else if (!strcmp(mode, "sparse") && argc == 5) {
		size_t len = (size_t)atol(argv[3]) << 20;
		long pct = atol(argv[4]);
		char *p = map_anon(len, PROT_READ | PROT_WRITE);

		if (pct <= 0 || pct > 100)
			return 2;
		/* small pages: with THP one touched page would fault in 2 MiB */
		if (madvise(p, len, MADV_NOHUGEPAGE))
			die("bench-wl: madvise");
		/* every (100/pct)-th page */
		fill(p, len, 4096 * (100 / pct), 2);
	} else if (!strcmp(mode, "maps") && argc == 4) {
		long n = atol(argv[3]);

		for (long i = 0; i < n; i++) {
			char *p = map_anon(8192, PROT_READ | PROT_WRITE);

			fill(p, 8192, 4096, (uint64_t)i);
			if ((i & 1) && mprotect(p, 8192, PROT_READ))
				die("bench-wl: mprotect");
		}
	} else if (!strcmp(mode, "tree") && argc == 5) {
		long n = atol(argv[4]);

		if (n < 2)
			return 2;
		waits = build_tree(argv[3], n);
		if (waits < 0) {
			fprintf(stderr, "bench-wl: unknown tree shape %s\n", argv[3]);
			return 2;
		}
	} else {
		fprintf(stderr, "bench-wl: bad arguments\n");
		return 2;
	}
	for (long got = 0; got < waits;) {
		char buf[4096];
		ssize_t r = read(ready_pipe[0], buf,
				 (size_t)(waits - got) < sizeof(buf) ? (size_t)(waits - got) : sizeof(buf));

		if (r <= 0)
			die("bench-wl: read");
		got += r;
	}
	close(ready_pipe[0]);
	close(ready_pipe[1]);
	fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, "ready\n", 6) != 6 || close(fd))
		die("bench-wl: ready file");
	for (uint64_t gen = 1; dirty; gen++)	/* dirty: never returns */
		for (size_t off = 0; off < dirty_len; off += 4096)
			*(volatile uint64_t *)(dirty + off) = gen;
	park();
}
