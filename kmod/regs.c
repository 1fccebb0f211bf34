// SPDX-License-Identifier: GPL-2.0
/*
 * regs.c: the saved user registers of a frozen thread.
 *
 * ptrace would need the thread in a ptrace stop, which a frozen task cannot
 * enter without running.  A frozen task is off the CPU with its user state
 * saved (pt_regs, thread.fsbase/gsbase, the FPU buffer), which is exactly
 * what the regset interface reads for ptrace, so this reads it the same way.
 */
#include <linux/delay.h>
#include <linux/elf.h>
#include <linux/mm.h>
#include <linux/regset.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/user.h>
#include "ckpt.h"

static_assert(sizeof(struct ckpt_gpregs) == sizeof(struct user_regs_struct));
static_assert(offsetof(struct ckpt_gpregs, ip) ==
	      offsetof(struct user_regs_struct, ip));
static_assert(offsetof(struct ckpt_gpregs, fs_base) ==
	      offsetof(struct user_regs_struct, fs_base));
static_assert(offsetof(struct ckpt_gpregs, gs) ==
	      offsetof(struct user_regs_struct, gs));

static u32 ckpt_xstate_size;

static const struct user_regset *
ckpt_find_regset(const struct user_regset_view *view, unsigned int note)
{
	unsigned int i;

	for (i = 0; i < view->n; i++)
		if (view->regsets[i].core_note_type == note)
			return &view->regsets[i];
	return NULL;
}

int ckpt_regs_init(void)
{
	const struct user_regset *rs =
		ckpt_find_regset(task_user_regset_view(current), NT_X86_XSTATE);

	/* 0 means no XSAVE on this CPU; CKPT_IOC_REGS then says EOPNOTSUPP. */
	ckpt_xstate_size = rs ? rs->n * rs->size : 0;
	return 0;
}

u32 ckpt_regs_xstate_size(void)
{
	return ckpt_xstate_size;
}

/*
 * Is @t a thread of a process at or below the session's root?  Walks up
 * real_parent.  Caller holds tasklist_lock and has checked pid_alive(@t).
 */
static bool ckpt_in_tree(const struct ckpt_session *s, struct task_struct *t)
{
	struct task_struct *p;

	for (p = t->group_leader; p->pid; p = p->real_parent->group_leader) {
		if (task_pid(p) == s->root)
			return true;
		if (is_global_init(p))
			break;
	}
	return false;
}

/*
 * A task that just froze may still be on its way off the CPU, with its FPU
 * registers not yet saved.  Wait until it is not running anywhere.
 */
static int ckpt_wait_off_cpu(struct task_struct *t)
{
	int i;

	for (i = 0; smp_load_acquire(&t->on_cpu); i++) {
		if (i >= 1000)
			return -EAGAIN;
		usleep_range(10, 50);
	}
	return 0;
}

static const struct user_regset *ckpt_regset(struct task_struct *t,
					     unsigned int note)
{
	return ckpt_find_regset(task_user_regset_view(t), note);
}

/*
 * Look up thread @tid (caller's pid namespace) for a per-thread command
 * (REGS, SIGACTIONS, THREAD) and run the checks that may sleep.  On
 * success *@tp holds a reference the caller puts.  The caller repeats the
 * cheap checks under tasklist_lock with ckpt_thread_recheck().
 */
int ckpt_get_thread(const struct ckpt_session *s, u32 tid,
		    struct task_struct **tp)
{
	struct task_struct *t;
	struct pid *pid;
	u32 reason;
	int ret;

	if (!tid || tid > INT_MAX)
		return -ESRCH;
	pid = find_get_pid(tid);
	t = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (!t)
		return -ESRCH;
	ret = -EOPNOTSUPP;	/* io_uring/vhost workers: no user state */
	if (t->flags & CKPT_PF_WORKER)
		goto err;
	ret = ckpt_check_task(s, t, false, &reason);
	if (ret)
		goto err;
	*tp = t;
	return 0;
err:
	put_task_struct(t);
	return ret;
}

/*
 * The checks of ckpt_get_thread() again, under tasklist_lock, where they
 * hold until the lock is dropped: the thread is alive (so ->sighand and the
 * kernel stack stay, see below), in the session's tree and frozen.
 */
int ckpt_thread_recheck(const struct ckpt_session *s, struct task_struct *t)
{
	if (!pid_alive(t) || t->exit_state || ckpt_task_dying(t) ||
	    !pid_task(s->root, PIDTYPE_PID))
		return -EAGAIN;
	if (!ckpt_in_tree(s, t))
		return ckpt_task_dying_after(t) ? -EAGAIN : -EXDEV;
	if (!ckpt_task_is_frozen(s, t))
		return ckpt_task_dying_after(t) ? -EAGAIN : -EBUSY;
	return 0;
}

/*
 * Is @t a 64-bit (x86_64 ABI) task?  The regset view follows the saved
 * user CS in pt_regs; caller holds tasklist_lock (see ckpt_read_regsets).
 */
bool ckpt_thread_is_64bit(struct task_struct *t)
{
	const struct user_regset *rs = ckpt_regset(t, NT_PRSTATUS);

	return rs && rs->n * rs->size == sizeof(struct ckpt_gpregs);
}

/*
 * Read the regsets.  Runs under tasklist_lock: a task reference does not
 * keep the kernel stack (and so pt_regs) alive, but a task cannot finish
 * exiting, and free its stack, without taking tasklist_lock for write in
 * exit_notify().  With a buffer given, regset_get() only copies memory.
 */
static int ckpt_read_regsets(const struct ckpt_session *s,
			     struct task_struct *t, struct ckpt_regs *arg,
			     void *xbuf, unsigned int xsize)
{
	const struct user_regset *rs;
	int ret;

	ret = ckpt_thread_recheck(s, t);
	if (ret)
		return ret;
	if (READ_ONCE(t->on_cpu))
		return -EAGAIN;

	if (arg->flags & CKPT_REGS_GP) {
		rs = ckpt_regset(t, NT_PRSTATUS);
		/* Only 64-bit tasks: an ia32 task has another layout. */
		if (!rs || rs->n * rs->size != sizeof(arg->gp))
			return -EOPNOTSUPP;
		ret = regset_get(t, rs, sizeof(arg->gp), &arg->gp);
		if (ret < 0)
			return ret;
		if (ret != sizeof(arg->gp))
			return -EIO;
	}
	if (arg->flags & CKPT_REGS_XSTATE) {
		rs = ckpt_regset(t, NT_X86_XSTATE);
		if (!rs || !rs->n || rs->n * rs->size > xsize)
			return -EOPNOTSUPP;
		ret = regset_get(t, rs, rs->n * rs->size, xbuf);
		if (ret == -ENODEV)
			return -EOPNOTSUPP;
		if (ret < 0)
			return ret;
		arg->xstate_size = ret;
	}
	return 0;
}

int ckpt_regs(struct ckpt_session *s, struct ckpt_regs *arg)
{
	unsigned int xsize = ckpt_xstate_size;
	struct task_struct *t;
	void *xbuf = NULL;
	int ret;

	if (!arg->flags || (arg->flags & ~CKPT_REGS_FLAGS) || arg->reserved)
		return -EINVAL;
	if ((arg->flags & CKPT_REGS_XSTATE) && arg->xstate_size && !arg->xstate)
		return -EFAULT;
	if (!arg->tid || arg->tid > INT_MAX)
		return -ESRCH;
	if (arg->flags & CKPT_REGS_XSTATE) {
		if (!xsize)
			return -EOPNOTSUPP;
		if (arg->xstate_size < xsize) {
			arg->xstate_size = xsize;
			return -ENOSPC;
		}
	}

	/* The checks that may sleep; repeated under the lock below. */
	ret = ckpt_get_thread(s, arg->tid, &t);
	if (ret)
		return ret;
	ret = ckpt_wait_off_cpu(t);
	if (ret)
		goto out;
	if (arg->flags & CKPT_REGS_XSTATE) {
		ret = -ENOMEM;
		xbuf = kvzalloc(xsize, GFP_KERNEL_ACCOUNT);
		if (!xbuf)
			goto out;
	}

	ckpt_tasklist_read_lock();
	ret = ckpt_read_regsets(s, t, arg, xbuf, xsize);
	ckpt_tasklist_read_unlock();

	if (!ret && xbuf &&
	    copy_to_user(u64_to_user_ptr(arg->xstate), xbuf, arg->xstate_size))
		ret = -EFAULT;
out:
	kvfree(xbuf);
	put_task_struct(t);
	return ret;
}
