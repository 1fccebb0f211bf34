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

/* Is @t a thread of a process at or below @root?  Walks up real_parent. */
static bool ckpt_in_tree(struct task_struct *root, struct task_struct *t)
{
	struct task_struct *p;
	bool found = false;

	rcu_read_lock();
	for (p = t->group_leader; p->pid;
	     p = rcu_dereference(p->real_parent)->group_leader) {
		if (p == root) {
			found = true;
			break;
		}
		if (is_global_init(p))
			break;
	}
	rcu_read_unlock();
	return found;
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

static int ckpt_read_gp(struct task_struct *t, struct ckpt_gpregs *gp)
{
	const struct user_regset *rs =
		ckpt_find_regset(task_user_regset_view(t), NT_PRSTATUS);
	int ret;

	/* Only 64-bit tasks: an ia32 task has another layout. */
	if (!rs || rs->n * rs->size != sizeof(*gp))
		return -EOPNOTSUPP;
	ret = regset_get(t, rs, sizeof(*gp), gp);
	if (ret < 0)
		return ret;
	return ret == sizeof(*gp) ? 0 : -EIO;
}

static int ckpt_read_xstate(struct task_struct *t, struct ckpt_regs *arg)
{
	const struct user_regset *rs =
		ckpt_find_regset(task_user_regset_view(t), NT_X86_XSTATE);
	unsigned int size;
	void *buf;
	int ret;

	if (!rs || !rs->n)
		return -EOPNOTSUPP;
	size = rs->n * rs->size;
	if (arg->xstate_size < size) {
		arg->xstate_size = size;
		return -ENOSPC;
	}
	buf = kvzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	ret = regset_get(t, rs, size, buf);
	if (ret == -ENODEV)
		ret = -EOPNOTSUPP;
	if (ret >= 0) {
		if (copy_to_user(u64_to_user_ptr(arg->xstate), buf, ret)) {
			ret = -EFAULT;
		} else {
			arg->xstate_size = ret;
			ret = 0;
		}
	}
	kvfree(buf);
	return ret;
}

int ckpt_regs(struct ckpt_session *s, struct ckpt_regs *arg)
{
	struct task_struct *root, *t;
	struct pid *pid;
	u32 reason;
	int ret;

	if (!arg->flags || (arg->flags & ~CKPT_REGS_FLAGS) || arg->reserved)
		return -EINVAL;
	if ((arg->flags & CKPT_REGS_XSTATE) && arg->xstate_size && !arg->xstate)
		return -EFAULT;
	if (!arg->tid || arg->tid > INT_MAX)
		return -ESRCH;

	pid = find_get_pid(arg->tid);
	t = pid ? get_pid_task(pid, PIDTYPE_PID) : NULL;
	put_pid(pid);
	if (!t)
		return -ESRCH;
	root = get_pid_task(s->root, PIDTYPE_PID);
	ret = -EXDEV;
	if (!root || !ckpt_in_tree(root, t))
		goto out;
	ret = ckpt_check_task(s, t, false, &reason);
	if (ret)
		goto out;
	ret = ckpt_wait_off_cpu(t);
	if (ret)
		goto out;
	if (arg->flags & CKPT_REGS_GP) {
		ret = ckpt_read_gp(t, &arg->gp);
		if (ret)
			goto out;
	}
	if (arg->flags & CKPT_REGS_XSTATE)
		ret = ckpt_read_xstate(t, arg);
out:
	if (root)
		put_task_struct(root);
	put_task_struct(t);
	return ret;
}
