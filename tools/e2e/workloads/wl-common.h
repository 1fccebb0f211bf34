/* SPDX-License-Identifier: GPL-2.0 */
/*
 * wl-common.h: the frame every end-to-end workload shares (header-only).
 *
 * Command line of every workload:
 *   wl-NAME TRUTH READY RESULT [ARGS...]
 *     TRUTH   the truth file (JSON) the workload writes: what a dump of it
 *             must contain (tools/e2e/README describes the format);
 *     READY   created (containing "ready\n") once TRUTH is complete and the
 *             state is set up; written to READY.tmp and renamed, so a
 *             waiter never sees it half written;
 *     RESULT  written on SIGUSR1 (after a dump and thaw): "intact\n" when
 *             every check passed, otherwise one "BROKEN: ..." line per
 *             problem.  Written to RESULT.tmp and renamed.
 *
 * Signals: SIGUSR1 verifies, SIGTERM/SIGINT end the workload (children
 * included).  They are blocked in every thread and taken by sigwaitinfo()
 * in the main thread, so no work happens in a signal handler and no thread
 * the workload parks elsewhere is disturbed.  A child process of a
 * multi-process workload verifies its own state and writes RESULT.PID; the
 * root forwards SIGUSR1 to each child, waits for their files and folds them
 * into RESULT.
 *
 * Memory patterns: the 8-byte word at address A (or object/file offset A)
 * of a region with seed S holds wl_pat(A, S).  The truth names the seed;
 * tools/e2e/truth-check.py recomputes the expected page bytes from it.
 */
#ifndef WL_COMMON_H
#define WL_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#define WL_PAGE 4096UL

static __attribute__((unused)) const char *wl_name = "wl";
static __attribute__((unused)) const char *wl_truth_path, *wl_ready_path, *wl_result_path;

/* Set-up failures are fatal: the workload cannot promise its truth. */
static __attribute__((unused)) void __attribute__((noreturn, format(printf, 1, 2))) wl_die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	fprintf(stderr, "%s[%d]: ", wl_name, (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e)
		fprintf(stderr, ": %s", strerror(e));
	fputc('\n', stderr);
	exit(1);
}

/* ---- verification report ---------------------------------------------- */
static __attribute__((unused)) char wl_problems[16384];
static __attribute__((unused)) size_t wl_problems_len;
static unsigned wl_nproblems;

static __attribute__((unused)) void __attribute__((format(printf, 1, 2))) wl_broken(const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(wl_problems) - wl_problems_len;
	int n;

	wl_nproblems++;
	if (room < 64)
		return;	/* enough said; the count is still right */
	n = snprintf(wl_problems + wl_problems_len, room, "BROKEN: pid %d: ", (int)getpid());
	if (n > 0 && (size_t)n < room)
		wl_problems_len += n;
	room = sizeof(wl_problems) - wl_problems_len;
	va_start(ap, fmt);
	n = vsnprintf(wl_problems + wl_problems_len, room - 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		wl_problems_len += (size_t)n < room - 1 ? (size_t)n : room - 2;
	wl_problems[wl_problems_len++] = '\n';
	wl_problems[wl_problems_len] = 0;
}

/* Write @text to PATH atomically (PATH.tmp, then rename). */
static __attribute__((unused)) int wl_write_file(const char *path, const char *text)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fputs(text, f);
	if (fclose(f))
		return -1;
	return rename(tmp, path);
}

/* ---- patterns ------------------------------------------------------------ */
static inline uint64_t wl_pat(uint64_t a, uint64_t seed)
{
	return (a * 0x9E3779B97F4A7C15ULL) ^ seed;
}

/* Fill the page at @p with the pattern of address/offset @a. */
static __attribute__((unused)) void wl_fill_page(void *p, uint64_t a, uint64_t seed)
{
	uint64_t *w = p;

	for (unsigned i = 0; i < WL_PAGE / 8; i++)
		w[i] = wl_pat(a + 8 * i, seed);
}

/* First word offset that differs from the pattern, or -1. */
static __attribute__((unused)) long wl_check_page(const void *p, uint64_t a, uint64_t seed)
{
	const uint64_t *w = p;

	for (unsigned i = 0; i < WL_PAGE / 8; i++)
		if (w[i] != wl_pat(a + 8 * i, seed))
			return 8 * i;
	return -1;
}

static __attribute__((unused)) bool wl_page_is_zero(const void *p)
{
	const uint64_t *w = p;

	for (unsigned i = 0; i < WL_PAGE / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* ---- truth file ---------------------------------------------------------- */
static __attribute__((unused)) FILE *wl_truth;
static __attribute__((unused)) char wl_truth_tmp[4096];

static __attribute__((unused)) void wl_truth_open(void)
{
	snprintf(wl_truth_tmp, sizeof(wl_truth_tmp), "%s.tmp", wl_truth_path);
	wl_truth = fopen(wl_truth_tmp, "w");
	if (!wl_truth)
		wl_die("open %s", wl_truth_tmp);
	fprintf(wl_truth, "{\n  \"workload\": \"%s\",\n  \"root_pid\": %d", wl_name, (int)getpid());
}

static __attribute__((unused)) void __attribute__((format(printf, 1, 2))) wl_t(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(wl_truth, fmt, ap);
	va_end(ap);
}

/* A process entry of the "processes" array (call between "[" and "]"). */
static __attribute__((unused)) void wl_truth_process(bool first, pid_t pid, pid_t ppid, const pid_t *tids, int ntids)
{
	wl_t("%s\n    {\"pid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d, \"threads\": [",
	     first ? "" : ",", (int)pid, (int)ppid,
	     (int)getpgid(pid), (int)getsid(pid));
	if (!tids) {
		wl_t("%d", (int)pid);
	} else {
		for (int i = 0; i < ntids; i++)
			wl_t("%s%d", i ? ", " : "", (int)tids[i]);
	}
	wl_t("]}");
}

static __attribute__((unused)) void wl_truth_close(void)
{
	wl_t("\n}\n");
	if (fclose(wl_truth))
		wl_die("write %s", wl_truth_tmp);
	if (rename(wl_truth_tmp, wl_truth_path))
		wl_die("rename %s", wl_truth_tmp);
}

/* ---- the life cycle ------------------------------------------------------- */
static __attribute__((unused)) sigset_t wl_sigs;

static __attribute__((unused)) void wl_block_signals(void)
{
	sigemptyset(&wl_sigs);
	sigaddset(&wl_sigs, SIGUSR1);
	sigaddset(&wl_sigs, SIGTERM);
	sigaddset(&wl_sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &wl_sigs, NULL))
		wl_die("sigprocmask");
}

static __attribute__((unused)) void wl_init(const char *name, int argc, char **argv, int min_extra)
{
	wl_name = name;
	if (argc < 4 + min_extra) {
		fprintf(stderr, "usage: %s TRUTH READY RESULT%s\n", name,
			min_extra ? " ARGS..." : " [ARGS...]");
		exit(2);
	}
	wl_truth_path = argv[1];
	wl_ready_path = argv[2];
	wl_result_path = argv[3];
	wl_block_signals();
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static __attribute__((unused)) void wl_ready(void)
{
	if (wl_write_file(wl_ready_path, "ready\n"))
		wl_die("write %s", wl_ready_path);
}

/* Children of the root that take part in verification. */
static __attribute__((unused)) pid_t wl_kids[64];
static __attribute__((unused)) int wl_nkids;

static __attribute__((unused)) void wl_add_kid(pid_t pid)
{
	if (wl_nkids == (int)(sizeof(wl_kids) / sizeof(wl_kids[0])))
		wl_die("too many children");
	wl_kids[wl_nkids++] = pid;
}

static __attribute__((unused)) void wl_kill_kids(void)
{
	for (int i = 0; i < wl_nkids; i++)
		kill(wl_kids[i], SIGTERM);
	for (int i = 0; i < wl_nkids; i++)
		waitpid(wl_kids[i], NULL, 0);
}

/* The child result file of @pid. */
static __attribute__((unused)) void wl_kid_result_path(char *buf, size_t len, pid_t pid)
{
	snprintf(buf, len, "%s.%d", wl_result_path, (int)pid);
}

/*
 * Forward SIGUSR1 to every child and fold their RESULT.PID files into the
 * report (10 s each at most: a child that does not answer is broken).
 */
static __attribute__((unused)) void wl_collect_kids(void)
{
	char path[4096], buf[4096];

	for (int i = 0; i < wl_nkids; i++) {
		wl_kid_result_path(path, sizeof(path), wl_kids[i]);
		unlink(path);
		if (kill(wl_kids[i], SIGUSR1))
			wl_broken("child %d is gone: %s", (int)wl_kids[i], strerror(errno));
	}
	for (int i = 0; i < wl_nkids; i++) {
		FILE *f = NULL;
		int tries;

		wl_kid_result_path(path, sizeof(path), wl_kids[i]);
		for (tries = 0; tries < 1000 && !(f = fopen(path, "r")); tries++)
			usleep(10000);
		if (!f) {
			wl_broken("child %d wrote no result", (int)wl_kids[i]);
			continue;
		}
		while (fgets(buf, sizeof(buf), f)) {
			if (!strcmp(buf, "intact\n"))
				continue;
			buf[strcspn(buf, "\n")] = 0;
			/* already "BROKEN: pid N: ..." */
			wl_nproblems++;
			if (wl_problems_len + strlen(buf) + 2 < sizeof(wl_problems)) {
				wl_problems_len += sprintf(wl_problems + wl_problems_len, "%s\n", buf);
			}
		}
		fclose(f);
		unlink(path);
	}
}

/*
 * Park until SIGTERM; on SIGUSR1 run @verify (which calls wl_broken()) and
 * write the result to @result (the root's RESULT, or RESULT.PID in a child).
 * With @kids, the children's results are folded in.
 */
static __attribute__((unused)) void __attribute__((noreturn)) wl_park(void (*verify)(void), const char *result, bool kids)
{
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&wl_sigs, &si);

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			wl_die("sigwaitinfo");
		}
		if (sig == SIGUSR1) {
			wl_problems_len = 0;
			wl_problems[0] = 0;
			wl_nproblems = 0;
			if (verify)
				verify();
			if (kids)
				wl_collect_kids();
			if (wl_write_file(result, wl_nproblems ? wl_problems : "intact\n"))
				wl_die("write %s", result);
			continue;
		}
		if (kids)
			wl_kill_kids();
		exit(0);
	}
}

/* In a forked child: its own result file name, then park. */
static __attribute__((unused)) void __attribute__((noreturn)) wl_park_child(void (*verify)(void))
{
	static char path[4096];

	wl_kid_result_path(path, sizeof(path), getpid());
	wl_park(verify, path, false);
}

/* Create a temporary file under $WL_TMPDIR (default /tmp): fd, name in @path. */
static __attribute__((unused)) int wl_tmpfile(char *path, size_t len, const char *tag)
{
	const char *dir = getenv("WL_TMPDIR");
	int fd;

	snprintf(path, len, "%s/wl-%s-%d-XXXXXX", dir ? dir : "/tmp", tag, (int)getpid());
	fd = mkstemp(path);
	if (fd < 0)
		wl_die("mkstemp %s", path);
	return fd;
}

static __attribute__((unused)) void wl_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			wl_die("write");
		p += n;
		len -= n;
	}
}

/* Read exactly @len bytes or report what is there; returns bytes read. */
static __attribute__((unused)) size_t wl_read_some(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	return got;
}

/* The "flags" field of /proc/self/fdinfo/FD (octal), or -1. */
static __attribute__((unused)) long wl_fdinfo_flags(int fd)
{
	char path[64], line[256];
	long flags = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "flags: %lo", &flags) == 1)
			break;
	fclose(f);
	return flags;
}

#endif /* WL_COMMON_H */
