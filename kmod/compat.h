/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h: every difference between the kernels ckpt.ko supports.
 * Force-included into each object by Kbuild, so no other file tests
 * LINUX_VERSION_CODE.  Supported: 6.1 and 6.12 (Debian 12's kernels).
 */
#ifndef _CKPT_COMPAT_H
#define _CKPT_COMPAT_H

#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0) || \
    LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
#error "ckpt.ko supports Linux 6.1 to 6.12"
#endif

#ifndef __ASSEMBLY__
#include <linux/sched.h>

/*
 * pidfds.  6.1 makes them anon-inode files with pidfd_fops (kernel/fork.c)
 * and keeps the struct pid in file->private_data; 6.9 moved them to pidfs
 * (fs/pidfs.c), which keeps it in the inode's i_private.
 */
#include <linux/fs.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
#define CKPT_PIDFD_FOPS_SYMBOL	"pidfs_file_operations"
static inline struct pid *ckpt_pidfd_file_pid(struct file *f)
{
	return file_inode(f)->i_private;
}
#else
#define CKPT_PIDFD_FOPS_SYMBOL	"pidfd_fops"
static inline struct pid *ckpt_pidfd_file_pid(struct file *f)
{
	return f->private_data;
}
#endif

/*
 * Kernel-created worker threads of a user process (io_uring workers; on
 * 6.12 also vhost): they have no user register state of their own.
 */
#ifdef PF_USER_WORKER
#define CKPT_PF_WORKER	(PF_IO_WORKER | PF_USER_WORKER)
#else
#define CKPT_PF_WORKER	PF_IO_WORKER
#endif

/*
 * A task stopped by the v1 (legacy) freezer.  Both kernels have the 6.1
 * freezer rewrite: a frozen task sleeps in TASK_FROZEN; frozen() itself is
 * not exported.
 */
static inline bool ckpt_task_frozen_v1(struct task_struct *t)
{
	return READ_ONCE(t->__state) & TASK_FROZEN;
}

/*
 * Can kernel text at @addr be the target of an indirect call?  With IBT
 * enforced, only an ENDBR instruction can; the kernel seals (poisons) the
 * ENDBR of functions whose address is never taken.  6.1's Debian build has
 * no IBT.
 */
#ifdef CONFIG_X86_KERNEL_IBT
#include <asm/ibt.h>
#include <asm/cpufeature.h>
static inline bool ckpt_text_callable(unsigned long addr)
{
	/* is_endbr() also accepts the seal poison: compare exactly. */
	u32 insn = *(u32 *)addr & ~0x01000000U;	/* ENDBR32 -> ENDBR64 */

	return !cpu_feature_enabled(X86_FEATURE_IBT) || insn == gen_endbr();
}
/* A kprobe placed "at" a function reports the address after its ENDBR. */
static inline unsigned long ckpt_kprobe_to_entry(unsigned long addr)
{
	return is_endbr(*(u32 *)(addr - ENDBR_INSN_SIZE)) ?
	       addr - ENDBR_INSN_SIZE : addr;
}
#else
static inline bool ckpt_text_callable(unsigned long addr) { return true; }
static inline unsigned long ckpt_kprobe_to_entry(unsigned long addr)
{
	return addr;
}
#endif

/*
 * A task's registered rseq area (kernel/rseq.c).  6.1 keeps the pointer and
 * the signature; the length is implied: sys_rseq() accepts only
 * sizeof(struct rseq) (32, the original size).  6.3 made the area
 * extensible and records the length in task_struct.rseq_len (6.12).
 * Without CONFIG_RSEQ nothing is registered.  Callers read a frozen task.
 */
static inline u64 ckpt_task_rseq(struct task_struct *t)
{
#ifdef CONFIG_RSEQ
	return (u64)(unsigned long)t->rseq;
#else
	return 0;
#endif
}

static inline u32 ckpt_task_rseq_len(struct task_struct *t)
{
#if !defined(CONFIG_RSEQ)
	return 0;
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return t->rseq_len;
#else
	return t->rseq ? sizeof(struct rseq) : 0;
#endif
}

static inline u32 ckpt_task_rseq_sig(struct task_struct *t)
{
#ifdef CONFIG_RSEQ
	return t->rseq_sig;
#else
	return 0;
#endif
}

/*
 * VMA flags newer than 6.1 (CKPT_IOC_VMAS, mm.c): shadow stacks (6.6),
 * mseal (6.10), MAP_DROPPABLE (6.11).  Where a kernel has none, 0 (the
 * macros expand where mm.c uses them, after linux/mm.h).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define CKPT_VM_SHADOW_STACK	VM_SHADOW_STACK
#else
#define CKPT_VM_SHADOW_STACK	0UL
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define CKPT_VM_SEALED		VM_SEALED
#else
#define CKPT_VM_SEALED		0UL
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
#define CKPT_VM_DROPPABLE	VM_DROPPABLE
#else
#define CKPT_VM_DROPPABLE	0UL
#endif

/*
 * The inode /proc/PID/maps names for a mapped file: 6.8 added backing
 * files (overlayfs), whose user-visible inode is file_user_inode()'s.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define ckpt_file_user_inode(f)	file_user_inode(f)
#else
#define ckpt_file_user_inode(f)	file_inode(f)
#endif

/*
 * get_user_pages_remote() lost its @vmas argument in 6.5.
 */
#include <linux/mm.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define ckpt_get_user_pages_remote(mm, start, n, flags, pages, locked) \
	get_user_pages_remote(mm, start, n, flags, pages, locked)
#else
#define ckpt_get_user_pages_remote(mm, start, n, flags, pages, locked) \
	get_user_pages_remote(mm, start, n, flags, pages, NULL, locked)
#endif

/*
 * vfs_iter_write() takes the file system's freeze protection itself since
 * 6.8 ("fs: move file_start_write() into vfs_iter_write()"); before, the
 * caller did.
 */
#include <linux/uio.h>
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
static inline ssize_t ckpt_vfs_iter_write(struct file *f, struct iov_iter *it,
					  loff_t *pos)
{
	return vfs_iter_write(f, it, pos, 0);
}
#else
static inline ssize_t ckpt_vfs_iter_write(struct file *f, struct iov_iter *it,
					  loff_t *pos)
{
	ssize_t ret;

	file_start_write(f);
	ret = vfs_iter_write(f, it, pos, 0);
	file_end_write(f);
	return ret;
}
#endif

/*
 * lib/xxhash.c (CKPT_PAGES_XXH64) is built only when something selects
 * CONFIG_XXHASH; Debian's kernels have it (btrfs, zstd), a kernel without it
 * gets no CKPT_PAGES_XXH64 (EINVAL, and CKPT_IOC_INFO does not offer it).
 */
#define CKPT_HAVE_XXH64	IS_REACHABLE(CONFIG_XXHASH)

#endif /* __ASSEMBLY__ */
#endif /* _CKPT_COMPAT_H */
