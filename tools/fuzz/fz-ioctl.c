// SPDX-License-Identifier: GPL-2.0
/*
 * fz-ioctl.c: one ckpt-fuzz call: one_ioctl() generates an ioctl on a
 * random slot, issues it and checks the result (errno, coherence of what
 * came back, PAGES against its prediction); one_op() sometimes reopens or
 * dups a slot, tries to unload the module or empties the scratch file
 * instead.  And the workers: their memory, scratch files and loop.
 */
#include "fz-internal.h"

#define CMDFMT "cmd %#x (%s nr %u dir %u size %u) ptr %#llx kind %d: "
#define CMDARGS cmd, cmd_names[hc], nr, dir, size, (unsigned long long)uptr, pk

static void check_pages(struct worker *w, const struct pgen *g, uint64_t uptr,
			int ret, int err, unsigned int cmd, int hc, uint32_t nr,
			uint32_t dir, uint32_t size, enum ptrkind pk)
{
	const struct ckpt_pages *a = (const void *)(uintptr_t)uptr;
	char why[256] = "";
	const char *want;
	bool ok;

	if (memcmp(a, g->before, sizeof(*a))) {
		check(false, CMDFMT "PAGES wrote to its argument", CMDARGS);
		return;
	}
	if (g->garbage) {
		check(true, "ok");
		return;
	}
	/* A state the call did not store is as it was. */
	if (g->hash_acc == HA_RW && (ret != 0 || !g->hashing) &&
	    memcmp((void *)(uintptr_t)g->hash_ptr, &g->hs_before, HSZ)) {
		check(false, CMDFMT "PAGES (%s, hash kind %d) changed the hash state at %#llx",
		      CMDARGS, fz_errname(err), g->hash_kind,
		      (unsigned long long)g->hash_ptr);
		return;
	}
	if (g->scalar_bad) {
		ok = err == EINVAL;
		want = "EINVAL (flags, count or offset)";
	} else if (g->ranges_unreadable) {
		ok = err == EFAULT;
		want = "EFAULT (ranges not readable)";
	} else if (g->ranges_partial) {
		/* (The module checks the 1 GiB total as it goes.) */
		ok = err == EFAULT ||
		     (err == EINVAL && (g->entry_bad || g->total > GIB));
		want = "EFAULT (ranges run into a guard page)";
	} else if (g->entry_bad || g->total > GIB ||
		   g->total > (uint64_t)INT64_MAX - a->offset) {
		ok = err == EINVAL;
		want = "EINVAL (a range, more than 1 GiB, or past LLONG_MAX)";
	} else if (g->hash_err) {
		ok = err == g->hash_err;
		want = g->hash_err == EFAULT ? "EFAULT (hash state not readable)" :
		       "EINVAL (CKPT_PAGES_XXH64 without @hash, @hash without it, or len % 32)";
		if (ok)
			__atomic_fetch_add(&sh->hash_refused, 1, __ATOMIC_RELAXED);
	} else if (g->fdk == FD_EBADF) {
		ok = err == EBADF;
		want = "EBADF";
	} else if (g->fdk == FD_EINVAL) {
		ok = err == EINVAL;
		want = "EINVAL (not a regular file, O_APPEND or O_DIRECT)";
	} else if (g->hashing && a->fd == (uint32_t)w->sfd_wo) {
		ok = err == EBADF;
		want = "EBADF (hashing, the fd is not open for reading)";
		if (ok)
			__atomic_fetch_add(&sh->hash_refused, 1, __ATOMIC_RELAXED);
	} else if (g->pidfd_bad) {
		ok = err == EBADF;
		want = "EBADF (not a pidfd)";
	} else if (g->self && g->unmapped) {
		ok = err == EFAULT || err == ENOSPC || (g->huge_off && err == EFBIG);
		want = "EFAULT (not mapped)";
	} else if (g->self && g->hashing && g->hash_acc == HA_RO) {
		ok = err == EFAULT || err == ENOSPC || (g->huge_off && err == EFBIG);
		want = "EFAULT (the hash state cannot be written back)";
	} else if (g->self) {
		ok = ret == 0 || err == ENOSPC || (g->huge_off && err == EFBIG);
		want = "success";
		if (ret == 0 && !g->shm && g->total <= PAGES_VERIFY_MAX &&
		    !pages_verify(w, a, why, sizeof(why))) {
			check(false, CMDFMT "PAGES of the fuzzer at %#llx: %s", CMDARGS,
			      (unsigned long long)a->offset, why);
			return;
		}
	} else {
		ok = true;	/* another target: any documented errno */
		want = "";
	}
	if (ok && ret == 0 && g->hashing && g->hash_acc == HA_RO) {
		ok = false;
		want = "EFAULT (the hash state cannot be written back)";
	}
	if (ok && ret == 0 && g->hashing &&
	    !pages_hash_verify(w, a, g, why, sizeof(why))) {
		check(false, CMDFMT "PAGES pid %u count %u offset %#llx total %#llx hash kind %d at %#llx: %s",
		      CMDARGS, a->pid, a->count, (unsigned long long)a->offset,
		      (unsigned long long)g->total, g->hash_kind,
		      (unsigned long long)g->hash_ptr, why);
		return;
	}
	check(ok, CMDFMT "PAGES pid %u fd %d count %u offset %#llx total %#llx hash kind %d %#llx: expected %s, got %s",
	      CMDARGS, a->pid, (int)a->fd, a->count, (unsigned long long)a->offset,
	      (unsigned long long)g->total, g->hash_kind,
	      (unsigned long long)g->hash_ptr, want, fz_errname(err));
}

/* One ioctl call, generated, issued and checked. */
static void one_ioctl(struct worker *w)
{
	static const uint8_t other_types[] = { 0x01, 0x42, 0xb8, 0xba, 0xff };
	uint32_t type = CKPT_IOC_MAGIC, nr, dir, size;
	int c = -1, fd, ret, err, hc;
	enum ptrkind pk = pick_ptrkind(w);
	uint8_t *buf = w->arena;
	size_t room = (size_t)(w->arena_end - w->arena);
	uint64_t uptr;
	bool tail_nonzero = false;
	unsigned int cmd;
	enum ptrkind rk = P_GOOD;
	uint32_t cap = 0;
	struct pgen pg;

	if (pick(w, 10)) {			/* a known command */
		static const int8_t mix[24] = { 0, 1, 1, 1, 2, 3, 3, 3, 3, 3,
						4, 4, 4, 4, 4, 1, 5, 5, 6, 6,
						7, 8, 8, 8 };

		c = mix[pick(w, 24)];
		nr = _IOC_NR(cmds[c]);
		dir = _IOC_DIR(cmds[c]);
		size = pick_size(w, c);
		if (!pick(w, 30))
			dir = pick(w, 4);
	} else {				/* anything */
		if (!pick(w, 2))
			type = other_types[pick(w, ARRAY_SIZE(other_types))];
		nr = pick(w, 3) ? pick(w, NCMD) : pick(w, 256);
		dir = pick(w, 4);
		size = pick(w, 2) ? pick_size(w, pick(w, NCMD)) : pick(w, 16384);
	}
	cmd = _IOC(dir, type, nr, size);
	/* Which command does the module see? */
	c = -1;
	if (type == CKPT_IOC_MAGIC)
		for (int i = 0; i < NCMD; i++)
			if (nr == _IOC_NR(cmds[i]) && dir == _IOC_DIR(cmds[i]))
				c = i;
	hc = c < 0 ? NCMD : c;

	/* The argument: the struct, then a tail that is usually zero. */
	memset(buf, 0, size < room ? size : room);
	memset(&pg, 0, sizeof(pg));
	if (c < 0 || pick(w, 50) == 0) {	/* garbage struct, zero tail */
		for (size_t i = 0; i < (c < 0 ? 64 : ksz[c]) && i < room; i++)
			buf[i] = (uint8_t)rnd64(w);
		pg.garbage = true;
	} else if (c == 0) {
		struct ckpt_info *in = (void *)buf;

		in->flags = pick(w, 5) ? 0 : some_flags(w, 0);
	} else if (c == 1) {
		struct ckpt_begin *b = (void *)buf;

		if (pick(w, 2)) {	/* a matching cgroup and root */
			uint32_t v = pick(w, 5);

			b->flags = v == 4 ? CKPT_BEGIN_ROOT_PIDFD : 0;
			switch (v) {
			case 0: b->cgroup_fd = cgfds[0]; b->root = ta.root; break;
			case 1: b->cgroup_fd = cgfds[2]; b->root = ta.kids[0]; break;
			case 2:
				b->cgroup_fd = cgfds[3];
				pthread_mutex_lock(&tk_lock);
				b->root = tk.root;
				pthread_mutex_unlock(&tk_lock);
				break;
			case 3: b->cgroup_fd = cgfds[5]; b->root = tf.root; break;
			default: b->cgroup_fd = cgfds[1]; b->root = pidfds[0]; break;
			}
			b->reserved = pick(w, 20) ? 0 : some_reserved(w);
		} else {
			b->flags = pick(w, 3) ? 0 : some_flags(w, CKPT_BEGIN_FLAGS);
			b->cgroup_fd = cgfds[pick(w, ncgfds)];
			if (b->flags == CKPT_BEGIN_ROOT_PIDFD && pick(w, 4))
				b->root = pidfds[pick(w, npidfds)];
			else
				b->root = tree_pid(w);
			b->reserved = some_reserved(w);
		}
	} else if (c == 2) {
		struct ckpt_end *e = (void *)buf;

		e->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		e->reserved = some_reserved(w);
	} else if (c == 3) {
		struct ckpt_scan *s = (void *)buf;
		static const uint32_t caps[] = { 0, 1, 2, 3, 8, 100, 1000, 1638,
						 5000, 0x7fffffff, 0xffffffff };

		s->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		s->capacity = cap = caps[pick(w, ARRAY_SIZE(caps))];
		rk = pick(w, 4) ? P_GOOD : pick_ptrkind(w);
		s->records = make_ptr(w, rk, w->recs, w->recs_end,
				      cap > 100 ? 4000 : cap * 40);
		if (rk == P_GOOD && pick(w, 4) == 0)	/* room for 2 records */
			s->records = (uintptr_t)w->recs_end - 80;
		s->count = (uint32_t)rnd64(w);
		s->reserved = some_reserved(w);
	} else if (c == 4) {
		struct ckpt_regs *r = (void *)buf;
		static const uint32_t sizes[] = { 0, 1, 512, 576, 4096,
						  XS_PAGES * 4096, 0xffffffff };

		switch (pick(w, 6)) {
		case 0: r->flags = CKPT_REGS_GP; break;
		case 1: r->flags = CKPT_REGS_XSTATE; break;
		case 2: r->flags = CKPT_REGS_FLAGS; break;
		default: r->flags = some_flags(w, CKPT_REGS_FLAGS);
		}
		r->tid = tree_pid(w);
		r->xstate_size = pick(w, 3) ? xstate_size :
				 sizes[pick(w, ARRAY_SIZE(sizes))];
		r->xstate = make_ptr(w, pick(w, 3) ? P_GOOD : pick_ptrkind(w),
				     w->xs, w->xs_end, r->xstate_size);
		r->reserved = some_reserved(w);
	} else if (c == 5) {
		struct ckpt_sigactions *a = (void *)buf;
		static const uint32_t counts[] = { 0, 1, 63, 64, 65, 128,
						   0x7fffffff, 0xffffffff };

		a->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		a->tid = tree_pid(w);
		a->count = pick(w, 3) ? CKPT_SIGACTIONS_NR :
			   counts[pick(w, ARRAY_SIZE(counts))];
		/* w->xs holds 4 pages: room for 64 entries (2 KiB) */
		a->actions = make_ptr(w, pick(w, 3) ? P_GOOD : pick_ptrkind(w),
				      w->xs, w->xs_end,
				      CKPT_SIGACTIONS_NR * CKPT_SIGACTION_SIZE);
		if (!pick(w, 8))	/* room for 63 entries only */
			a->actions = (uintptr_t)w->xs_end -
				     63 * CKPT_SIGACTION_SIZE;
		a->reserved = some_reserved(w);
	} else if (c == 6) {
		struct ckpt_thread *t = (void *)buf;

		t->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		t->tid = tree_pid(w);
		t->reserved = some_reserved(w);
		if (!pick(w, 4))	/* out fields: ignored on input */
			t->blocked = rnd64(w);
	} else if (c == 7) {
		struct ckpt_vmas *v = (void *)buf;
		static const uint32_t counts[] = { 0, 1, 2, 16, 255, 256, 257,
						   0x7fffffff, 0xffffffff };

		v->flags = pick(w, 10) ? 0 : some_flags(w, 0);
		v->pid = tree_pid(w);
		/* w->xs holds 4 pages: room for 256 entries */
		v->count = cap = pick(w, 3) ? 256 : counts[pick(w, ARRAY_SIZE(counts))];
		v->vmas = make_ptr(w, pick(w, 3) ? P_GOOD : pick_ptrkind(w),
				   w->xs, w->xs_end, 256 * CKPT_VMA_SIZE);
		if (!pick(w, 8))	/* room for 3 entries only */
			v->vmas = (uintptr_t)w->xs_end - 3 * CKPT_VMA_SIZE;
		v->reserved = some_reserved(w);
	} else if (c == C_PAGES) {
		gen_pages(w, (struct ckpt_pages *)buf, &pg, size);
	}
	if (c == C_PAGES) {
		pages_safe_fd(w, (struct ckpt_pages *)buf);
		pages_safe_hash(w, (struct ckpt_pages *)buf, size);
	}
	if (c >= 0 && size > ksz[c] && size <= room && !pick(w, 6) &&
	    (pk == P_GOOD || pk == P_MISALIGN)) {
		buf[ksz[c] + pick(w, size - ksz[c])] = 1 + pick(w, 255);
		tail_nonzero = true;
	}
	if (pk == P_STRADDLE && size <= room && size > 1) {
		/* Move the struct so that it ends in the guard page. */
		uint32_t cut = 1 + pick(w, size - 1);

		memmove(w->arena_end - (size - cut), buf, size - cut);
		uptr = (uintptr_t)(w->arena_end - (size - cut));
	} else if (pk == P_STRADDLE) {
		pk = P_GOOD;
		uptr = (uintptr_t)buf;
	} else if (pk == P_MISALIGN) {
		uint32_t off = 1 + pick(w, 7);

		if (size + off <= room) {
			memmove(buf + off, buf, size);
			uptr = (uintptr_t)buf + off;
		} else {
			pk = P_GOOD;
			uptr = (uintptr_t)buf;
		}
	} else {
		uptr = make_ptr(w, pk, buf, w->arena_end, size);
	}
	if (size > room && (pk == P_GOOD || pk == P_MISALIGN))
		pk = P_STRADDLE;	/* runs into the guard page */

	fd = slots[pick(w, NSLOT)];
	if (c == C_PAGES && (pk == P_GOOD || pk == P_MISALIGN))
		memcpy(pg.before, (void *)(uintptr_t)uptr, sizeof(pg.before));
	w->hash = (w->hash ^ cmd) * 0x100000001b3ULL;
	errno = 0;
	ret = ioctl(fd, cmd, (unsigned long)uptr);
	err = ret < 0 ? errno : 0;
	__atomic_fetch_add(&sh->calls, 1, __ATOMIC_RELAXED);
	w->ncalls++;
	__atomic_fetch_add(&sh->hist[hc][err < MAXERR ? err : 0], 1,
			   __ATOMIC_RELAXED);

	if (ret != 0 && ret != -1) {
		check(false, CMDFMT "returned %d", CMDARGS, ret);
		return;
	}
	if (c < 0) {
		check(ret == -1 && err == ENOTTY, CMDFMT "expected ENOTTY, got %s",
		      CMDARGS, fz_errname(err));
		return;
	}
	if (size < ver0[c]) {
		check(ret == -1 && err == EINVAL, CMDFMT "short size: expected EINVAL, got %s",
		      CMDARGS, fz_errname(err));
		return;
	}
	if (ptr_unmapped(pk)) {
		check(ret == -1 && err == EFAULT, CMDFMT "bad pointer: expected EFAULT, got %s",
		      CMDARGS, fz_errname(err));
		return;
	}
	if (tail_nonzero) {
		check(ret == -1 && err == E2BIG, CMDFMT "nonzero tail: expected E2BIG, got %s",
		      CMDARGS, fz_errname(err));
		return;
	}
	if (ret == -1 && !errno_documented(c, err)) {
		check(false, CMDFMT "undocumented errno %s", CMDARGS, fz_errname(err));
		return;
	}
	if (pk == P_RO && (_IOC_DIR(cmds[c]) & _IOC_READ) && ret == 0) {
		check(false, CMDFMT "copy-back to a read-only page succeeded", CMDARGS);
		return;
	}
	if (pk != P_GOOD && pk != P_MISALIGN) {
		check(true, "ok");
		return;
	}
	if (c == C_PAGES) {
		check_pages(w, &pg, uptr, ret, err, cmd, hc, nr, dir, size, pk);
		return;
	}
	/* Coherence of what came back. */
	if (c == 0 && ret == 0) {
		struct ckpt_info in;

		memcpy(&in, (void *)(uintptr_t)uptr, sizeof(in));
		check(in.abi_version == CKPT_ABI_VERSION &&
		      in.task_record_size == sizeof(struct ckpt_task) &&
		      in.begin_flags == CKPT_BEGIN_FLAGS &&
		      in.regs_flags == CKPT_REGS_FLAGS &&
		      (size < CKPT_INFO_SIZE_VER1 ||
		       (in.commands == 0x1ff && in.sigactions_flags == 0 &&
			in.thread_flags == 0)) &&
		      (size < CKPT_INFO_SIZE_VER2 ||
		       (in.vmas_flags == 0 && in.pages_flags == pages_offered)),
		      CMDFMT "INFO: abi %u rec %u vmas_flags %#llx pages_flags %#llx",
		      CMDARGS, in.abi_version, in.task_record_size,
		      (unsigned long long)in.vmas_flags,
		      (unsigned long long)in.pages_flags);
		return;
	}
	if (c == 5) {
		struct ckpt_sigactions a;

		memcpy(&a, (void *)(uintptr_t)uptr, sizeof(a));
		check(ret == 0 ? a.count == CKPT_SIGACTIONS_NR :
		      err == ENOSPC ? a.count == CKPT_SIGACTIONS_NR : a.count == 0,
		      CMDFMT "SIGACTIONS %s: count %u", CMDARGS, fz_errname(err),
		      a.count);
		return;
	}
	if (c == 7) {
		struct ckpt_vmas v;

		memcpy(&v, (void *)(uintptr_t)uptr, sizeof(v));
		/* Written: 1..capacity (a process has VMAs); ENOSPC: the
		 * number needed, more than the capacity; else 0. */
		check(ret == 0 ? v.count > 0 && v.count <= cap :
		      err == ENOSPC ? v.count > cap : v.count == 0,
		      CMDFMT "VMAS %s: count %u cap %u", CMDARGS, fz_errname(err),
		      v.count, cap);
		return;
	}
	if (c == 6) {
		struct ckpt_thread t;

		memcpy(&t, (void *)(uintptr_t)uptr, sizeof(t));
		/* Failed: every out field is 0 (some inputs set blocked). */
		check(ret == 0 ? t.robust_list_len == 24 && t.reserved == 0 &&
		      !(t.state & ~(CKPT_THREAD_RESTORE_SIGMASK | CKPT_THREAD_SIGTIMEDWAIT)) :
		      t.robust_list_len == 0 && t.blocked == 0 && t.state == 0,
		      CMDFMT "THREAD: robust_list_len %llu state %#x", CMDARGS,
		      (unsigned long long)t.robust_list_len, t.state);
		return;
	}
	if (c == 3) {
		struct ckpt_scan s;
		bool ok = true;

		memcpy(&s, (void *)(uintptr_t)uptr, sizeof(s));
		if (ret == 0) {
			ok = s.count <= cap;
			if (ok && s.count && rk == P_GOOD &&
			    s.records == (uintptr_t)w->recs)
				ok = ((struct ckpt_task *)w->recs)[0].flags &
				     CKPT_TASK_ROOT;
		} else if (err == ENOSPC) {
			ok = s.count > cap;
		} else if (err == EBUSY) {
			ok = s.err_reason == CKPT_SCAN_ERR_NOT_FROZEN ||
			     s.err_reason == CKPT_SCAN_ERR_PTRACED;
		} else if (err == EXDEV) {
			ok = s.err_reason == CKPT_SCAN_ERR_CGROUP;
		} else if (err == EPERM) {
			ok = s.err_reason == CKPT_SCAN_ERR_ACCESS;
		} else if (err == EAGAIN) {
			ok = s.err_reason == CKPT_SCAN_ERR_DEAD ||
			     s.err_reason == CKPT_SCAN_ERR_UNSTABLE;
		}
		check(ok, CMDFMT "SCAN %s: count %u cap %u err_pid %u reason %s",
		      CMDARGS, fz_errname(err), s.count, cap, s.err_pid,
		      ckpt_scan_err_name(s.err_reason));
		return;
	}
	check(true, "ok");
}

void one_op(struct worker *w)
{
	uint32_t v = pick(w, 1000);
	int i = pick(w, NSLOT), j = pick(w, NSLOT), nfd;

	if (v < 30) {				/* close + reopen a slot */
		nfd = ckpt_dev_open();
		check(nfd >= 0, "open /dev/ckpt: %s", fz_errname(errno));
		if (nfd >= 0) {
			dup3(nfd, slots[i], O_CLOEXEC);
			close(nfd);
		}
		__atomic_fetch_add(&sh->other_ops, 1, __ATOMIC_RELAXED);
	} else if (v < 45) {			/* share one file between slots */
		if (i != j)
			dup3(slots[j], slots[i], O_CLOEXEC);
		__atomic_fetch_add(&sh->other_ops, 1, __ATOMIC_RELAXED);
	} else if (v < 46) {			/* try to unload the module */
		int r = fz_delete_module(), e = errno;

		check(r == -1 && (e == EWOULDBLOCK || e == EBUSY),
		      "delete_module(ckpt) with open fds: %d/%s", r, fz_errname(e));
		__atomic_fetch_add(&sh->other_ops, 1, __ATOMIC_RELAXED);
		if (r == 0) {
			out("ckpt-fuzz: the module unloaded under open fds: stopping\n");
			sh->stop = 1;
		}
	} else if (v < 50) {			/* make room on the scratch fs */
		check(ftruncate(w->sfd, 0) == 0, "truncate the scratch file: %s",
		      fz_errname(errno));
		__atomic_fetch_add(&sh->other_ops, 1, __ATOMIC_RELAXED);
	} else {
		one_ioctl(w);
	}
}

/* An fd of the scratch file @fd, opened again with @flags. */
static int reopen_fd(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

/* This worker's own scratch file on the run's tmpfs, in four modes. */
static void worker_scratch(struct worker *w)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/w%d.%d", scratch_dir, w->id, (int)getpid());
	w->sfd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->sfd < 0) {
		out("ckpt-fuzz: scratch file %s: %s\n", path, fz_errname(errno));
		exit(2);
	}
	unlink(path);
	w->sfd_wo = reopen_fd(w->sfd, O_WRONLY);
	w->sfd_ro = reopen_fd(w->sfd, O_RDONLY);
	w->sfd_app = reopen_fd(w->sfd, O_WRONLY | O_APPEND);
	w->sfd_direct = reopen_fd(w->sfd, O_WRONLY | O_DIRECT);
	if (w->sfd_wo < 0 || w->sfd_ro < 0 || w->sfd_app < 0) {
		out("ckpt-fuzz: reopen the scratch file: %s\n", fz_errname(errno));
		exit(2);
	}
}

void worker_setup(struct worker *w, int id)
{
	size_t len = (ARENA_PAGES + 1 + REC_PAGES + 1 + XS_PAGES + 1 +
		      SRC_PAGES + 1 + HS_PAGES + 1) * page;
	uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	w->id = id;
	fz_rng_seed(&w->rng, seed, id);
	w->hash = 0xcbf29ce484222325ULL;
	w->arena = m;
	w->arena_end = m + ARENA_PAGES * page;
	mprotect(w->arena_end, page, PROT_NONE);
	w->recs = w->arena_end + page;
	w->recs_end = w->recs + REC_PAGES * page;
	mprotect(w->recs_end, page, PROT_NONE);
	w->xs = w->recs_end + page;
	w->xs_end = w->xs + XS_PAGES * page;
	mprotect(w->xs_end, page, PROT_NONE);
	w->src = w->xs_end + page;
	for (size_t i = 0; i < SRC_PAGES * (size_t)page; i++)
		w->src[i] = src_byte(i);
	mprotect(w->src + SRC_PAGES * page, page, PROT_NONE);
	w->hs = w->src + (SRC_PAGES + 1) * page;
	w->hs_end = w->hs + HS_PAGES * page;
	mprotect(w->hs_end, page, PROT_NONE);
	w->chain_ok = false;
	w->chain_buf = malloc(CHAIN_MAX);
	if (!w->chain_buf) {
		perror("malloc");
		exit(2);
	}
	worker_scratch(w);
}

void worker_close(struct worker *w)
{
	close(w->sfd);
	close(w->sfd_wo);
	close(w->sfd_ro);
	close(w->sfd_app);
	if (w->sfd_direct >= 0)
		close(w->sfd_direct);
	free(w->chain_buf);
}

void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&sh->calls, __ATOMIC_RELAXED) < max_calls)
		one_op(w);
	return NULL;
}
