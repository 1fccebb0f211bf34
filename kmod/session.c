// SPDX-License-Identifier: GPL-2.0
/*
 * session.c: checkpoint sessions and the CHECKPOINTING state.
 *
 * A session pins one cgroup that its own freezer setting froze.  While the
 * session is on ckpt_sessions, the guards in hooks.c refuse to change the
 * freezer state of that cgroup and its descendants and to move tasks into
 * or out of them: the cgroup is CHECKPOINTING.  Ending the session just
 * unpublishes it; the freezer state was never touched, so the cgroup is
 * FROZEN again.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/suspend.h>
#include <linux/pid_namespace.h>
#include <linux/ptrace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include "ckpt.h"

/*
 * Active sessions.  Changed under ckpt_sessions_mutex with the _rcu list
 * primitives; read under rcu_read_lock() by the guards, which run in atomic
 * context.  Sessions are freed after a grace period (ckpt_session_free).
 */
static LIST_HEAD(ckpt_sessions);
static DEFINE_MUTEX(ckpt_sessions_mutex);
static bool ckpt_suspending;		/* ckpt_sessions_mutex */

/* @t's cgroup on @s's hierarchy.  Caller holds rcu_read_lock(). */
struct cgroup *ckpt_task_cgroup(const struct ckpt_session *s,
				struct task_struct *t)
{
	if (s->v1)
		return task_css(t, freezer_cgrp_id)->cgroup;
	return task_dfl_cgroup(t);
}

/* Is @cgrp a session's cgroup or below one?  Caller holds rcu_read_lock(). */
bool ckpt_guard_cgroup(struct cgroup *cgrp)
{
	struct ckpt_session *s;

	list_for_each_entry_rcu(s, &ckpt_sessions, node)
		if (cgroup_is_descendant(cgrp, s->cgrp))
			return true;
	return false;
}

/* Is @cgrp exactly a session's cgroup?  Caller holds rcu_read_lock(). */
bool ckpt_guard_is_session(struct cgroup *cgrp)
{
	struct ckpt_session *s;

	list_for_each_entry_rcu(s, &ckpt_sessions, node)
		if (s->cgrp == cgrp)
			return true;
	return false;
}

/*
 * Would moving @leader (with its threads if @threadgroup) to @dst enter or
 * leave a session's subtree?  Only migrations on a session's own hierarchy
 * count: moving a task in, say, a v1 cpu hierarchy thaws nothing.  Caller
 * holds rcu_read_lock().
 */
bool ckpt_guard_attach(struct cgroup *dst, struct task_struct *leader,
		       bool threadgroup)
{
	struct ckpt_session *s;
	struct task_struct *t;

	list_for_each_entry_rcu(s, &ckpt_sessions, node) {
		if (dst->root != s->cgrp->root)
			continue;
		if (cgroup_is_descendant(dst, s->cgrp))
			return true;
		if (!threadgroup) {
			if (cgroup_is_descendant(ckpt_task_cgroup(s, leader),
						 s->cgrp))
				return true;
			continue;
		}
		ckpt_for_each_thread(leader, t)
			if (cgroup_is_descendant(ckpt_task_cgroup(s, t), s->cgrp))
				return true;
	}
	return false;
}

/*
 * Frozen by its own freezer setting, and every task in it frozen.  v2 sets
 * CGRP_FROZEN on a cgroup once its own tasks are frozen, even while tasks
 * of its descendants are still on their way (cgroup_update_frozen() looks
 * at the cgroup's own tasks only), so every descendant must be frozen too.
 */
static bool ckpt_cgroup_self_frozen(const struct ckpt_session *s)
{
	if (s->v1)
		return ckpt_v1_self_frozen(s->cgrp);
	return READ_ONCE(s->cgrp->freezer.freeze) &&
	       test_bit(CGRP_FROZEN, &s->cgrp->flags) &&
	       READ_ONCE(s->cgrp->freezer.nr_frozen_descendants) ==
	       READ_ONCE(s->cgrp->nr_descendants);
}

/* Is @t stopped by the session's freezer (v1 or v2)? */
bool ckpt_task_is_frozen(const struct ckpt_session *s, struct task_struct *t)
{
	return s->v1 ? ckpt_task_frozen_v1(t) : t->frozen;
}

static bool ckpt_task_in_session_cgroup(const struct ckpt_session *s,
					struct task_struct *t)
{
	bool in;

	rcu_read_lock();
	in = cgroup_is_descendant(ckpt_task_cgroup(s, t), s->cgrp);
	rcu_read_unlock();
	return in;
}

/*
 * The checks every task of a session passes (scan and REGS).  Returns 0 or
 * a negative errno and sets *@reason to a CKPT_SCAN_ERR_*.  May sleep.
 */
int ckpt_check_task(const struct ckpt_session *s, struct task_struct *t,
		    bool allow_zombie, u32 *reason)
{
	int exit_state = READ_ONCE(t->exit_state);

	if (exit_state == EXIT_DEAD || (!exit_state && ckpt_task_dying(t)) ||
	    (exit_state && !allow_zombie)) {
		*reason = CKPT_SCAN_ERR_DEAD;
		return -EAGAIN;
	}
	if (!ckpt_task_in_session_cgroup(s, t)) {
		if (!exit_state && ckpt_task_dying_after(t)) {
			*reason = CKPT_SCAN_ERR_DEAD;
			return -EAGAIN;
		}
		*reason = CKPT_SCAN_ERR_CGROUP;
		return -EXDEV;
	}
	if (!exit_state) {
		/*
		 * A zombie cannot run; anyone else must be frozen.  A v2-frozen
		 * task SIGKILLed after the check above has left the freezer
		 * to die: that is DEAD, not NOT_FROZEN.
		 */
		if (!ckpt_task_is_frozen(s, t)) {
			if (ckpt_task_dying_after(t)) {
				*reason = CKPT_SCAN_ERR_DEAD;
				return -EAGAIN;
			}
			*reason = CKPT_SCAN_ERR_NOT_FROZEN;
			return -EBUSY;
		}
		/* A tracer could change its state under the checkpoint. */
		if (READ_ONCE(t->ptrace)) {
			*reason = CKPT_SCAN_ERR_PTRACED;
			return -EBUSY;
		}
	}
	if (!ckpt_ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS)) {
		*reason = CKPT_SCAN_ERR_ACCESS;
		return -EPERM;
	}
	*reason = CKPT_SCAN_ERR_NONE;
	return 0;
}

static void ckpt_session_free(struct rcu_head *rcu)
{
	struct ckpt_session *s = container_of(rcu, struct ckpt_session, rcu);

	cgroup_put(s->cgrp);
	put_pid(s->root);
	kfree(s);
}

/* Does @cgrp overlap (same, ancestor or descendant) an active session? */
static bool ckpt_sessions_overlap(struct cgroup *cgrp)
{
	struct ckpt_session *s;

	lockdep_assert_held(&ckpt_sessions_mutex);
	list_for_each_entry(s, &ckpt_sessions, node)
		if (cgroup_is_descendant(cgrp, s->cgrp) ||
		    cgroup_is_descendant(s->cgrp, cgrp))
			return true;
	return false;
}

/* The root task must be a live process in the cgroup that we may trace. */
static int ckpt_check_root(const struct ckpt_session *s)
{
	struct task_struct *t = get_pid_task(s->root, PIDTYPE_PID);
	int ret = 0;

	bool dead;

	if (!t)
		return -ESRCH;
	rcu_read_lock();
	dead = ckpt_process_dead(t);
	rcu_read_unlock();
	if (!thread_group_leader(t))
		ret = -EINVAL;
	else if (dead)
		ret = -ESRCH;
	else if (!ckpt_task_in_session_cgroup(s, t))
		ret = -EXDEV;
	else if (!ckpt_ptrace_may_access(t, PTRACE_MODE_ATTACH_REALCREDS))
		ret = -EPERM;
	put_task_struct(t);
	return ret;
}

static int ckpt_check_cgroup_and_root(const struct ckpt_session *s)
{
	if (!ckpt_cgroup_self_frozen(s))
		return -EAGAIN;
	return ckpt_check_root(s);
}

static struct pid *ckpt_root_pid(const struct ckpt_begin *arg)
{
	struct pid *pid;

	if (arg->flags & CKPT_BEGIN_ROOT_PIDFD) {
		if (arg->root > INT_MAX)
			return ERR_PTR(-EBADF);
		return ckpt_pidfd_pid(arg->root);
	}
	if (arg->root == 0 || arg->root > INT_MAX)
		return ERR_PTR(-ESRCH);
	pid = find_get_pid(arg->root);
	return pid ? pid : ERR_PTR(-ESRCH);
}

int ckpt_session_begin(struct ckpt_file *cf, const struct ckpt_begin *arg)
{
	struct ckpt_session *s;
	int ret;

	lockdep_assert_held(&cf->lock);
	if (arg->flags & ~CKPT_BEGIN_FLAGS || arg->reserved)
		return -EINVAL;
	if (!checkpoint_restore_ns_capable(&init_user_ns))
		return -EPERM;
	if (cf->session)
		return -EALREADY;
	if (arg->cgroup_fd > INT_MAX)
		return -EBADF;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return -ENOMEM;
	s->cgrp = ckpt_cgroup_from_fd(arg->cgroup_fd, &s->v1);
	if (IS_ERR(s->cgrp)) {
		ret = PTR_ERR(s->cgrp);
		goto err_free;
	}
	ret = -EOPNOTSUPP;	/* a v1 hierarchy without the freezer */
	if (s->v1 && !(s->cgrp->root->subsys_mask & (1U << freezer_cgrp_id)))
		goto err_cgroup;
	s->root = ckpt_root_pid(arg);
	if (IS_ERR(s->root)) {
		ret = PTR_ERR(s->root);
		goto err_cgroup;
	}

	/*
	 * Check once before publishing, so that a BEGIN bound to fail does
	 * not make writes on the cgroup fail while it waits in the barrier.
	 */
	ret = ckpt_check_cgroup_and_root(s);
	if (ret)
		goto err_pid;

	mutex_lock(&ckpt_sessions_mutex);
	ret = -EBUSY;		/* suspend would thaw v1 tasks on 6.12 */
	if (ckpt_suspending || ckpt_sessions_overlap(s->cgrp))
		goto err_unlock;
	ret = -EOPNOTSUPP;
	if (!ckpt_hooks_armed())
		goto err_unlock;
	/*
	 * Publish, wait for the guarded operations that could not see it,
	 * then check again.  From here on, nothing can thaw the cgroup or
	 * move tasks across its border, so what is checked stays true.
	 */
	list_add_rcu(&s->node, &ckpt_sessions);
	ckpt_hooks_barrier();
	ret = ckpt_check_cgroup_and_root(s);
	if (ret)
		goto err_unpublish;
	mutex_unlock(&ckpt_sessions_mutex);

	cf->session = s;
	return 0;

err_unpublish:
	list_del_rcu(&s->node);
	mutex_unlock(&ckpt_sessions_mutex);
	call_rcu(&s->rcu, ckpt_session_free);
	return ret;
err_unlock:
	mutex_unlock(&ckpt_sessions_mutex);
err_pid:
	put_pid(s->root);
err_cgroup:
	cgroup_put(s->cgrp);
err_free:
	kfree(s);
	return ret;
}

/* Ends @cf's session.  Also the release path of the file, so never fails
 * once there is a session. */
int ckpt_session_end(struct ckpt_file *cf)
{
	struct ckpt_session *s = cf->session;

	if (!s)
		return -ENOENT;
	mutex_lock(&ckpt_sessions_mutex);
	list_del_rcu(&s->node);
	mutex_unlock(&ckpt_sessions_mutex);
	cf->session = NULL;
	call_rcu(&s->rcu, ckpt_session_free);
	return 0;
}

/*
 * System suspend thaws every frozen task on the way back (thaw_processes),
 * and on 6.12 that includes tasks a v1 cgroup holds frozen.  A checkpoint
 * must not be thawed under it, so suspend waits for sessions to end, and
 * no session begins while the system is suspending.
 */
static int ckpt_pm_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	int ret = NOTIFY_OK;

	mutex_lock(&ckpt_sessions_mutex);
	switch (action) {
	case PM_SUSPEND_PREPARE:
	case PM_HIBERNATION_PREPARE:
	case PM_RESTORE_PREPARE:
		if (!list_empty(&ckpt_sessions)) {
			pr_warn("refusing system suspend: checkpoint sessions are active\n");
			ret = NOTIFY_BAD;
		} else {
			ckpt_suspending = true;
		}
		break;
	case PM_POST_SUSPEND:
	case PM_POST_HIBERNATION:
	case PM_POST_RESTORE:
		ckpt_suspending = false;
		break;
	}
	mutex_unlock(&ckpt_sessions_mutex);
	return ret;
}

static struct notifier_block ckpt_pm_nb = {
	.notifier_call = ckpt_pm_notify,
};

int ckpt_sessions_init(void)
{
	return register_pm_notifier(&ckpt_pm_nb);
}

void ckpt_sessions_exit(void)
{
	unregister_pm_notifier(&ckpt_pm_nb);
}
