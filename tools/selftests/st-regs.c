// SPDX-License-Identifier: GPL-2.0
/*
 * st-regs.c: CKPT_IOC_REGS (group "regs").
 *
 * A thread loads known values into its general registers, xmm0 and (with
 * AVX) ymm1, then spins in "1: jmp 1b" without touching them.  The freezer
 * interrupts it there; REGS must return exactly those values, an ip at the
 * loop, orig_ax -1 (interrupted, not in a system call) and the fs_base the
 * thread read with arch_prctl(ARCH_GET_FS) before it started spinning.
 */
#include <asm/prctl.h>
#include <cpuid.h>
#include "st.h"

/* ---- the spinning thread ---------------------------------------------------------- */

#define V_AX	0x1111111111111111ULL
#define V_BX	0x2222222222222222ULL
#define V_CX	0x3333333333333333ULL
#define V_DX	0x4444444444444444ULL
#define V_BP	0x5555555555555555ULL
#define V_R8	0x0808080808080808ULL
#define V_R9	0x0909090909090909ULL
#define V_R10	0x1010101010101010ULL
#define V_R11	0x1111000011110000ULL
#define V_R12	0x1212121212121212ULL
#define V_R13	0x1313131313131313ULL
#define V_R14	0x1414141414141414ULL
#define V_R15	0xfedcba9876543210ULL

#define STR_(x)	#x
#define STR(x)	STR_(x)

__attribute__((visibility("hidden"), aligned(16)))
const uint8_t st_xmm0_val[16] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
__attribute__((visibility("hidden"), aligned(32)))
const uint8_t st_ymm1_val[32] = {
	0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
	0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
	0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7,
	0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
};

/* st_spin(int avx, int *flag): load, set *flag = 1, spin forever. */
void st_spin(int avx, int *flag) __attribute__((noreturn));
extern const char st_spin_loop[];

asm(
"	.text\n"
"	.globl	st_spin\n"
"	.hidden	st_spin\n"
"	.type	st_spin, @function\n"
"st_spin:\n"
"	movdqu	st_xmm0_val(%rip), %xmm0\n"
"	testl	%edi, %edi\n"
"	jz	1f\n"
"	vmovdqu	st_ymm1_val(%rip), %ymm1\n"
"1:\n"
"	movabsq	$" STR(V_AX) ", %rax\n"
"	movabsq	$" STR(V_BX) ", %rbx\n"
"	movabsq	$" STR(V_CX) ", %rcx\n"
"	movabsq	$" STR(V_DX) ", %rdx\n"
"	movabsq	$" STR(V_BP) ", %rbp\n"
"	movabsq	$" STR(V_R8) ", %r8\n"
"	movabsq	$" STR(V_R9) ", %r9\n"
"	movabsq	$" STR(V_R10) ", %r10\n"
"	movabsq	$" STR(V_R11) ", %r11\n"
"	movabsq	$" STR(V_R12) ", %r12\n"
"	movabsq	$" STR(V_R13) ", %r13\n"
"	movabsq	$" STR(V_R14) ", %r14\n"
"	movabsq	$" STR(V_R15) ", %r15\n"
"	movl	$1, (%rsi)\n"
"	.globl	st_spin_loop\n"
"	.hidden	st_spin_loop\n"
"st_spin_loop:\n"
"	jmp	st_spin_loop\n"
"	.size	st_spin, .-st_spin\n"
);

enum { R_SPIN = 1, R_MAIN };

static bool have_avx(void)
{
	unsigned int a, b, c, d, lo, hi;

	__cpuid(1, a, b, c, d);
	if (!(c & bit_AVX) || !(c & bit_OSXSAVE))
		return false;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (lo & 6) == 6;
}

static void *spin_thread(void *arg)
{
	unsigned long fs = 0;
	int local;

	WL_CHECK(!syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
	st_report(R_SPIN, 0, 0, fs);
	st_report(R_SPIN, 1, 0, (uintptr_t)&local);
	st_spin((int)(long)arg, &st_shm->flag);
}

static void spinner_fn(void *arg)
{
	unsigned long fs = 0;

	WL_CHECK(!syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
	st_wl_thread(spin_thread, arg);
	st_report(R_MAIN, 0, 0, fs);
	st_ready();
	for (;;)
		syscall(SYS_pause);
}

struct spinner {
	struct ckpt_cg *cg;
	pid_t pid, tid;
	int fd;
	bool avx;
};

static void spinner(struct spinner *s, bool v1)
{
	uint64_t deadline = ckpt_now_ms() + ST_TIMEOUT_MS;

	s->avx = have_avx();
	s->cg = st_cg_new(v1, "c");
	s->pid = st_spawn(s->cg, spinner_fn, (void *)(long)s->avx);
	st_wait_ready(1);
	while (!__atomic_load_n(&st_shm->flag, __ATOMIC_SEQ_CST)) {
		if (ckpt_now_ms() > deadline)
			st_fail("the spinning thread did not start");
		ckpt_sleep_ms(2);
	}
	s->tid = st_find_rep(R_SPIN, 0)->tid;
	ST_EQ(st_state(s->pid, s->tid), 'R');	/* spinning */
	st_freeze(s->cg);
	s->fd = st_begin(s->cg, s->pid);
}

static void check_spinner_gp(const struct ckpt_gpregs *gp)
{
	int64_t dsp;

	ST_EQ(gp->ip, (uintptr_t)st_spin_loop);
	ST_EQ(gp->ax, V_AX);
	ST_EQ(gp->bx, V_BX);
	ST_EQ(gp->cx, V_CX);
	ST_EQ(gp->dx, V_DX);
	ST_EQ(gp->bp, V_BP);
	ST_EQ(gp->r8, V_R8);
	ST_EQ(gp->r9, V_R9);
	ST_EQ(gp->r10, V_R10);
	ST_EQ(gp->r11, V_R11);
	ST_EQ(gp->r12, V_R12);
	ST_EQ(gp->r13, V_R13);
	ST_EQ(gp->r14, V_R14);
	ST_EQ(gp->r15, V_R15);
	ST_EQ(gp->si, (uintptr_t)&st_shm->flag);
	ST_EQ(gp->orig_ax, (uint64_t)-1);	/* interrupted in user mode */
	ST_EQ(gp->cs, 0x33);			/* __USER_CS */
	ST_EQ(gp->ss, 0x2b);			/* __USER_DS */
	ST_EQ(gp->flags & 0x200, 0x200);	/* IF */
	ST_EQ(gp->fs_base, st_find_rep(R_SPIN, 0)->val);
	ST_CHECK(gp->fs_base != 0);
	ST_EQ(gp->gs_base, 0);
	/* sp: on the thread's stack, near a local of spin_thread() */
	dsp = (int64_t)(gp->sp - st_find_rep(R_SPIN, 1)->val);
	ST_CHECK(dsp > -4096 && dsp < 4096, "sp %#llx, a local at %#llx",
		 (unsigned long long)gp->sp,
		 (unsigned long long)st_find_rep(R_SPIN, 1)->val);
}

static void regs_gp(bool v1)
{
	struct spinner s;
	struct ckpt_regs r;

	spinner(&s, v1);
	memset(&r, 0xa5, sizeof(r));
	ST_OK(ckpt_ioc_regs(s.fd, s.tid, CKPT_REGS_GP, NULL, 0, &r));
	check_spinner_gp(&r.gp);
	ST_EQ(r.gp.di, s.avx);
	/* Again: the same (nothing ran). */
	{
		struct ckpt_regs r2;

		ST_OK(ckpt_ioc_regs(s.fd, s.tid, CKPT_REGS_GP, NULL, 0, &r2));
		ST_EQ(memcmp(&r.gp, &r2.gp, sizeof(r.gp)), 0);
	}
	/* The main thread sleeps in pause(): a system call, interrupted. */
	ST_OK(ckpt_ioc_regs(s.fd, s.pid, CKPT_REGS_GP, NULL, 0, &r));
	ST_EQ(r.gp.orig_ax, SYS_pause);
	ST_EQ(r.gp.cs, 0x33);
	ST_EQ(r.gp.fs_base, st_find_rep(R_MAIN, 0)->val);
	ST_CHECK(r.gp.fs_base != st_find_rep(R_SPIN, 0)->val,
		 "both threads have the same fs_base");
	/* After the session: the thread runs on, unchanged. */
	ST_OK(ckpt_ioc_end(s.fd));
	st_thaw(s.cg);
	ckpt_sleep_ms(50);
	st_freeze(s.cg);
	ST_OK(ckpt_ioc_begin(s.fd, st_cg_fd(s.cg), s.pid, 0));
	ST_OK(ckpt_ioc_regs(s.fd, s.tid, CKPT_REGS_GP, NULL, 0, &r));
	check_spinner_gp(&r.gp);
}

static void regs_gp_v2(void **state)
{
	(void)state;
	regs_gp(false);
}

static void regs_gp_v1(void **state)
{
	(void)state;
	regs_gp(true);
}

static void regs_xstate(bool v1)
{
	unsigned int a, b, c, d;
	struct ckpt_info info;
	struct ckpt_regs r;
	struct spinner s;
	uint64_t xstate_bv;
	uint8_t *buf;

	spinner(&s, v1);
	ST_OK(ckpt_ioc_info(s.fd, &info));
	ST_CHECK(info.xstate_size >= 576, "xstate_size %u", info.xstate_size);
	buf = calloc(1, info.xstate_size + 64);
	ST_CHECK(buf != NULL);
	memset(buf, 0xa5, info.xstate_size + 64);
	ST_OK(ckpt_ioc_regs(s.fd, s.tid, CKPT_REGS_XSTATE | CKPT_REGS_GP, buf,
			    info.xstate_size + 64, &r));
	ST_EQ(r.xstate_size, info.xstate_size);
	check_spinner_gp(&r.gp);
	ST_EQ(buf[info.xstate_size], 0xa5);	/* nothing written past it */
	/* The legacy region: xmm0 at 160; the XSAVE header at 512. */
	if (memcmp(buf + 160, st_xmm0_val, 16))
		st_fail("xmm0 in the XSAVE area is not the value loaded");
	memcpy(&xstate_bv, buf + 512, 8);
	ST_EQ(xstate_bv & 2, 2);			/* SSE state present */
	if (s.avx) {
		/* ymm1: low half at xmm1, high half in the YMM component. */
		__cpuid_count(0xd, 2, a, b, c, d);
		ST_EQ(xstate_bv & 4, 4);
		ST_CHECK(b + 32 <= info.xstate_size);
		if (memcmp(buf + 160 + 16, st_ymm1_val, 16))
			st_fail("xmm1 (low ymm1) is not the value loaded");
		if (memcmp(buf + b + 16, st_ymm1_val + 16, 16))
			st_fail("the high half of ymm1 is not the value loaded");
	} else {
		st_diag("no AVX in this CPU: ymm not checked");
	}
	free(buf);
}

static void regs_xstate_v2(void **state)
{
	(void)state;
	regs_xstate(false);
}

static void regs_xstate_v1(void **state)
{
	(void)state;
	regs_xstate(true);
}

/* A too small buffer: ENOSPC, with the size needed, nothing written. */
static void regs_xstate_enospc(void **state)
{
	struct ckpt_info info;
	struct ckpt_regs r;
	struct spinner s;
	uint8_t *buf;
	uint32_t i;

	(void)state;
	spinner(&s, false);
	ST_OK(ckpt_ioc_info(s.fd, &info));
	ST_ERR(ckpt_ioc_regs(s.fd, s.tid, CKPT_REGS_XSTATE, NULL, 0, &r), ENOSPC);
	ST_EQ(r.xstate_size, info.xstate_size);
	buf = malloc(info.xstate_size);
	ST_CHECK(buf != NULL);
	memset(buf, 0xa5, info.xstate_size);
	ST_ERR(ckpt_ioc_regs(s.fd, s.tid, CKPT_REGS_XSTATE, buf,
			     info.xstate_size - 1, &r), ENOSPC);
	ST_EQ(r.xstate_size, info.xstate_size);
	ST_ERR(ckpt_ioc_regs(s.fd, s.tid, CKPT_REGS_XSTATE | CKPT_REGS_GP, buf,
			     512, &r), ENOSPC);
	ST_EQ(r.xstate_size, info.xstate_size);
	for (i = 0; i < info.xstate_size; i++)
		ST_EQ(buf[i], 0xa5);
	/* The size it said is enough. */
	ST_OK(ckpt_ioc_regs(s.fd, s.tid, CKPT_REGS_XSTATE, buf,
			    r.xstate_size, &r));
	ST_EQ(r.xstate_size, info.xstate_size);
	free(buf);
}

/* ---- threads REGS refuses ---------------------------------------------------------------- */

static void regs_outside_tree(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	struct ckpt_cg *out = st_cg_new(false, "out");
	pid_t root = st_simple_tree(cg, 1), other, o;
	struct ckpt_regs r;
	int fd;

	(void)state;
	/* Another tree in the same frozen cgroup, and a task elsewhere. */
	other = st_spawn(cg, st_wl_idle, NULL);
	o = st_spawn(out, st_wl_idle, NULL);
	st_freeze(cg);
	fd = st_begin(cg, root);
	ST_ERR(ckpt_ioc_regs(fd, other, CKPT_REGS_GP, NULL, 0, &r), EXDEV);
	ST_ERR(ckpt_ioc_regs(fd, o, CKPT_REGS_GP, NULL, 0, &r), EXDEV);
	ST_ERR(ckpt_ioc_regs(fd, getpid(), CKPT_REGS_GP, NULL, 0, &r), EXDEV);
	ST_ERR(ckpt_ioc_regs(fd, 1, CKPT_REGS_GP, NULL, 0, &r), EXDEV);
	ST_OK(ckpt_ioc_regs(fd, root, CKPT_REGS_GP, NULL, 0, &r));
}

static void zombie_root(void *arg)
{
	(void)arg;
	st_report(R_MAIN, 0, st_wl_fork(st_wl_exit, NULL), 0);
	st_ready();
	st_idle();
}

static void regs_zombie(void **state)
{
	struct ckpt_cg *cg = st_cg_new(false, "c");
	pid_t root = st_spawn(cg, zombie_root, NULL), z;
	struct ckpt_regs r;
	int fd;

	(void)state;
	st_wait_ready(1);
	z = st_find_rep(R_MAIN, 0)->aux;
	st_wait_state(z, 0, 'Z');
	st_freeze(cg);
	fd = st_begin(cg, root);
	ST_ERR(ckpt_ioc_regs(fd, z, CKPT_REGS_GP, NULL, 0, &r), EAGAIN);
	ST_OK(ckpt_ioc_regs(fd, root, CKPT_REGS_GP, NULL, 0, &r));
}

static const struct CMUnitTest tests[] = {
	ST_TEST(regs_gp_v2),
	ST_TEST(regs_gp_v1),
	ST_TEST(regs_xstate_v2),
	ST_TEST(regs_xstate_v1),
	ST_TEST(regs_xstate_enospc),
	ST_TEST(regs_outside_tree),
	ST_TEST(regs_zombie),
};

const struct st_group st_group_regs = { "regs", tests, ARRAY_SIZE(tests) };
