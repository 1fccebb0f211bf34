// SPDX-License-Identifier: GPL-2.0
/*
 * thread.c: per-thread state that /proc does not show (CKPT_IOC_SIGACTIONS,
 * CKPT_IOC_THREAD).
 *
 * Both commands read fields of another task.  That is safe here, and gives
 * a consistent checkpoint, because of how the thread is held:
 *  - ckpt_get_thread() pins the task_struct (get_pid_task) and checks,
 *    where it may sleep, that the thread is in the session's cgroup,
 *    frozen, untraced and ptrace-readable by the caller;
 *  - under tasklist_lock (read), ckpt_thread_recheck() checks again that
 *    it is alive, in the tree and frozen.  While the lock is held it
 *    cannot be released (release_task() -> __exit_signal() frees ->sighand
 *    under tasklist_lock for write), and ->sighand cannot be replaced
 *    (exec's unshare_sighand() swaps it under tasklist_lock for write);
 *  - the session keeps the cgroup frozen: nothing can thaw it until END.
 *    A frozen thread runs no code of its own, so every field only the
 *    thread itself writes (through its own system calls) is stable.
 *    A v2-frozen thread can still be SIGKILLed: it then runs do_exit()
 *    concurrently with this, which may clear clear_child_tid or
 *    robust_list.  The values are then those of a dying thread, which a
 *    later SCAN reports; the reads are still memory-safe (single aligned
 *    words of a pinned task_struct).
 * Fields that other tasks may write while the thread is frozen are read
 * under the lock their writers take, see below.  Nothing here sleeps under
 * tasklist_lock or ->siglock: the buffer is allocated before and copied to
 * user space after.
 */
#include <linux/cred.h>
#include <linux/futex.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "ckpt.h"

static_assert(CKPT_SIGACTIONS_NR == _NSIG);
static_assert(sizeof(sigset_t) == sizeof(__u64));

/* A sigset as a u64: bit N - 1 for signal N (_NSIG == 64 on x86_64). */
static u64 ckpt_sigset(const sigset_t *set)
{
	return set->sig[0];
}

/*
 * Copy the thread's signal actions into @out (_NSIG entries).  Caller holds
 * tasklist_lock and has rechecked @t (so @t->sighand is stable).  The
 * actions can change under a frozen thread: sighand is shared with the
 * other threads of the process (and CLONE_SIGHAND processes), and
 * force_sig_info_to_task() resets a blocked or ignored handler of another
 * task.  Every writer holds ->siglock, so the copy is taken under it: a
 * spinlock, hence into a kernel buffer, copied to user space later.
 */
static void ckpt_copy_sigactions(struct task_struct *t,
				 struct ckpt_sigaction *out)
{
	struct sighand_struct *sh = t->sighand;
	const struct k_sigaction *k;
	int i;

	spin_lock_irq(&sh->siglock);
	for (i = 0; i < _NSIG; i++) {
		k = &sh->action[i];
		out[i].handler = (u64)(unsigned long)k->sa.sa_handler;
		/*
		 * What rt_sigaction() returns (do_sigaction): no
		 * kernel-internal bits (SA_IMMUTABLE, the ia32/x32 ABI bits).
		 */
		out[i].flags = k->sa.sa_flags & UAPI_SA_FLAGS;
#ifdef __ARCH_HAS_SA_RESTORER
		out[i].restorer = (u64)(unsigned long)k->sa.sa_restorer;
#else
		out[i].restorer = 0;
#endif
		out[i].mask = ckpt_sigset(&k->sa.sa_mask);
	}
	spin_unlock_irq(&sh->siglock);
}

/* @s is the file's session, NULL if none (ENOENT). */
int ckpt_sigactions(struct ckpt_session *s, struct ckpt_sigactions *arg)
{
	const size_t size = _NSIG * sizeof(struct ckpt_sigaction);
	struct ckpt_sigaction *buf;
	struct task_struct *t;
	u32 capacity = arg->count;
	int ret;

	arg->count = 0;		/* out: nothing written, unless set below */
	if (!s)
		return -ENOENT;
	if (arg->flags || arg->reserved)
		return -EINVAL;
	if (capacity >= _NSIG && !arg->actions)
		return -EFAULT;
	if (!arg->tid || arg->tid > INT_MAX)
		return -ESRCH;
	if (capacity < _NSIG) {
		arg->count = _NSIG;
		return -ENOSPC;
	}

	ret = ckpt_get_thread(s, arg->tid, &t);
	if (ret)
		return ret;
	ret = -ENOMEM;
	buf = kmalloc(size, GFP_KERNEL_ACCOUNT);
	if (!buf)
		goto out_put;

	ckpt_tasklist_read_lock();
	ret = ckpt_thread_recheck(s, t);
	if (!ret && !ckpt_thread_is_64bit(t))
		ret = -EOPNOTSUPP;
	if (!ret)
		ckpt_copy_sigactions(t, buf);
	ckpt_tasklist_read_unlock();
	if (ret)
		goto out_free;

	ret = -EFAULT;
	if (copy_to_user(u64_to_user_ptr(arg->actions), buf, size))
		goto out_free;
	arg->count = _NSIG;
	ret = 0;
out_free:
	kfree(buf);
out_put:
	put_task_struct(t);
	return ret;
}

/*
 * Fill @out from @t.  Caller holds tasklist_lock and has rechecked @t.
 * Only spinlocks and RCU below; nothing sleeps.
 */
static void ckpt_read_thread(struct task_struct *t, struct ckpt_thread *out)
{
	struct sighand_struct *sh = t->sighand;

	/*
	 * Written only by the thread itself (sigaltstack(), signal delivery
	 * with SS_AUTODISARM, which on x86 (DYNAMIC_SIGFRAME) it does under
	 * ->siglock), set_tid_address(), set_robust_list(), rseq(),
	 * personality(), prctl(PR_SET_PDEATHSIG) and commit_creds(), or by its
	 * own exit: stable while it is frozen (see the top of this file).
	 * The signal state is taken under ->siglock because senders and
	 * force_sig_info_to_task() change ->pending and ->blocked of other
	 * tasks under it; the sigaltstack fields are read there too, so that
	 * the whole signal part is one snapshot.
	 */
	spin_lock_irq(&sh->siglock);
	out->sas_ss_sp = t->sas_ss_sp;
	out->sas_ss_size = t->sas_ss_size;
	out->sas_ss_flags = t->sas_ss_flags;
	out->blocked = ckpt_sigset(&t->blocked);
	out->pending = ckpt_sigset(&t->pending.signal);
	if (test_tsk_restore_sigmask(t)) {
		out->state |= CKPT_THREAD_RESTORE_SIGMASK;
		out->saved_sigmask = ckpt_sigset(&t->saved_sigmask);
	} else if (!sigisemptyset(&t->real_blocked)) {
		/*
		 * Inside rt_sigtimedwait() (frozen there by the v1 freezer):
		 * ->blocked lacks the awaited signals until the call puts
		 * ->real_blocked back.  An empty ->real_blocked needs no flag:
		 * the call then only removed bits from an empty mask.
		 */
		out->state |= CKPT_THREAD_SIGTIMEDWAIT;
		out->saved_sigmask = ckpt_sigset(&t->real_blocked);
	}
	spin_unlock_irq(&sh->siglock);

	out->clear_child_tid = (u64)(unsigned long)t->clear_child_tid;
#ifdef CONFIG_FUTEX
	out->robust_list = (u64)(unsigned long)t->robust_list;
#endif
	/*
	 * The kernel records no length: set_robust_list() accepts only
	 * sizeof(*head), and get_robust_list() always reports that size.
	 */
	out->robust_list_len = sizeof(struct robust_list_head);
	out->rseq = ckpt_task_rseq(t);
	out->rseq_len = ckpt_task_rseq_len(t);
	out->rseq_sig = ckpt_task_rseq_sig(t);
	out->personality = t->personality;
	out->pdeath_signal = t->pdeath_signal;

	/*
	 * Credentials are replaced (never changed in place) by commit_creds()
	 * and freed after an RCU grace period: read them under RCU.  The
	 * objective credentials, as /proc and get_task_cred() report them.
	 */
	rcu_read_lock();
	out->securebits = __task_cred(t)->securebits;
	rcu_read_unlock();

	/*
	 * Other tasks can write the timer slack of a frozen thread:
	 * /proc/PID/timerslack_ns (under task_lock) and, on 6.12,
	 * sched_setscheduler() to a realtime policy (under the rq lock).  A
	 * checkpoint records one value; a READ_ONCE of an aligned u64 is an
	 * untorn snapshot, no lock needed.
	 */
	out->timer_slack_ns = READ_ONCE(t->timer_slack_ns);
	out->default_timer_slack_ns = READ_ONCE(t->default_timer_slack_ns);
}

/* @s is the file's session, NULL if none (ENOENT). */
int ckpt_thread(struct ckpt_session *s, struct ckpt_thread *arg)
{
	struct ckpt_thread out = {
		.flags = arg->flags,
		.tid = arg->tid,
		.reserved = arg->reserved,
	};
	struct task_struct *t;
	int ret;

	/* The out fields are zero unless the call succeeds. */
	*arg = out;
	if (!s)
		return -ENOENT;
	if (arg->flags || arg->reserved)
		return -EINVAL;
	if (!arg->tid || arg->tid > INT_MAX)
		return -ESRCH;

	ret = ckpt_get_thread(s, arg->tid, &t);
	if (ret)
		return ret;
	ckpt_tasklist_read_lock();
	ret = ckpt_thread_recheck(s, t);
	if (!ret && !ckpt_thread_is_64bit(t))
		ret = -EOPNOTSUPP;	/* ia32: compat_robust_list etc. */
	if (!ret)
		ckpt_read_thread(t, &out);
	ckpt_tasklist_read_unlock();
	put_task_struct(t);
	if (!ret)
		*arg = out;
	return ret;
}
