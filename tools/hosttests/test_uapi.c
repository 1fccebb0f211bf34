// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI must never change by accident: every offset, size and
 * command number is checked against literal values written down once
 * (Documentation/abi.md), not against the header itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/ckpt.h>

#define OFF(type, field, want) \
	assert_int_equal(offsetof(struct type, field), want)

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct ckpt_info), CKPT_INFO_SIZE_VER2);
	assert_int_equal(sizeof(struct ckpt_begin), CKPT_BEGIN_SIZE_VER0);
	assert_int_equal(sizeof(struct ckpt_end), CKPT_END_SIZE_VER0);
	assert_int_equal(sizeof(struct ckpt_task), CKPT_TASK_SIZE_VER0);
	assert_int_equal(sizeof(struct ckpt_scan), CKPT_SCAN_SIZE_VER0);
	assert_int_equal(sizeof(struct ckpt_regs), CKPT_REGS_SIZE_VER0);
	assert_int_equal(CKPT_INFO_SIZE_VER0, 40);
	assert_int_equal(CKPT_INFO_SIZE_VER1, 64);
	assert_int_equal(CKPT_INFO_SIZE_VER2, 80);
	assert_int_equal(sizeof(struct ckpt_sigaction), CKPT_SIGACTION_SIZE);
	assert_int_equal(sizeof(struct ckpt_sigactions), CKPT_SIGACTIONS_SIZE_VER0);
	assert_int_equal(sizeof(struct ckpt_thread), CKPT_THREAD_SIZE_VER0);
	assert_int_equal(CKPT_SIGACTION_SIZE, 32);
	assert_int_equal(CKPT_SIGACTIONS_SIZE_VER0, 24);
	assert_int_equal(CKPT_THREAD_SIZE_VER0, 128);
	assert_int_equal(sizeof(struct ckpt_vma), CKPT_VMA_SIZE);
	assert_int_equal(sizeof(struct ckpt_vmas), CKPT_VMAS_SIZE_VER0);
	assert_int_equal(CKPT_VMA_SIZE, 64);
	assert_int_equal(CKPT_VMAS_SIZE_VER0, 40);
	assert_int_equal(sizeof(struct ckpt_page_range), CKPT_PAGE_RANGE_SIZE);
	assert_int_equal(sizeof(struct ckpt_pages), CKPT_PAGES_SIZE_VER1);
	assert_int_equal(CKPT_PAGE_RANGE_SIZE, 16);
	assert_int_equal(CKPT_PAGES_SIZE_VER0, 32);
	assert_int_equal(CKPT_PAGES_SIZE_VER1, 40);
	assert_int_equal(sizeof(struct ckpt_pages_xxh64), CKPT_PAGES_XXH64_SIZE);
	assert_int_equal(CKPT_PAGES_XXH64_SIZE, 48);
	assert_int_equal(CKPT_PAGES_MAX_RANGES, 4096);
	assert_true(CKPT_PAGES_MAX_BYTES == 1073741824ULL);
	assert_int_equal(CKPT_BEGIN_SIZE_VER0, 16);
	assert_int_equal(CKPT_END_SIZE_VER0, 8);
	assert_int_equal(CKPT_TASK_SIZE_VER0, 40);
	assert_int_equal(CKPT_SCAN_SIZE_VER0, 32);
	assert_int_equal(CKPT_GPREGS_SIZE, 27 * 8);
	assert_int_equal(CKPT_REGS_SIZE_VER0, 240);
}

static void test_offsets(void **state)
{
	(void)state;
	OFF(ckpt_info, flags, 0);
	OFF(ckpt_info, abi_version, 4);
	OFF(ckpt_info, begin_flags, 8);
	OFF(ckpt_info, scan_flags, 16);
	OFF(ckpt_info, regs_flags, 24);
	OFF(ckpt_info, task_record_size, 32);
	OFF(ckpt_info, xstate_size, 36);
	OFF(ckpt_info, commands, 40);
	OFF(ckpt_info, sigactions_flags, 48);
	OFF(ckpt_info, thread_flags, 56);
	OFF(ckpt_info, vmas_flags, 64);
	OFF(ckpt_info, pages_flags, 72);

	OFF(ckpt_begin, flags, 0);
	OFF(ckpt_begin, cgroup_fd, 4);
	OFF(ckpt_begin, root, 8);
	OFF(ckpt_begin, reserved, 12);

	OFF(ckpt_end, flags, 0);
	OFF(ckpt_end, reserved, 4);

	OFF(ckpt_task, pid, 0);
	OFF(ckpt_task, tgid, 4);
	OFF(ckpt_task, ppid, 8);
	OFF(ckpt_task, pgid, 12);
	OFF(ckpt_task, sid, 16);
	OFF(ckpt_task, vpid, 20);
	OFF(ckpt_task, vtgid, 24);
	OFF(ckpt_task, flags, 28);
	OFF(ckpt_task, depth, 32);
	OFF(ckpt_task, reserved, 36);

	OFF(ckpt_scan, flags, 0);
	OFF(ckpt_scan, capacity, 4);
	OFF(ckpt_scan, records, 8);
	OFF(ckpt_scan, count, 16);
	OFF(ckpt_scan, err_pid, 20);
	OFF(ckpt_scan, err_reason, 24);
	OFF(ckpt_scan, reserved, 28);

	OFF(ckpt_regs, flags, 0);
	OFF(ckpt_regs, tid, 4);
	OFF(ckpt_regs, xstate, 8);
	OFF(ckpt_regs, xstate_size, 16);
	OFF(ckpt_regs, reserved, 20);
	OFF(ckpt_regs, gp, 24);

	OFF(ckpt_sigaction, handler, 0);
	OFF(ckpt_sigaction, flags, 8);
	OFF(ckpt_sigaction, restorer, 16);
	OFF(ckpt_sigaction, mask, 24);

	OFF(ckpt_sigactions, flags, 0);
	OFF(ckpt_sigactions, tid, 4);
	OFF(ckpt_sigactions, actions, 8);
	OFF(ckpt_sigactions, count, 16);
	OFF(ckpt_sigactions, reserved, 20);

	OFF(ckpt_thread, flags, 0);
	OFF(ckpt_thread, tid, 4);
	OFF(ckpt_thread, reserved, 8);
	OFF(ckpt_thread, state, 12);
	OFF(ckpt_thread, sas_ss_sp, 16);
	OFF(ckpt_thread, sas_ss_size, 24);
	OFF(ckpt_thread, sas_ss_flags, 32);
	OFF(ckpt_thread, pdeath_signal, 36);
	OFF(ckpt_thread, clear_child_tid, 40);
	OFF(ckpt_thread, robust_list, 48);
	OFF(ckpt_thread, robust_list_len, 56);
	OFF(ckpt_thread, rseq, 64);
	OFF(ckpt_thread, rseq_len, 72);
	OFF(ckpt_thread, rseq_sig, 76);
	OFF(ckpt_thread, securebits, 80);
	OFF(ckpt_thread, personality, 84);
	OFF(ckpt_thread, timer_slack_ns, 88);
	OFF(ckpt_thread, default_timer_slack_ns, 96);
	OFF(ckpt_thread, blocked, 104);
	OFF(ckpt_thread, pending, 112);
	OFF(ckpt_thread, saved_sigmask, 120);
	OFF(ckpt_vma, start, 0);
	OFF(ckpt_vma, end, 8);
	OFF(ckpt_vma, pgoff, 16);
	OFF(ckpt_vma, flags, 24);
	OFF(ckpt_vma, ino, 32);
	OFF(ckpt_vma, dev_major, 40);
	OFF(ckpt_vma, dev_minor, 44);
	OFF(ckpt_vma, pkey, 48);
	OFF(ckpt_vma, nr_unknown, 52);
	OFF(ckpt_vma, reserved, 56);
	OFF(ckpt_vmas, flags, 0);
	OFF(ckpt_vmas, pid, 4);
	OFF(ckpt_vmas, vmas, 8);
	OFF(ckpt_vmas, count, 16);
	OFF(ckpt_vmas, reserved, 20);
	OFF(ckpt_vmas, start_brk, 24);
	OFF(ckpt_vmas, brk, 32);
	OFF(ckpt_page_range, start, 0);
	OFF(ckpt_page_range, len, 8);
	OFF(ckpt_pages, flags, 0);
	OFF(ckpt_pages, pid, 4);
	OFF(ckpt_pages, fd, 8);
	OFF(ckpt_pages, count, 12);
	OFF(ckpt_pages, ranges, 16);
	OFF(ckpt_pages, offset, 24);
	OFF(ckpt_pages, hash, 32);
	OFF(ckpt_pages_xxh64, len, 0);
	OFF(ckpt_pages_xxh64, acc, 8);
	OFF(ckpt_pages_xxh64, acc[3], 32);
	OFF(ckpt_pages_xxh64, digest, 40);

	/* struct user_regs_struct order: r15 first, gs last, ip at 16*8. */
	OFF(ckpt_gpregs, r15, 0);
	OFF(ckpt_gpregs, orig_ax, 15 * 8);
	OFF(ckpt_gpregs, ip, 16 * 8);
	OFF(ckpt_gpregs, fs_base, 21 * 8);
	OFF(ckpt_gpregs, gs_base, 22 * 8);
	OFF(ckpt_gpregs, gs, 26 * 8);
}

static void test_commands(void **state)
{
	(void)state;
	assert_int_equal(CKPT_IOC_MAGIC, 0xB9);
	assert_int_equal(CKPT_IOC_INFO, _IOC(_IOC_READ | _IOC_WRITE, 0xB9, 0, 80));
	assert_int_equal(CKPT_IOC_INFO, 0xc050b900);
	assert_int_equal(CKPT_IOC_BEGIN, _IOC(_IOC_WRITE, 0xB9, 1, 16));
	assert_int_equal(CKPT_IOC_END, _IOC(_IOC_WRITE, 0xB9, 2, 8));
	assert_int_equal(CKPT_IOC_SCAN, _IOC(_IOC_READ | _IOC_WRITE, 0xB9, 3, 32));
	assert_int_equal(CKPT_IOC_REGS, _IOC(_IOC_READ | _IOC_WRITE, 0xB9, 4, 240));
	assert_int_equal(CKPT_IOC_SIGACTIONS, _IOC(_IOC_READ | _IOC_WRITE, 0xB9, 5, 24));
	assert_int_equal(CKPT_IOC_THREAD, _IOC(_IOC_READ | _IOC_WRITE, 0xB9, 6, 128));
	assert_int_equal(CKPT_IOC_VMAS, _IOC(_IOC_READ | _IOC_WRITE, 0xB9, 7, 40));
	assert_int_equal(CKPT_IOC_PAGES, _IOC(_IOC_WRITE, 0xB9, 8, 40));
	assert_int_equal(CKPT_IOC_PAGES, 0x4028b908);
}

static void test_flag_values(void **state)
{
	(void)state;
	assert_int_equal(CKPT_BEGIN_ROOT_PIDFD, 1);
	assert_int_equal(CKPT_BEGIN_FLAGS, 1);
	assert_int_equal(CKPT_REGS_GP, 1);
	assert_int_equal(CKPT_REGS_XSTATE, 2);
	assert_int_equal(CKPT_TASK_THREAD | CKPT_TASK_LEADER | CKPT_TASK_ZOMBIE |
			 CKPT_TASK_SESSION_LEADER | CKPT_TASK_PIDNS_INIT |
			 CKPT_TASK_ROOT | CKPT_TASK_WORKER, 0x7f);
	assert_int_equal(CKPT_SCAN_ERR_UNSTABLE, 6);
	assert_int_equal(CKPT_THREAD_RESTORE_SIGMASK, 1);
	assert_int_equal(CKPT_THREAD_SIGTIMEDWAIT, 2);
	assert_int_equal(CKPT_SIGACTIONS_NR, 64);
	assert_int_equal(CKPT_CMD_BIT(CKPT_IOC_THREAD), 0x40);
	assert_int_equal(CKPT_CMD_BIT(CKPT_IOC_VMAS), 0x80);
	assert_int_equal(CKPT_CMD_BIT(CKPT_IOC_PAGES), 0x100);
	assert_int_equal(CKPT_PAGES_PIDFD, 1);
	assert_int_equal(CKPT_PAGES_XXH64, 2);
	assert_int_equal(CKPT_PAGES_FLAGS, 3);
	/* smaps' order: the mnemonics' kernel bit numbers on x86_64 6.12 */
	assert_true(CKPT_VMA_READ == 1ULL << 0 && CKPT_VMA_UFFD_MISSING == 1ULL << 9 &&
		    CKPT_VMA_UFFD_WP == 1ULL << 12 && CKPT_VMA_MERGEABLE == 1ULL << 31 &&
		    CKPT_VMA_SHADOW_STACK == 1ULL << 37 && CKPT_VMA_UFFD_MINOR == 1ULL << 38 &&
		    CKPT_VMA_DROPPABLE == 1ULL << 40 && CKPT_VMA_SEALED == 1ULL << 63);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_flag_values),
	};

	return cmocka_run_group_tests_name("uapi", tests, NULL, NULL);
}
