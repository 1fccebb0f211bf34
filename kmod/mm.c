// SPDX-License-Identifier: GPL-2.0
/*
 * mm.c: the memory map of a frozen process (CKPT_IOC_VMAS).
 *
 * /proc/PID/smaps gives the same ranges and flags, but walks every page
 * table of every VMA to count Rss, Pss, Swap... on each read, and prints
 * kilobytes of text per VMA: for a process with many mappings or much
 * memory it is the largest cost of the frozen window.  This walks the VMA
 * tree only.
 *
 * Locking: the thread is pinned and checked like every per-thread command
 * (ckpt_get_thread, then ckpt_thread_recheck under tasklist_lock).  The map
 * is read under mmap_read_lock(mm), which is what every writer of the VMA
 * tree and of vm_flags takes for write (mmap, munmap, mprotect, madvise,
 * mlock, brk, mremap, userfaultfd registration...), so the records are one
 * consistent snapshot; since the process is frozen and the session keeps
 * it so, the snapshot is also the map the process will have when thawed,
 * except for changes made to it by another process (process_madvise,
 * userfaultfd of a process outside the tree), which no checkpoint can
 * prevent.  The buffer is allocated under the mmap lock (sleeping is fine
 * under an rwsem; /proc/PID/maps does the same) and copied to user space
 * after it is dropped: copy_to_user may fault on the caller's own mm.
 */
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/mm.h>
#include <linux/pkeys.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "ckpt.h"

static_assert(sizeof(struct ckpt_vma) == CKPT_VMA_SIZE);

/* Kernel VMA flag -> CKPT_VMA_* bit; a flag this kernel lacks is 0. */
static const struct {
	unsigned long vm;
	u64 ckpt;
} ckpt_vma_flags[] = {
	{ VM_READ, CKPT_VMA_READ },
	{ VM_WRITE, CKPT_VMA_WRITE },
	{ VM_EXEC, CKPT_VMA_EXEC },
	{ VM_SHARED, CKPT_VMA_SHARED },
	{ VM_MAYREAD, CKPT_VMA_MAYREAD },
	{ VM_MAYWRITE, CKPT_VMA_MAYWRITE },
	{ VM_MAYEXEC, CKPT_VMA_MAYEXEC },
	{ VM_MAYSHARE, CKPT_VMA_MAYSHARE },
	{ VM_GROWSDOWN, CKPT_VMA_GROWSDOWN },
	{ VM_UFFD_MISSING, CKPT_VMA_UFFD_MISSING },
	{ VM_PFNMAP, CKPT_VMA_PFNMAP },
	{ VM_UFFD_WP, CKPT_VMA_UFFD_WP },
	{ VM_LOCKED, CKPT_VMA_LOCKED },
	{ VM_IO, CKPT_VMA_IO },
	{ VM_SEQ_READ, CKPT_VMA_SEQ_READ },
	{ VM_RAND_READ, CKPT_VMA_RAND_READ },
	{ VM_DONTCOPY, CKPT_VMA_DONTCOPY },
	{ VM_DONTEXPAND, CKPT_VMA_DONTEXPAND },
	{ VM_LOCKONFAULT, CKPT_VMA_LOCKONFAULT },
	{ VM_ACCOUNT, CKPT_VMA_ACCOUNT },
	{ VM_NORESERVE, CKPT_VMA_NORESERVE },
	{ VM_HUGETLB, CKPT_VMA_HUGETLB },
	{ VM_SYNC, CKPT_VMA_SYNC },
	{ VM_ARCH_1, CKPT_VMA_ARCH_1 },
	{ VM_WIPEONFORK, CKPT_VMA_WIPEONFORK },
	{ VM_DONTDUMP, CKPT_VMA_DONTDUMP },
	{ VM_SOFTDIRTY, CKPT_VMA_SOFTDIRTY },
	{ VM_MIXEDMAP, CKPT_VMA_MIXEDMAP },
	{ VM_HUGEPAGE, CKPT_VMA_HUGEPAGE },
	{ VM_NOHUGEPAGE, CKPT_VMA_NOHUGEPAGE },
	{ VM_MERGEABLE, CKPT_VMA_MERGEABLE },
	{ CKPT_VM_SHADOW_STACK, CKPT_VMA_SHADOW_STACK },
	{ VM_UFFD_MINOR, CKPT_VMA_UFFD_MINOR },
	{ CKPT_VM_DROPPABLE, CKPT_VMA_DROPPABLE },
	{ CKPT_VM_SEALED, CKPT_VMA_SEALED },
};

/* The protection key bits, which smaps shows as ProtectionKey, not flags. */
#ifdef CONFIG_ARCH_HAS_PKEYS
#define CKPT_VM_PKEY_MASK	(VM_PKEY_BIT0 | VM_PKEY_BIT1 | VM_PKEY_BIT2 | \
				 VM_PKEY_BIT3 | VM_PKEY_BIT4)
#else
#define CKPT_VM_PKEY_MASK	0UL
#endif

static void ckpt_fill_vma(const struct vm_area_struct *vma,
			  struct ckpt_vma *out)
{
	unsigned long vmf = vma->vm_flags, known = CKPT_VM_PKEY_MASK;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->start = vma->vm_start;
	out->end = vma->vm_end;
	/* As show_map_vma() prints them. */
	if (vma->vm_file) {
		const struct inode *inode = ckpt_file_user_inode(vma->vm_file);

		out->dev_major = MAJOR(inode->i_sb->s_dev);
		out->dev_minor = MINOR(inode->i_sb->s_dev);
		out->ino = inode->i_ino;
		out->pgoff = (u64)vma->vm_pgoff << PAGE_SHIFT;
	}
	for (i = 0; i < ARRAY_SIZE(ckpt_vma_flags); i++) {
		known |= ckpt_vma_flags[i].vm;
		if (vmf & ckpt_vma_flags[i].vm)
			out->flags |= ckpt_vma_flags[i].ckpt;
	}
	out->nr_unknown = hweight_long(vmf & ~known);
#ifdef CONFIG_ARCH_HAS_PKEYS
	out->pkey = vma_pkey((struct vm_area_struct *)vma);
#endif
}

/*
 * Fill a buffer with @mm's VMAs.  Returns the buffer (kvfree) and sets
 * @count, or sets @count to the number needed and returns NULL with
 * -ENOSPC in @err when it exceeds @capacity.  @start_brk and @brk are
 * read in the same snapshot (on success and with ENOSPC).
 */
static struct ckpt_vma *ckpt_read_vmas(struct mm_struct *mm, u32 capacity,
				       u32 *count, u64 *start_brk, u64 *brk,
				       int *err)
{
	struct vm_area_struct *vma;
	struct ckpt_vma *buf;
	u32 n = 0, total;

	*err = mmap_read_lock_killable(mm);
	if (*err)
		return NULL;
	/* map_count, brk and start_brk are written under the mmap lock
	 * for write (brk(), exec). */
	total = mm->map_count;
	*start_brk = mm->start_brk;
	*brk = mm->brk;
	*count = total;
	buf = NULL;
	*err = -ENOSPC;
	if (total > capacity)
		goto out;
	*err = -ENOMEM;
	buf = kvmalloc_array(max_t(u32, total, 1), sizeof(*buf),
			     GFP_KERNEL_ACCOUNT);
	if (!buf)
		goto out;
	*err = 0;
	{
		VMA_ITERATOR(vmi, mm, 0);

		for_each_vma(vmi, vma) {
			if (n == total) {
				*err = -EIO;	/* map_count disagrees */
				break;
			}
			ckpt_fill_vma(vma, &buf[n++]);
		}
	}
	*count = n;
out:
	mmap_read_unlock(mm);
	if (*err) {
		kvfree(buf);
		buf = NULL;
	}
	return buf;
}

/* @s is the file's session, NULL if none (ENOENT). */
int ckpt_vmas(struct ckpt_session *s, struct ckpt_vmas *arg)
{
	u32 capacity = arg->count, n = 0;
	u64 start_brk = 0, brk = 0;
	struct task_struct *t;
	struct ckpt_vma *buf;
	struct mm_struct *mm;
	int ret;

	/* out: nothing written, unless set below */
	arg->count = 0;
	arg->start_brk = 0;
	arg->brk = 0;
	if (!s)
		return -ENOENT;
	if (arg->flags || arg->reserved)
		return -EINVAL;
	if (capacity && !arg->vmas)
		return -EFAULT;

	ret = ckpt_get_thread(s, arg->pid, &t);
	if (ret)
		return ret;
	ckpt_tasklist_read_lock();
	ret = ckpt_thread_recheck(s, t);
	ckpt_tasklist_read_unlock();
	if (ret)
		goto out_put;
	ret = -ESRCH;		/* exiting: its mm is already gone */
	mm = get_task_mm(t);
	if (!mm)
		goto out_put;

	buf = ckpt_read_vmas(mm, capacity, &n, &start_brk, &brk, &ret);
	mmput(mm);
	if (ret == -ENOSPC) {
		arg->count = n;
		arg->start_brk = start_brk;
		arg->brk = brk;
	}
	if (ret)
		goto out_put;

	/* Still frozen and in the tree: the snapshot is the checkpoint's. */
	ckpt_tasklist_read_lock();
	ret = ckpt_thread_recheck(s, t);
	ckpt_tasklist_read_unlock();
	if (ret)
		goto out_free;
	ret = -EFAULT;
	if (n && copy_to_user(u64_to_user_ptr(arg->vmas), buf,
			      (size_t)n * sizeof(*buf)))
		goto out_free;
	arg->count = n;
	arg->start_brk = start_brk;
	arg->brk = brk;
	ret = 0;
out_free:
	kvfree(buf);
out_put:
	put_task_struct(t);
	return ret;
}
