/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ckpt.h: what the files of ckpt.ko share.
 *
 *   main.c     module init/exit, /dev/ckpt, ioctl argument handling
 *   session.c  sessions and the CHECKPOINTING state (guard predicates)
 *   scan.c     the DFS scan of a session's task tree
 *   regs.c     registers of a frozen thread through the regset interface,
 *              and the lookup and checks of every per-thread command
 *   thread.c   signal actions and per-thread state of a frozen thread
 *   mm.c       the memory map (VMAs) of a frozen process
 *   hooks.c    every touch point with kernel internals (symbols, probes)
 */
#ifndef _CKPT_H
#define _CKPT_H

#include <linux/cgroup.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/ckpt.h>

/*
 * A checkpoint session: one cgroup held in CHECKPOINTING and a root task.
 * Immutable once published; lives on ckpt_sessions (session.c) and is freed
 * after an RCU grace period, so guard hooks may read it under rcu_read_lock.
 */
struct ckpt_session {
	struct list_head node;		/* on ckpt_sessions, see session.c */
	struct cgroup *cgrp;		/* pinned reference */
	bool v1;			/* on a cgroup v1 freezer hierarchy */
	struct pid *root;		/* pinned; a thread-group leader */
	struct rcu_head rcu;
};

/* The state of one open /dev/ckpt. */
struct ckpt_file {
	struct mutex lock;		/* serialises this file's ioctls */
	struct ckpt_session *session;	/* under @lock; NULL when idle */
};

/*
 * The threads of process @p, under tasklist_lock or rcu_read_lock().  Like
 * for_each_thread(), but lockdep-clean without naming tasklist_lock (6.12's
 * for_each_thread does, and the symbol is not exported).
 */
#define ckpt_for_each_thread(p, t)					\
	list_for_each_entry_rcu(t, &(p)->signal->thread_head, thread_node, \
				lockdep_tasklist_lock_is_held())

/*
 * Is the process led by @leader gone or going?  A leader that exited
 * while its other threads run is a zombie but its process is alive.
 * Caller holds tasklist_lock or rcu_read_lock() and a reference on @leader.
 */
static inline bool ckpt_process_dead(struct task_struct *leader)
{
	return !pid_alive(leader) ||
	       (leader->signal->flags & SIGNAL_GROUP_EXIT) ||
	       (leader->exit_state && thread_group_empty(leader));
}

/*
 * Is @t on its way out?  A SIGKILLed v2-frozen task leaves the freezer
 * (t->frozen cleared) before do_exit() sets PF_EXITING: the pending kill
 * or the group exit says it is dying, not thawed.  Caller holds a
 * reference on @t (which keeps ->signal).
 */
static inline bool ckpt_task_dying(struct task_struct *t)
{
	return (t->flags & PF_EXITING) || __fatal_signal_pending(t) ||
	       (READ_ONCE(t->signal->flags) & SIGNAL_GROUP_EXIT);
}

/*
 * @t was found not frozen, or outside the session's cgroup: was it killed?
 * The kill marks the task (pending SIGKILL, SIGNAL_GROUP_EXIT) before it
 * wakes it, and the task leaves the freezer only after that wake-up (a
 * full barrier); so a reader that saw the effect of leaving must, after a
 * read barrier, see the mark.  Checking "dying" once before the frozen
 * check is not enough: the kill can land between the two reads.
 */
static inline bool ckpt_task_dying_after(struct task_struct *t)
{
	smp_rmb();
	return ckpt_task_dying(t);
}

/* session.c */
int ckpt_sessions_init(void);
void ckpt_sessions_exit(void);
bool ckpt_task_is_frozen(const struct ckpt_session *s, struct task_struct *t);
int ckpt_session_begin(struct ckpt_file *cf, const struct ckpt_begin *arg);
int ckpt_session_end(struct ckpt_file *cf);
struct cgroup *ckpt_task_cgroup(const struct ckpt_session *s,
				struct task_struct *t);
bool ckpt_guard_cgroup(struct cgroup *cgrp);
bool ckpt_guard_is_session(struct cgroup *cgrp);
bool ckpt_guard_attach(struct cgroup *dst, struct task_struct *leader,
		       bool threadgroup);
int ckpt_check_task(const struct ckpt_session *s, struct task_struct *t,
		    bool allow_zombie, u32 *reason);

/* scan.c */
int ckpt_scan(struct ckpt_session *s, struct ckpt_scan *arg);

/* regs.c */
int ckpt_regs_init(void);
u32 ckpt_regs_xstate_size(void);
int ckpt_regs(struct ckpt_session *s, struct ckpt_regs *arg);
int ckpt_get_thread(const struct ckpt_session *s, u32 tid,
		    struct task_struct **tp);
int ckpt_thread_recheck(const struct ckpt_session *s, struct task_struct *t);
bool ckpt_thread_is_64bit(struct task_struct *t);

/* thread.c */
int ckpt_sigactions(struct ckpt_session *s, struct ckpt_sigactions *arg);
int ckpt_thread(struct ckpt_session *s, struct ckpt_thread *arg);

/* mm.c */
int ckpt_vmas(struct ckpt_session *s, struct ckpt_vmas *arg);

/* pages.c */
int ckpt_pages(struct ckpt_pages *arg);
u32 ckpt_pages_flags(void);

/* hooks.c */
int ckpt_hooks_init(void);
void ckpt_hooks_exit(void);
void ckpt_hooks_barrier(void);
bool ckpt_hooks_armed(void);
void ckpt_tasklist_read_lock(void);
void ckpt_tasklist_read_unlock(void);
bool ckpt_ptrace_may_access(struct task_struct *t, unsigned int mode);
struct cgroup *ckpt_cgroup_from_fd(int fd, bool *v1);
struct pid *ckpt_pidfd_pid(int fd);
bool ckpt_v1_self_frozen(struct cgroup *cgrp);

#endif /* _CKPT_H */
