/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ckpt: kernel-assisted checkpointing of a frozen process tree.
 *
 * The ioctl ABI of /dev/ckpt, shared by ckpt.ko, its selftests and the C++
 * userspace.  Documentation/abi.md describes every command, field and errno;
 * this header is the normative definition of the layouts.
 *
 * Conventions (Documentation/driver-api/ioctl.rst, include/uapi/linux/pidfd.h):
 *  - only __u32/__u64 fields, explicit padding, user pointers as __u64;
 *  - every argument struct is size-versioned: the size is the one encoded in
 *    the command number (_IOC_SIZE).  The kernel matches a command by its
 *    type, number and direction only, so a binary built against an older or
 *    newer header keeps working:
 *      size <  CKPT_*_SIZE_VER0           -> EINVAL
 *      size >  what the kernel knows      -> the extra bytes must be zero,
 *                                            otherwise E2BIG
 *  - every struct has a flags field; unknown flags give EINVAL, and so do
 *    nonzero reserved fields;
 *  - an unknown command gives ENOTTY.
 */
#ifndef _UAPI_LINUX_CKPT_H
#define _UAPI_LINUX_CKPT_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define CKPT_DEVICE_NAME	"ckpt"		/* /dev/ckpt */
#define CKPT_ABI_VERSION	1		/* bumped on incompatible change */
#define CKPT_IOC_MAGIC		0xB9

/*
 * CKPT_IOC_INFO: what this module supports.  No session needed.
 */
/*
 * @commands has bit N set when the command with number N (_IOC_NR) is
 * supported, CKPT_CMD_BIT(CKPT_IOC_...).  A module older than
 * CKPT_INFO_SIZE_VER1 does not write the VER1 fields: they keep the zeros
 * the caller put there, which reads as "not supported".
 */
#define CKPT_CMD_BIT(cmd)	(1ULL << _IOC_NR(cmd))

struct ckpt_info {
	__u32 flags;			/* in: must be 0 */
	__u32 abi_version;		/* out: CKPT_ABI_VERSION */
	__u64 begin_flags;		/* out: flags CKPT_IOC_BEGIN accepts */
	__u64 scan_flags;		/* out: flags CKPT_IOC_SCAN accepts */
	__u64 regs_flags;		/* out: flags CKPT_IOC_REGS accepts */
	__u32 task_record_size;		/* out: sizeof(struct ckpt_task) */
	__u32 xstate_size;		/* out: bytes of the XSAVE regset */
	/* CKPT_INFO_SIZE_VER1 */
	__u64 commands;			/* out: CKPT_CMD_BIT() of each command */
	__u64 sigactions_flags;		/* out: flags CKPT_IOC_SIGACTIONS accepts */
	__u64 thread_flags;		/* out: flags CKPT_IOC_THREAD accepts */
	/* CKPT_INFO_SIZE_VER2 */
	__u64 vmas_flags;		/* out: flags CKPT_IOC_VMAS accepts */
	__u64 pages_flags;		/* out: flags CKPT_IOC_PAGES accepts */
};
#define CKPT_INFO_SIZE_VER0	40
#define CKPT_INFO_SIZE_VER1	64
#define CKPT_INFO_SIZE_VER2	80

/*
 * CKPT_IOC_BEGIN: begin a checkpoint session on this open file.
 *
 * @cgroup_fd is an fd of a cgroup directory, either on the cgroup v2
 * hierarchy or on a v1 hierarchy with the freezer controller.  The cgroup
 * must be frozen by its own setting (cgroup.freeze = 1, or freezer.state
 * written FROZEN), and fully frozen.  It then enters CHECKPOINTING: until
 * the session ends nothing can thaw it or move tasks in or out of it.
 *
 * @root names the session's root task: a pid in the caller's pid namespace,
 * or a pidfd with CKPT_BEGIN_ROOT_PIDFD.  It must be in the cgroup (or a
 * descendant of it).
 *
 * Requires CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN.  One session per file.
 */
#define CKPT_BEGIN_ROOT_PIDFD	(1U << 0)	/* @root is a pidfd */
#define CKPT_BEGIN_FLAGS	CKPT_BEGIN_ROOT_PIDFD

struct ckpt_begin {
	__u32 flags;			/* in: CKPT_BEGIN_* */
	__u32 cgroup_fd;		/* in: fd of the cgroup directory */
	__u32 root;			/* in: pid or pidfd of the root task */
	__u32 reserved;			/* in: must be 0 */
};
#define CKPT_BEGIN_SIZE_VER0	16

/*
 * CKPT_IOC_END: end the session of this file; the cgroup returns to FROZEN.
 * Closing the file does the same.
 */
struct ckpt_end {
	__u32 flags;			/* in: must be 0 */
	__u32 reserved;			/* in: must be 0 */
};
#define CKPT_END_SIZE_VER0	8

/*
 * One task of the scanned tree.  Records come in DFS pre-order over
 * processes: a process, then its other threads, then its children's
 * subtrees, so every parent precedes its children.
 *
 * pid/tgid/ppid/pgid/sid are numbers in the root task's pid namespace, as a
 * restore recreates them (0 where the id is not visible there, e.g. the
 * root's own parent).  vpid/vtgid are the same task as seen from the pid
 * namespace of the caller of CKPT_IOC_SCAN, for /proc/VTGID/task/VPID.
 */
#define CKPT_TASK_THREAD	(1U << 0)	/* not the thread-group leader */
#define CKPT_TASK_LEADER	(1U << 1)	/* thread-group leader */
#define CKPT_TASK_ZOMBIE	(1U << 2)	/* exited, not yet reaped */
#define CKPT_TASK_SESSION_LEADER (1U << 3)	/* pid == sid */
#define CKPT_TASK_PIDNS_INIT	(1U << 4)	/* pid 1 of its own pid namespace */
#define CKPT_TASK_ROOT		(1U << 5)	/* the session's root task */
#define CKPT_TASK_WORKER	(1U << 6)	/* kernel worker thread of the
						 * process (io_uring, vhost):
						 * no user state of its own */

struct ckpt_task {
	__u32 pid;
	__u32 tgid;
	__u32 ppid;			/* tgid of the real parent */
	__u32 pgid;
	__u32 sid;
	__u32 vpid;
	__u32 vtgid;
	__u32 flags;			/* CKPT_TASK_* */
	__u32 depth;			/* process depth below the root (0) */
	__u32 reserved;			/* 0 */
};
#define CKPT_TASK_SIZE_VER0	40

/*
 * CKPT_IOC_SCAN: scan the session's tree into @records.
 *
 * @capacity is the number of struct ckpt_task that @records can hold
 * (@records may be 0 when @capacity is 0).  On success @count is the number
 * of records written.  If the tree has more tasks than @capacity the call
 * fails with ENOSPC and sets @count to the number needed.
 *
 * Every task is checked.  When one fails a check the call fails, and
 * @err_pid (caller's pid namespace) and @err_reason name it:
 *   EBUSY   CKPT_SCAN_ERR_NOT_FROZEN   task is not frozen
 *   EBUSY   CKPT_SCAN_ERR_PTRACED      task is traced by someone
 *   EXDEV   CKPT_SCAN_ERR_CGROUP       task is outside the session's cgroup
 *   EPERM   CKPT_SCAN_ERR_ACCESS       caller may not ptrace-read the task
 *   EAGAIN  CKPT_SCAN_ERR_DEAD         task is exiting (or the root died)
 *   EAGAIN  CKPT_SCAN_ERR_UNSTABLE     the tree kept changing while scanned
 * @count, @err_pid and @err_reason are written back on failure too.
 */
#define CKPT_SCAN_ERR_NONE		0
#define CKPT_SCAN_ERR_NOT_FROZEN	1
#define CKPT_SCAN_ERR_PTRACED		2
#define CKPT_SCAN_ERR_CGROUP		3
#define CKPT_SCAN_ERR_ACCESS		4
#define CKPT_SCAN_ERR_DEAD		5
#define CKPT_SCAN_ERR_UNSTABLE		6

struct ckpt_scan {
	__u32 flags;			/* in: must be 0 */
	__u32 capacity;			/* in: records the buffer holds */
	__u64 records;			/* in: struct ckpt_task __user * */
	__u32 count;			/* out: records written / needed */
	__u32 err_pid;			/* out: offending task, or 0 */
	__u32 err_reason;		/* out: CKPT_SCAN_ERR_* */
	__u32 reserved;			/* in: must be 0 */
};
#define CKPT_SCAN_SIZE_VER0	32

/*
 * x86_64 general-purpose registers of a user thread, in the layout of
 * struct user_regs_struct (<sys/user.h>).  fs_base/gs_base are here.
 */
struct ckpt_gpregs {
	__u64 r15, r14, r13, r12, bp, bx, r11, r10;
	__u64 r9, r8, ax, cx, dx, si, di, orig_ax;
	__u64 ip, cs, flags, sp, ss, fs_base, gs_base;
	__u64 ds, es, fs, gs;
};
#define CKPT_GPREGS_SIZE	216

/*
 * CKPT_IOC_REGS: read the saved user registers of one frozen thread of the
 * session's tree, through the kernel's regset interface, without ptrace.
 *
 * @tid is the thread id in the caller's pid namespace (ckpt_task.vpid).
 * CKPT_REGS_GP fills @gp.  CKPT_REGS_XSTATE copies the XSAVE area (the
 * NT_X86_XSTATE regset, as PTRACE_GETREGSET returns it) to @xstate, which
 * holds @xstate_size bytes; @xstate_size is set to the bytes written, or,
 * with ENOSPC, to the size needed.
 */
#define CKPT_REGS_GP		(1U << 0)
#define CKPT_REGS_XSTATE	(1U << 1)
#define CKPT_REGS_FLAGS		(CKPT_REGS_GP | CKPT_REGS_XSTATE)

struct ckpt_regs {
	__u32 flags;			/* in: CKPT_REGS_* */
	__u32 tid;			/* in: thread, caller's pid namespace */
	__u64 xstate;			/* in: void __user *, XSAVE buffer */
	__u32 xstate_size;		/* in: buffer size; out: bytes used */
	__u32 reserved;			/* in: must be 0 */
	struct ckpt_gpregs gp;		/* out */
};
#define CKPT_REGS_SIZE_VER0	(24 + CKPT_GPREGS_SIZE)

/*
 * CKPT_IOC_SIGACTIONS: the signal dispositions of a frozen thread of the
 * session's tree (shared by the threads of a process, and by processes
 * created with CLONE_SIGHAND), one struct ckpt_sigaction per signal
 * 1.._NSIG (64 on x86_64): entry i is signal i + 1.
 *
 * @count is, in, the number of entries @actions can hold; it must be at
 * least CKPT_SIGACTIONS_NR, otherwise the call fails with ENOSPC and sets
 * @count to CKPT_SIGACTIONS_NR.  On success @count is the number of
 * entries written.  Each entry is what rt_sigaction(sig, NULL, &old) would
 * return in the thread: @flags holds SA_* bits only (kernel-internal bits
 * are masked), @mask is the sa_mask sigset (bit N - 1 for signal N).
 */
#define CKPT_SIGACTIONS_NR	64

struct ckpt_sigaction {
	__u64 handler;			/* SIG_DFL (0), SIG_IGN (1) or a pointer */
	__u64 flags;			/* SA_* */
	__u64 restorer;			/* sa_restorer */
	__u64 mask;			/* sa_mask */
};
#define CKPT_SIGACTION_SIZE	32

struct ckpt_sigactions {
	__u32 flags;			/* in: must be 0 */
	__u32 tid;			/* in: thread, caller's pid namespace */
	__u64 actions;			/* in: struct ckpt_sigaction __user * */
	__u32 count;			/* in: capacity; out: entries written,
					 * or with ENOSPC the number needed */
	__u32 reserved;			/* in: must be 0 */
};
#define CKPT_SIGACTIONS_SIZE_VER0	24

/*
 * CKPT_IOC_THREAD: per-thread state of a frozen thread of the session's
 * tree that /proc does not show, as the kernel records it.
 *
 *  sas_ss_*         the alternate signal stack (sigaltstack), as stored:
 *                   sas_ss_flags is the ss_flags of the last sigaltstack()
 *                   call (SS_AUTODISARM and the mode passed: 0, SS_ONSTACK
 *                   or SS_DISABLE), or SS_DISABLE after an SS_AUTODISARM
 *                   delivery, 0 if never set.  A disabled stack has sp and
 *                   size 0.  The SS_ONSTACK that sigaltstack() reports is
 *                   not stored: it follows from the stack pointer (REGS).
 *  clear_child_tid  set_tid_address() / CLONE_CHILD_CLEARTID
 *  robust_list      set_robust_list() head (0: none).  The kernel records
 *                   no length: set_robust_list() accepts only sizeof the
 *                   head, and robust_list_len is what get_robust_list()
 *                   reports, that size (24), also when no list is set.
 *  rseq*            the registered rseq area, its length and signature;
 *                   all 0 when none.
 *  securebits       of the thread's (objective) credentials
 *  personality      personality(2)
 *  pdeath_signal    PR_SET_PDEATHSIG
 *  timer_slack_ns   PR_SET_TIMERSLACK; default_timer_slack_ns is what
 *                   PR_SET_TIMERSLACK 0 returns to
 *  blocked          the signal mask (bit N - 1 for signal N)
 *  pending          signals pending for this thread only (not the
 *                   process-wide ones), signal bits only, no siginfo
 *  saved_sigmask    with CKPT_THREAD_RESTORE_SIGMASK in @state: the thread
 *                   is in a system call that replaced its mask for its
 *                   duration (sigsuspend, ppoll, pselect6, epoll_pwait...);
 *                   @blocked is that temporary mask, @saved_sigmask the one
 *                   the call restores.  With CKPT_THREAD_SIGTIMEDWAIT: the
 *                   thread is in rt_sigtimedwait(), whose temporary mask
 *                   lacks the awaited signals; @saved_sigmask is the mask
 *                   the call puts back.  0 otherwise.
 */
#define CKPT_THREAD_RESTORE_SIGMASK	(1U << 0)
#define CKPT_THREAD_SIGTIMEDWAIT	(1U << 1)

struct ckpt_thread {
	__u32 flags;			/* in: must be 0 */
	__u32 tid;			/* in: thread, caller's pid namespace */
	__u32 reserved;			/* in: must be 0 */
	__u32 state;			/* out: CKPT_THREAD_RESTORE_SIGMASK */
	__u64 sas_ss_sp;		/* out */
	__u64 sas_ss_size;		/* out */
	__u32 sas_ss_flags;		/* out */
	__u32 pdeath_signal;		/* out */
	__u64 clear_child_tid;		/* out: user pointer */
	__u64 robust_list;		/* out: user pointer */
	__u64 robust_list_len;		/* out */
	__u64 rseq;			/* out: user pointer */
	__u32 rseq_len;			/* out */
	__u32 rseq_sig;			/* out */
	__u32 securebits;		/* out */
	__u32 personality;		/* out */
	__u64 timer_slack_ns;		/* out */
	__u64 default_timer_slack_ns;	/* out */
	__u64 blocked;			/* out: sigset */
	__u64 pending;			/* out: sigset */
	__u64 saved_sigmask;		/* out: sigset */
};
#define CKPT_THREAD_SIZE_VER0	128

/*
 * CKPT_IOC_VMAS: the memory map of a frozen process of the session's tree,
 * one struct ckpt_vma per VMA in address order, read under the mm's
 * mmap lock: what /proc/PID/smaps shows in its header lines and VmFlags,
 * without smaps' page-table walk (Rss, Pss, ... are not computed).
 *
 * @pid is any thread of the process (caller's pid namespace).  @count is,
 * in, the number of entries @vmas can hold; out, the number written, or
 * with ENOSPC the number needed (the map of a frozen process does not
 * change, so a second call with that capacity succeeds).  The vsyscall
 * page ("[vsyscall]" in maps) is not a VMA of the process and is not
 * listed.  With the map, in the same snapshot: @start_brk and @brk, the
 * heap's start and the program break (brk(0) in the process; /proc shows
 * only start_brk).  Written on success and with ENOSPC, else 0.
 *
 *  start, end   the range, end exclusive
 *  pgoff        for a file-backed VMA the file offset in bytes (as in
 *               maps), otherwise 0
 *  dev_*, ino   the file's device and inode (as in maps), otherwise 0
 *  flags        CKPT_VMA_* below.  Bit N is the kernel flag that
 *               /proc/PID/smaps prints as the mnemonic in the comment, and
 *               the bits are numbered so that listing the set ones from bit
 *               0 up gives smaps' VmFlags order (x86_64)
 *  pkey         the memory protection key (ProtectionKey in smaps)
 *  nr_unknown   set kernel VMA flags this module has no bit for (smaps
 *               prints "??" for each)
 */
#define CKPT_VMA_READ		(1ULL << 0)	/* rd */
#define CKPT_VMA_WRITE		(1ULL << 1)	/* wr */
#define CKPT_VMA_EXEC		(1ULL << 2)	/* ex */
#define CKPT_VMA_SHARED		(1ULL << 3)	/* sh */
#define CKPT_VMA_MAYREAD	(1ULL << 4)	/* mr */
#define CKPT_VMA_MAYWRITE	(1ULL << 5)	/* mw */
#define CKPT_VMA_MAYEXEC	(1ULL << 6)	/* me */
#define CKPT_VMA_MAYSHARE	(1ULL << 7)	/* ms */
#define CKPT_VMA_GROWSDOWN	(1ULL << 8)	/* gd */
#define CKPT_VMA_UFFD_MISSING	(1ULL << 9)	/* um */
#define CKPT_VMA_PFNMAP		(1ULL << 10)	/* pf */
#define CKPT_VMA_UFFD_WP	(1ULL << 12)	/* uw */
#define CKPT_VMA_LOCKED		(1ULL << 13)	/* lo */
#define CKPT_VMA_IO		(1ULL << 14)	/* io */
#define CKPT_VMA_SEQ_READ	(1ULL << 15)	/* sr */
#define CKPT_VMA_RAND_READ	(1ULL << 16)	/* rr */
#define CKPT_VMA_DONTCOPY	(1ULL << 17)	/* dc */
#define CKPT_VMA_DONTEXPAND	(1ULL << 18)	/* de */
#define CKPT_VMA_LOCKONFAULT	(1ULL << 19)	/* lf */
#define CKPT_VMA_ACCOUNT	(1ULL << 20)	/* ac */
#define CKPT_VMA_NORESERVE	(1ULL << 21)	/* nr */
#define CKPT_VMA_HUGETLB	(1ULL << 22)	/* ht */
#define CKPT_VMA_SYNC		(1ULL << 23)	/* sf */
#define CKPT_VMA_ARCH_1		(1ULL << 24)	/* ar (x86: VM_PAT) */
#define CKPT_VMA_WIPEONFORK	(1ULL << 25)	/* wf */
#define CKPT_VMA_DONTDUMP	(1ULL << 26)	/* dd */
#define CKPT_VMA_SOFTDIRTY	(1ULL << 27)	/* sd */
#define CKPT_VMA_MIXEDMAP	(1ULL << 28)	/* mm */
#define CKPT_VMA_HUGEPAGE	(1ULL << 29)	/* hg */
#define CKPT_VMA_NOHUGEPAGE	(1ULL << 30)	/* nh */
#define CKPT_VMA_MERGEABLE	(1ULL << 31)	/* mg */
#define CKPT_VMA_SHADOW_STACK	(1ULL << 37)	/* ss */
#define CKPT_VMA_UFFD_MINOR	(1ULL << 38)	/* ui */
#define CKPT_VMA_DROPPABLE	(1ULL << 40)	/* dp */
#define CKPT_VMA_SEALED		(1ULL << 63)	/* sl */

struct ckpt_vma {
	__u64 start;
	__u64 end;
	__u64 pgoff;
	__u64 flags;			/* CKPT_VMA_* */
	__u64 ino;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 pkey;
	__u32 nr_unknown;
	__u64 reserved;			/* out: 0 */
};
#define CKPT_VMA_SIZE		64

struct ckpt_vmas {
	__u32 flags;			/* in: must be 0 */
	__u32 pid;			/* in: a thread of the process */
	__u64 vmas;			/* in: struct ckpt_vma __user * */
	__u32 count;			/* in: capacity; out: entries written,
					 * or with ENOSPC the number needed */
	__u32 reserved;			/* in: must be 0 */
	__u64 start_brk;		/* out: where the heap (brk) began */
	__u64 brk;			/* out: the current program break */
};
#define CKPT_VMAS_SIZE_VER0	40

/*
 * CKPT_IOC_PAGES: write pages of a process's memory into a file, in the
 * kernel: the target's pages are copied once, straight into the file (its
 * page cache), with no copy through the caller's memory.  What
 * process_vm_readv followed by pwrite would store, at the cost of one copy.
 *
 * No session is needed: the target may be running (a pre-copy) or frozen.
 * The caller needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the initial
 * user namespace and ptrace access to the target
 * (PTRACE_MODE_ATTACH_REALCREDS).  @pid is a thread id, or with
 * CKPT_PAGES_PIDFD a pidfd (a running target's pid may be reused).  A
 * range that maps @fd's own file is refused (EINVAL).  Pages are read like /proc/PID/mem reads
 * them (FOLL_FORCE): a mapping without PROT_READ is read too; a range that
 * is not mapped, or is VM_IO/VM_PFNMAP, is EFAULT.
 *
 * The @count ranges (page-aligned, non-empty, at most
 * CKPT_PAGES_MAX_BYTES in all) are written back to back from file offset
 * @offset (page-aligned) of @fd, a regular file open for writing without
 * O_APPEND or O_DIRECT.  On success every byte was written; on an error the content
 * of the file range is unspecified.
 *
 * With CKPT_PAGES_XXH64 (CKPT_PAGES_SIZE_VER1), the module also hashes what
 * it wrote: @hash points to a struct ckpt_pages_xxh64 that carries an XXH64
 * (seed 0, as xxh64() in lib/xxhash.c and XXH64() of libxxhash) over calls.
 * Each page is hashed as the file holds it after the write (its page cache,
 * or read back through @fd when not there), in file order, continuing from
 * the state passed in; on success the new state and the digest of every
 * byte hashed so far are stored back.  @fd must then be open for reading
 * too.  A hash over several calls covers what they wrote in call order, so
 * a caller hashing one file range writes it in order.
 */
struct ckpt_page_range {
	__u64 start;			/* page-aligned address in the target */
	__u64 len;			/* bytes, a non-zero multiple of the page size */
};
#define CKPT_PAGE_RANGE_SIZE	16

#define CKPT_PAGES_PIDFD	(1U << 0)	/* @pid is a pidfd */
#define CKPT_PAGES_XXH64	(1U << 1)	/* hash what is written, @hash */
#define CKPT_PAGES_FLAGS	(CKPT_PAGES_PIDFD | CKPT_PAGES_XXH64)

#define CKPT_PAGES_MAX_RANGES	4096
#define CKPT_PAGES_MAX_BYTES	(1ULL << 30)

struct ckpt_pages {
	__u32 flags;			/* in: CKPT_PAGES_* */
	__u32 pid;			/* in: a thread of the process to read,
					 * or a pidfd of it */
	__u32 fd;			/* in: the file to write */
	__u32 count;			/* in: ranges, 1..CKPT_PAGES_MAX_RANGES */
	__u64 ranges;			/* in: const struct ckpt_page_range __user * */
	__u64 offset;			/* in: file offset of the first byte */
	/* CKPT_PAGES_SIZE_VER1 */
	__u64 hash;			/* in: struct ckpt_pages_xxh64 __user *
					 * with CKPT_PAGES_XXH64, else 0 */
};
#define CKPT_PAGES_SIZE_VER0	32
#define CKPT_PAGES_SIZE_VER1	40

/*
 * The state of an XXH64 (the algorithm's own: bytes consumed and its four
 * accumulators) between CKPT_IOC_PAGES calls.  @len 0 starts a new hash
 * (@acc is then ignored); otherwise @len and @acc are what an earlier call
 * stored.  Every call hashes whole pages, so @len is a multiple of 32 (the
 * XXH64 stripe) and no partial stripe is ever pending.
 */
struct ckpt_pages_xxh64 {
	__u64 len;			/* in/out: bytes hashed so far */
	__u64 acc[4];			/* in/out: the accumulators v1..v4 */
	__u64 digest;			/* out: XXH64 of the @len bytes */
};
#define CKPT_PAGES_XXH64_SIZE	48

#define CKPT_IOC_INFO	_IOWR(CKPT_IOC_MAGIC, 0x00, struct ckpt_info)
#define CKPT_IOC_BEGIN	_IOW(CKPT_IOC_MAGIC, 0x01, struct ckpt_begin)
#define CKPT_IOC_END	_IOW(CKPT_IOC_MAGIC, 0x02, struct ckpt_end)
#define CKPT_IOC_SCAN	_IOWR(CKPT_IOC_MAGIC, 0x03, struct ckpt_scan)
#define CKPT_IOC_REGS	_IOWR(CKPT_IOC_MAGIC, 0x04, struct ckpt_regs)
#define CKPT_IOC_SIGACTIONS _IOWR(CKPT_IOC_MAGIC, 0x05, struct ckpt_sigactions)
#define CKPT_IOC_THREAD	_IOWR(CKPT_IOC_MAGIC, 0x06, struct ckpt_thread)
#define CKPT_IOC_VMAS	_IOWR(CKPT_IOC_MAGIC, 0x07, struct ckpt_vmas)
#define CKPT_IOC_PAGES	_IOW(CKPT_IOC_MAGIC, 0x08, struct ckpt_pages)

#endif /* _UAPI_LINUX_CKPT_H */
