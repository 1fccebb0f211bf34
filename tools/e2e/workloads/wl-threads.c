// SPDX-License-Identifier: GPL-2.0
/*
 * wl-threads: N threads parked with known register values (x86-64).
 *
 *   wl-threads TRUTH READY RESULT [N]      (N threads besides main, default 4)
 *
 * Each thread loads known constants into rbx, r12-r15 and xmm0 (low
 * quadword; the high one is 0), then loops on a raw futex(FUTEX_WAIT_PRIVATE)
 * syscall issued from the same asm block, so these registers are live in
 * user mode when the thread enters the kernel and are what a dump must
 * record (syscall only clobbers rax, rcx and r11).  On SIGUSR1 the main
 * thread sets each thread's wake word and FUTEX_WAKEs it; the thread leaves
 * the loop, stores the registers it still holds, and the main thread checks
 * them (so a verification ends the threads: it can be done once).
 *
 * Signal masks: every thread blocks SIGUSR1/SIGTERM/SIGINT (the main thread
 * takes them with sigwaitinfo); thread i also blocks SIGRTMIN+i, and odd
 * threads SIGUSR2 too.  The truth lists each tid, its registers (and
 * orig_ax = 202, futex) and its blocked mask (bit n-1 = signal n).
 */
#include "wl-common.h"

#include <pthread.h>
#include <linux/futex.h>

#define MAXT 32

struct park {
	uint64_t c[6];		/* 0: rbx r12 r13 r14 r15 xmm0 */
	uint64_t out[6];	/* 48: what the thread held after waking */
	int *wake;		/* 96 */
	int wake_word;
	pid_t tid;
	uint64_t sigmask;
	int started;
	pthread_t th;
};
_Static_assert(__builtin_offsetof(struct park, out) == 48, "asm offsets");
_Static_assert(__builtin_offsetof(struct park, wake) == 96, "asm offsets");
static struct park parks[MAXT];
static int nthreads = 4;
static bool verified;

static uint64_t mask_of(const sigset_t *s)
{
	uint64_t m = 0;

	for (int sig = 1; sig <= 64; sig++)
		if (sigismember(s, sig) == 1)
			m |= 1ULL << (sig - 1);
	return m;
}

static void *thread_main(void *arg)
{
	struct park *p = arg;
	int i = (int)(p - parks);
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN + i);
	if (i & 1)
		sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &s);
	p->sigmask = mask_of(&s);
	p->tid = (pid_t)syscall(SYS_gettid);
	p->wake = &p->wake_word;
	__atomic_store_n(&p->started, 1, __ATOMIC_RELEASE);

	asm volatile(
		"mov 0(%[p]), %%rbx\n\t"
		"mov 8(%[p]), %%r12\n\t"
		"mov 16(%[p]), %%r13\n\t"
		"mov 24(%[p]), %%r14\n\t"
		"mov 32(%[p]), %%r15\n\t"
		"movq 40(%[p]), %%xmm0\n\t"
		"1:\n\t"
		"mov $202, %%eax\n\t"		/* futex */
		"mov 96(%[p]), %%rdi\n\t"	/* uaddr */
		"mov $128, %%esi\n\t"		/* FUTEX_WAIT_PRIVATE */
		"xor %%edx, %%edx\n\t"		/* val 0 */
		"xor %%r10d, %%r10d\n\t"	/* no timeout */
		"syscall\n\t"
		"mov 96(%[p]), %%rdi\n\t"
		"cmpl $0, (%%rdi)\n\t"
		"je 1b\n\t"
		"mov %%rbx, 48(%[p])\n\t"
		"mov %%r12, 56(%[p])\n\t"
		"mov %%r13, 64(%[p])\n\t"
		"mov %%r14, 72(%[p])\n\t"
		"mov %%r15, 80(%[p])\n\t"
		"movq %%xmm0, 88(%[p])\n\t"
		:
		: [p] "r"(p)
		: "rax", "rcx", "rdx", "rsi", "rdi", "r10", "r11", "rbx", "r12", "r13", "r14",
		  "r15", "xmm0", "memory", "cc");
	return NULL;
}

static const char *const names[6] = { "rbx", "r12", "r13", "r14", "r15", "xmm0" };

static void verify(void)
{
	if (verified) {
		wl_broken("threads already verified (and ended) by an earlier SIGUSR1");
		return;
	}
	verified = true;
	for (int i = 0; i < nthreads; i++) {
		__atomic_store_n(&parks[i].wake_word, 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, &parks[i].wake_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(parks[i].th, NULL);
		for (int r = 0; r < 6; r++)
			if (parks[i].out[r] != parks[i].c[r])
				wl_broken("thread %d: %s is 0x%llx, expected 0x%llx", (int)parks[i].tid,
					  names[r], (unsigned long long)parks[i].out[r],
					  (unsigned long long)parks[i].c[r]);
	}
}

int main(int argc, char **argv)
{
	pid_t tids[MAXT + 1];
	sigset_t s;

	wl_init("threads", argc, argv, 0);
	if (argc > 4) {
		nthreads = atoi(argv[4]);
		if (nthreads < 1 || nthreads > MAXT)
			wl_die("N must be 1..%d", MAXT);
	}
	for (int i = 0; i < nthreads; i++) {
		for (int r = 0; r < 6; r++)
			parks[i].c[r] = 0x1111111111111111ULL * (unsigned)(r + 1) + ((uint64_t)i << 56) +
					0xC0DE00 + i;
		if (pthread_create(&parks[i].th, NULL, thread_main, &parks[i]))
			wl_die("pthread_create");
	}
	for (int i = 0; i < nthreads; i++)
		while (!__atomic_load_n(&parks[i].started, __ATOMIC_ACQUIRE))
			usleep(1000);
	/* let each one reach its futex wait */
	for (int i = 0; i < nthreads; i++) {
		char path[64], st = 0;
		FILE *f;

		for (int tries = 0; tries < 500 && st != 'S'; tries++) {
			snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)parks[i].tid);
			f = fopen(path, "r");
			if (f) {
				if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
					st = 0;
				fclose(f);
			}
			if (st != 'S')
				usleep(2000);
		}
		if (st != 'S')
			wl_die("thread %d never went to sleep", (int)parks[i].tid);
	}

	tids[0] = getpid();
	for (int i = 0; i < nthreads; i++)
		tids[i + 1] = parks[i].tid;
	wl_truth_open();
	wl_t(",\n  \"processes\": [");
	wl_truth_process(true, getpid(), getppid(), tids, nthreads + 1);
	wl_t("\n  ],\n  \"threads\": [");
	pthread_sigmask(SIG_BLOCK, NULL, &s);
	wl_t("\n    {\"tid\": %d, \"sigmask\": \"0x%llx\"}", (int)getpid(),
	     (unsigned long long)mask_of(&s));
	for (int i = 0; i < nthreads; i++) {
		wl_t(",\n    {\"tid\": %d, \"sigmask\": \"0x%llx\", \"orig_ax\": 202, \"regs\": {",
		     (int)parks[i].tid, (unsigned long long)parks[i].sigmask);
		for (int r = 0; r < 6; r++)
			wl_t("%s\"%s\": \"0x%llx\"", r ? ", " : "", names[r],
			     (unsigned long long)parks[i].c[r]);
		wl_t("}}");
	}
	wl_t("\n  ]");
	wl_truth_close();
	wl_ready();
	wl_park(verify, wl_result_path, false);
}
