// SPDX-License-Identifier: GPL-2.0
/*
 * pages.c: a process's pages written into a file (CKPT_IOC_PAGES).
 *
 * From user space a checkpointer without a parasite in the target copies
 * each page twice: process_vm_readv into a buffer, then write(2) into the
 * image; or once into a shared mapping of the image, which costs a page
 * fault, a second zeroing of each new page-cache page and an unmap.  Here
 * the file system's write_iter copies each page once, straight from the
 * target's page: the pages are referenced with get_user_pages_remote() (as
 * process_vm_readv does), handed to vfs_iter_write() as a bvec iterator,
 * and released.
 *
 * Locking: the target's mm is pinned with get_task_mm() and released at
 * the end.  mmap_read_lock(mm) is held only across get_user_pages_remote()
 * (which may drop it, see @locked), never across the write, so the file
 * system may sleep, take its own locks or fault freely, and a target
 * mapping of the output file itself cannot deadlock against us.  The page
 * references keep the pages, not their contents: a running target may
 * change a page while it is copied, exactly as with process_vm_readv.
 * Nothing here holds a spinlock or an RCU read section across a call that
 * sleeps (find_get_pid() and get_pid_task() take RCU internally).
 *
 * Pages are gathered range after range into batches of CKPT_PAGES_BATCH
 * (one page of pointers), each written with one write, however small the
 * ranges.  The work of one call is bounded (CKPT_PAGES_MAX_BYTES); it
 * calls cond_resched() after each batch and stops on a fatal signal.
 *
 * With CKPT_PAGES_XXH64 each batch, once written, is hashed as the file
 * holds it: the pages are looked up in the file's page cache (a reference,
 * no lock: only this call writes that range) and hashed in place, so the
 * bytes are never copied again; a page that is not there, or not uptodate
 * (evicted, swapped tmpfs, a partly written large folio), is read back
 * through the file into a bounce page, and so is every page of a file
 * system whose writes may bypass that cache (ckpt_pages_cache_is_file()).
 * The source pages are not
 * hashed: a running target may change a page between the copy and a
 * second look, and the hash must be of what the file holds.
 */
#include <linux/bvec.h>
#include <linux/capability.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/xxhash.h>
#include "ckpt.h"

static_assert(sizeof(struct ckpt_page_range) == CKPT_PAGE_RANGE_SIZE);

u32 ckpt_pages_flags(void)
{
	return CKPT_PAGES_PIDFD | (CKPT_HAVE_XXH64 ? CKPT_PAGES_XXH64 : 0);
}

/*
 * The hash of one call (CKPT_PAGES_XXH64): the XXH64 state carried in
 * struct ckpt_pages_xxh64, and a page for what is read back.
 */
struct ckpt_pages_hash {
	struct xxh64_state st;
	void *bounce;			/* NULL until a page is read back */
	bool cache;			/* written pages are in f_mapping */
};

/* One page holds a batch's page pointers and its bio_vecs. */
#define CKPT_PAGES_BATCH \
	(PAGE_SIZE / (sizeof(struct page *) + sizeof(struct bio_vec)))

static int ckpt_pages_range(const struct ckpt_pages *arg, u32 i,
			    struct ckpt_page_range *r)
{
	const struct ckpt_page_range __user *u =
		u64_to_user_ptr(arg->ranges);

	if (copy_from_user(r, &u[i], sizeof(*r)))
		return -EFAULT;
	if (!r->len || !PAGE_ALIGNED(r->start) || !PAGE_ALIGNED(r->len) ||
	    r->start >= TASK_SIZE_MAX || r->len > TASK_SIZE_MAX - r->start)
		return -EINVAL;
	return 0;
}

/*
 * Every range readable and valid (range by range), the total within the
 * limit, and the file range within what a loff_t can address.
 */
static int ckpt_pages_check_ranges(const struct ckpt_pages *arg)
{
	struct ckpt_page_range r;
	u64 total = 0;
	u32 i;
	int ret;

	for (i = 0; i < arg->count; i++) {
		ret = ckpt_pages_range(arg, i, &r);
		if (ret)
			return ret;
		if (r.len > CKPT_PAGES_MAX_BYTES - total)
			return -EINVAL;
		total += r.len;
	}
	if (total > (u64)LLONG_MAX - arg->offset)
		return -EINVAL;
	return 0;
}

/*
 * The output file: open for writing, regular, positioned buffered writes.
 * Not O_DIRECT: a running target may change a page while the device reads
 * it, which file systems that checksum data at submission (btrfs,
 * dm-integrity) would record as corruption; a buffered write copies first.
 * O_APPEND and O_DIRECT can be set later with F_SETFL, so the writer loop
 * checks the flags again before each batch.
 */
static int ckpt_pages_check_flags(struct file *f)
{
	return READ_ONCE(f->f_flags) & (O_APPEND | O_DIRECT) ? -EINVAL : 0;
}

static int ckpt_pages_check_file(struct file *f)
{
	if (!(f->f_mode & FMODE_WRITE))
		return -EBADF;
	if (!S_ISREG(file_inode(f)->i_mode) ||
	    !(f->f_mode & FMODE_CAN_WRITE) || !f->f_op->write_iter)
		return -EINVAL;
	return ckpt_pages_check_flags(f);
}

/* The target named by @arg->pid: a thread id, or a pidfd (CKPT_PAGES_PIDFD). */
static struct task_struct *ckpt_pages_task(const struct ckpt_pages *arg, int *err)
{
	struct task_struct *t;
	struct pid *pid;

	*err = -ESRCH;
	if (arg->flags & CKPT_PAGES_PIDFD) {
		if (arg->pid > INT_MAX) {
			*err = -EBADF;
			return NULL;
		}
		pid = ckpt_pidfd_pid(arg->pid);
		if (IS_ERR(pid)) {
			*err = PTR_ERR(pid);
			return NULL;
		}
	} else {
		if (!arg->pid || arg->pid > INT_MAX)
			return NULL;
		pid = find_get_pid(arg->pid);
	}
	t = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	return t;
}

/*
 * The target's mm, after the task and permission checks.  The ptrace check
 * and get_task_mm() are made under exec_update_lock, as mm_access() (not
 * exported) makes them: an exec (of a setuid program, say) replaces the mm
 * and the credentials under that lock taken for write, so the mm returned
 * is the one the check was made against.
 */
static int ckpt_pages_get_mm(const struct ckpt_pages *arg,
			     struct mm_struct **mmp)
{
	struct task_struct *t;
	int ret;

	t = ckpt_pages_task(arg, &ret);
	if (!t)
		return ret;
	ret = -EOPNOTSUPP;
	if (t->flags & (PF_KTHREAD | CKPT_PF_WORKER))
		goto out;
	ret = down_read_killable(&t->signal->exec_update_lock);
	if (ret)
		goto out;
	ret = -EPERM;
	if (ckpt_ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS)) {
		ret = -EAGAIN;		/* exiting: the mm is gone */
		*mmp = get_task_mm(t);
		if (*mmp)
			ret = 0;
	}
	up_read(&t->signal->exec_update_lock);
out:
	put_task_struct(t);
	return ret;
}

/*
 * Whether a page is in the output file's page cache: the target maps the
 * image file itself.  The bytes written would then depend on the order of
 * the copies (a page read after an earlier one overwrote it), not be what
 * process_vm_readv + pwrite store, so such a range is refused.  The page
 * is referenced, so its folio stays; ->mapping is read once, unlocked: a
 * folio being truncated from the file at that moment is no longer its
 * data either way.  @real is the mapping of d_real_inode(): on overlayfs
 * a mapping of the file maps the real (upper) file's pages, and writes
 * through @f land there too.
 */
static bool ckpt_pages_own_file(struct file *f, struct address_space *real,
				struct page **pages, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		struct address_space *m = READ_ONCE(page_folio(pages[i])->mapping);

		if (m == f->f_mapping || m == real)
			return true;
	}
	return false;
}

#if CKPT_HAVE_XXH64
/*
 * Whether @f's buffered writes land in its own page cache (f_mapping), so
 * that a written page found there uptodate is what the file holds: tmpfs
 * and the local disk file systems.  Elsewhere (FUSE with direct I/O or
 * passthrough, network and stacked file systems) writes may go around
 * that cache and leave stale pages in it, so every page is read back
 * through the file instead: slower, and always what the file holds.
 */
static bool ckpt_pages_cache_is_file(struct file *f)
{
	switch (file_inode(f)->i_sb->s_magic) {
	case TMPFS_MAGIC:
	case EXT4_SUPER_MAGIC:
	case XFS_SUPER_MAGIC:
	case BTRFS_SUPER_MAGIC:
	case F2FS_SUPER_MAGIC:
		return true;
	}
	return false;
}

/* One page of @f at @pos, read back through the file into h->bounce. */
static int ckpt_pages_hash_read(struct file *f, loff_t pos,
				struct ckpt_pages_hash *h)
{
	size_t done = 0;
	ssize_t r;

	if (!h->bounce) {
		h->bounce = (void *)__get_free_page(GFP_KERNEL);
		if (!h->bounce)
			return -ENOMEM;
	}
	while (done < PAGE_SIZE) {
		r = kernel_read(f, h->bounce + done, PAGE_SIZE - done, &pos);
		if (r < 0)
			return (int)r;
		if (!r)
			return -EIO;	/* truncated under us */
		done += r;
	}
	xxh64_update(&h->st, h->bounce, PAGE_SIZE);
	return 0;
}

/*
 * Hashes the @n pages of @f from @pos, just written, in file order: each
 * uptodate folio of the page cache in place (all its pages in the range at
 * once), anything else read back.
 */
static int ckpt_pages_hash_written(struct file *f, loff_t pos, unsigned long n,
				   struct ckpt_pages_hash *h)
{
	struct address_space *m = f->f_mapping;

	while (n) {
		pgoff_t idx = pos >> PAGE_SHIFT;
		struct folio *fo = h->cache ? filemap_get_folio(m, idx) : NULL;
		unsigned long k, i;
		int ret;

		/* 6.1 returns NULL for no folio, 6.4 on ERR_PTR(-ENOENT). */
		if (IS_ERR_OR_NULL(fo) || !folio_test_uptodate(fo)) {
			if (!IS_ERR_OR_NULL(fo))
				folio_put(fo);
			ret = ckpt_pages_hash_read(f, pos, h);
			if (ret)
				return ret;
			pos += PAGE_SIZE;
			n--;
			continue;
		}
		k = min_t(unsigned long, n, fo->index + folio_nr_pages(fo) - idx);
		for (i = 0; i < k; i++, pos += PAGE_SIZE) {
			void *p = kmap_local_folio(fo, offset_in_folio(fo, pos));

			xxh64_update(&h->st, p, PAGE_SIZE);
			kunmap_local(p);
		}
		folio_put(fo);
		n -= k;
	}
	return 0;
}

/*
 * The hash state passed in (CKPT_PAGES_XXH64): @hash is given exactly when
 * the flag is, and a continued hash has consumed whole stripes only.
 */
static int ckpt_pages_hash_in(const struct ckpt_pages *arg,
			      struct ckpt_pages_hash *h)
{
	struct ckpt_pages_xxh64 x;

	if (!(arg->flags & CKPT_PAGES_XXH64))
		return arg->hash ? -EINVAL : 0;
	if (!arg->hash)
		return -EINVAL;
	if (copy_from_user(&x, u64_to_user_ptr(arg->hash), sizeof(x)))
		return -EFAULT;
	if (x.len % 32)
		return -EINVAL;
	xxh64_reset(&h->st, 0);
	if (x.len) {
		h->st.total_len = x.len;
		h->st.v1 = x.acc[0];
		h->st.v2 = x.acc[1];
		h->st.v3 = x.acc[2];
		h->st.v4 = x.acc[3];
	}
	return 0;
}

static int ckpt_pages_hash_out(const struct ckpt_pages *arg,
			       const struct ckpt_pages_hash *h)
{
	struct ckpt_pages_xxh64 x = {
		.len = h->st.total_len,
		.acc = { h->st.v1, h->st.v2, h->st.v3, h->st.v4 },
		.digest = xxh64_digest(&h->st),
	};

	if (copy_to_user(u64_to_user_ptr(arg->hash), &x, sizeof(x)))
		return -EFAULT;
	return 0;
}
#else
/* Not offered (ckpt_pages_flags()): ckpt_pages() refused the flag. */
static bool ckpt_pages_cache_is_file(struct file *f)
{
	return false;
}

static int ckpt_pages_hash_written(struct file *f, loff_t pos, unsigned long n,
				   struct ckpt_pages_hash *h)
{
	return -EINVAL;
}

static int ckpt_pages_hash_in(const struct ckpt_pages *arg,
			      struct ckpt_pages_hash *h)
{
	return arg->hash ? -EINVAL : 0;
}

static int ckpt_pages_hash_out(const struct ckpt_pages *arg,
			       const struct ckpt_pages_hash *h)
{
	return -EINVAL;
}
#endif

/*
 * Pages gathered from the ranges, up to CKPT_PAGES_BATCH, and written with
 * one write: many small ranges (a fragmented heap, every tenth page) cost
 * one file-system write per batch, not one per range.  Each page holds a
 * reference until it is written.
 */
struct ckpt_pages_batch {
	struct page **pages;
	struct bio_vec *bv;
	long n;				/* pages gathered */
	/* The output's real mapping (see ckpt_pages_own_file()): looked up
	 * once per call, the open file's upper inode does not change. */
	struct address_space *real;
};

static void ckpt_pages_put(struct ckpt_pages_batch *b)
{
	long i;

	for (i = 0; i < b->n; i++)
		put_page(b->pages[i]);
	b->n = 0;
}

/*
 * Writes the gathered pages at *@pos of @f, hashes them into @h when there
 * is one, and releases them (also on an error).
 */
static int ckpt_pages_flush(struct file *f, struct ckpt_pages_batch *b,
			    loff_t *pos, struct ckpt_pages_hash *h)
{
	const long n = b->n;
	const loff_t from = *pos;
	struct iov_iter it;
	ssize_t w = 0;
	size_t left;
	long i;

	if (ckpt_pages_check_flags(f)) {
		ckpt_pages_put(b);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		bvec_set_page(&b->bv[i], b->pages[i], PAGE_SIZE, 0);
	left = n * PAGE_SIZE;
	iov_iter_bvec(&it, ITER_SOURCE, b->bv, n, left);
	/*
	 * A short write is retried: the next call reports why it stopped
	 * (ENOSPC, EFBIG...).  The write checks may truncate the iterator
	 * (RLIMIT_FSIZE, s_maxbytes), so what is left is counted here and
	 * the iterator re-expanded to it.
	 */
	while (left) {
		w = ckpt_vfs_iter_write(f, &it, pos);
		if (w <= 0)
			break;
		left -= min_t(size_t, w, left);
		iov_iter_reexpand(&it, left);
	}
	ckpt_pages_put(b);
	if (w < 0)
		return (int)w;
	if (left)
		return -EIO;
	/* O_APPEND set during the write: the pages went to the end. */
	if (*pos != from + n * PAGE_SIZE)
		return -EINVAL;
	cond_resched();
	return h ? ckpt_pages_hash_written(f, from, n, h) : 0;
}

/*
 * Gathers @n pages of @mm from @start into @b, writing the batch at *@pos
 * of @f whenever it is full.  On an error the caller releases what is
 * gathered.
 */
static int ckpt_pages_gather(struct mm_struct *mm, struct file *f,
			     unsigned long start, unsigned long n,
			     struct ckpt_pages_batch *b, loff_t *pos,
			     struct ckpt_pages_hash *h)
{
	while (n) {
		unsigned long want = min_t(unsigned long, n, CKPT_PAGES_BATCH - b->n);
		struct page **p = b->pages + b->n;
		int locked = 1, ret;
		long got, i;

		if (fatal_signal_pending(current))
			return -EINTR;
		if (mmap_read_lock_killable(mm))
			return -EINTR;
		got = ckpt_get_user_pages_remote(mm, start, want, FOLL_FORCE,
						 p, &locked);
		if (locked)
			mmap_read_unlock(mm);
		/* As process_vm_readv: whatever stops the walk (no VMA,
		 * VM_IO/PFNMAP, a page without struct page, secretmem...) is
		 * EFAULT, except a fatal signal or no memory. */
		if (got < 0 && got != -EINTR && got != -ENOMEM)
			got = -EFAULT;
		if (got <= 0)
			return got ? (int)got : -EFAULT;
		/* A page of the output file itself would be read after (or
		 * while) it is written: refused, see ckpt_pages_own_file(). */
		if (ckpt_pages_own_file(f, b->real, p, got)) {
			for (i = 0; i < got; i++)
				put_page(p[i]);
			return -EINVAL;
		}
		b->n += got;
		start += got << PAGE_SHIFT;
		n -= got;
		if (b->n == CKPT_PAGES_BATCH) {
			ret = ckpt_pages_flush(f, b, pos, h);
			if (ret)
				return ret;
		}
	}
	return 0;
}

int ckpt_pages(struct ckpt_pages *arg)
{
	struct ckpt_pages_hash hash = {}, *h = NULL;
	struct ckpt_pages_batch b = {};
	struct ckpt_page_range r;
	struct mm_struct *mm;
	struct file *f;
	u64 total = 0;
	loff_t pos;
	u32 i;
	int ret;

	if (arg->flags & ~ckpt_pages_flags() || !arg->count ||
	    arg->count > CKPT_PAGES_MAX_RANGES ||
	    !PAGE_ALIGNED(arg->offset) || arg->offset > LLONG_MAX)
		return -EINVAL;
	ret = ckpt_pages_check_ranges(arg);
	if (ret)
		return ret;
	ret = ckpt_pages_hash_in(arg, &hash);
	if (ret)
		return ret;
	if (arg->flags & CKPT_PAGES_XXH64)
		h = &hash;
	if (arg->fd > INT_MAX)
		return -EBADF;
	f = fget(arg->fd);
	if (!f)
		return -EBADF;
	ret = ckpt_pages_check_file(f);
	if (ret)
		goto out_file;
	if (h) {		/* the hash may read pages back */
		ret = -EBADF;
		if (!(f->f_mode & FMODE_READ))
			goto out_file;
		ret = -EINVAL;
		if (!(f->f_mode & FMODE_CAN_READ) || !f->f_op->read_iter)
			goto out_file;
		h->cache = ckpt_pages_cache_is_file(f);
	}
	ret = -EPERM;
	if (!checkpoint_restore_ns_capable(&init_user_ns))
		goto out_file;
	ret = ckpt_pages_get_mm(arg, &mm);
	if (ret)
		goto out_file;
	ret = -ENOMEM;
	b.pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!b.pages)
		goto out_mm;
	b.bv = (struct bio_vec *)(b.pages + CKPT_PAGES_BATCH);
	b.real = d_real_inode(f->f_path.dentry)->i_mapping;

	pos = arg->offset;
	for (i = 0; i < arg->count; i++) {
		/* Read again: the caller may have changed the array since
		 * the check; the rules hold for what is used. */
		ret = ckpt_pages_range(arg, i, &r);
		if (ret)
			break;
		if (r.len > CKPT_PAGES_MAX_BYTES - total) {
			ret = -EINVAL;
			break;
		}
		total += r.len;
		ret = ckpt_pages_gather(mm, f, r.start, r.len >> PAGE_SHIFT,
					&b, &pos, h);
		if (ret)
			break;
	}
	if (!ret && b.n)
		ret = ckpt_pages_flush(f, &b, &pos, h);
	ckpt_pages_put(&b);		/* what an error left gathered */
	if (!ret && h)
		ret = ckpt_pages_hash_out(arg, h);

	if (hash.bounce)
		free_page((unsigned long)hash.bounce);
	free_page((unsigned long)b.pages);
out_mm:
	mmput(mm);
out_file:
	fput(f);
	return ret;
}
