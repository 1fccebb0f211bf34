// SPDX-License-Identifier: GPL-2.0
/*
 * scan.c: the DFS scan of a session's task tree.
 *
 * The classic two-pass design: count the tree under tasklist_lock, drop the
 * lock to allocate, fill under the lock again, and retry when the count
 * moved.  The tree is frozen, so it only moves when a task is killed
 * (cgroup v2 lets SIGKILL through its freezer).  The checks that may sleep
 * (ptrace access) run after the lock is dropped, on pinned tasks.
 *
 * Only thread-group leaders are on ->children lists, each on the list of
 * the thread that forked it, so the children of a process are the union of
 * its threads' lists.  The walk needs no stack: from a process it goes to
 * its first child, else to the next sibling of itself or of the nearest
 * ancestor that has one.
 */
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "ckpt.h"

#define CKPT_SCAN_RETRIES	8

/* All of this file's walking helpers need tasklist_lock held. */

/* First child of any thread of process @p, starting at thread @from. */
static struct task_struct *ckpt_first_child_from(struct task_struct *p,
						 struct task_struct *from)
{
	struct task_struct *t = from;

	for (;;) {
		if (!list_empty(&t->children))
			return list_first_entry(&t->children,
						struct task_struct, sibling);
		if (list_is_last(&t->thread_node, &p->signal->thread_head))
			return NULL;
		t = list_next_entry(t, thread_node);
	}
}

static struct task_struct *ckpt_first_child(struct task_struct *p)
{
	struct task_struct *first =
		list_first_entry(&p->signal->thread_head, struct task_struct,
				 thread_node);

	return ckpt_first_child_from(p, first);
}

/* The next child of the same process after @c, or NULL. */
static struct task_struct *ckpt_next_sibling(struct task_struct *c)
{
	struct task_struct *thread = c->real_parent;
	struct task_struct *parent = thread->group_leader;

	if (!list_is_last(&c->sibling, &thread->children))
		return list_next_entry(c, sibling);
	if (list_is_last(&thread->thread_node, &parent->signal->thread_head))
		return NULL;
	return ckpt_first_child_from(parent, list_next_entry(thread,
							     thread_node));
}

/*
 * Visit every task below @root in DFS pre-order, processes first, then
 * their other threads.  @visit returns false to stop.  Returns false if
 * stopped.
 */
typedef bool (*ckpt_visit_t)(struct task_struct *t, u32 depth, void *ctx);

static bool ckpt_walk(struct task_struct *root, ckpt_visit_t visit, void *ctx)
{
	struct task_struct *p = root, *next, *t;
	u32 depth = 0;

	for (;;) {
		if (!visit(p, depth, ctx))
			return false;
		ckpt_for_each_thread(p, t)
			if (t != p && !visit(t, depth, ctx))
				return false;

		next = ckpt_first_child(p);
		if (next) {
			p = next;
			depth++;
			continue;
		}
		while (p != root) {
			next = ckpt_next_sibling(p);
			if (next)
				break;
			p = p->real_parent->group_leader;
			depth--;
		}
		if (p == root)
			return true;
		p = next;
	}
}

static bool ckpt_count_one(struct task_struct *t, u32 depth, void *ctx)
{
	(*(u32 *)ctx)++;
	return true;
}

struct ckpt_fill {
	struct task_struct *root;
	struct pid_namespace *ns;	/* the root's */
	struct pid_namespace *caller_ns;
	struct task_struct **tasks;	/* pinned */
	struct ckpt_task *recs;
	u32 capacity, count;
};

static bool ckpt_fill_one(struct task_struct *t, u32 depth, void *ctx)
{
	struct ckpt_fill *f = ctx;
	struct ckpt_task *r;
	u32 flags = 0;

	if (f->count == f->capacity)
		return false;	/* the tree grew: retry */
	r = &f->recs[f->count];
	f->tasks[f->count++] = t;
	get_task_struct(t);

	r->pid = task_pid_nr_ns(t, f->ns);
	r->tgid = task_tgid_nr_ns(t, f->ns);
	r->ppid = task_tgid_nr_ns(t->real_parent, f->ns);
	r->pgid = task_pgrp_nr_ns(t, f->ns);
	r->sid = task_session_nr_ns(t, f->ns);
	r->vpid = task_pid_nr_ns(t, f->caller_ns);
	r->vtgid = task_tgid_nr_ns(t, f->caller_ns);
	r->depth = depth;
	r->reserved = 0;

	flags |= thread_group_leader(t) ? CKPT_TASK_LEADER : CKPT_TASK_THREAD;
	if (t->exit_state == EXIT_ZOMBIE)
		flags |= CKPT_TASK_ZOMBIE;
	if (thread_group_leader(t) && r->sid && r->sid == r->pid)
		flags |= CKPT_TASK_SESSION_LEADER;
	if (is_child_reaper(task_pid(t)))
		flags |= CKPT_TASK_PIDNS_INIT;
	if (t == f->root)
		flags |= CKPT_TASK_ROOT;
	if (t->flags & CKPT_PF_WORKER)
		flags |= CKPT_TASK_WORKER;
	r->flags = flags;
	return true;
}

static void ckpt_fill_release(struct ckpt_fill *f)
{
	u32 i;

	for (i = 0; i < f->count; i++)
		put_task_struct(f->tasks[i]);
	f->count = 0;
}

/*
 * Take tasklist_lock and make sure the root is still there to walk from:
 * once reaped its thread list is empty and its pid detached.
 */
static int ckpt_lock_root(struct task_struct *root, struct ckpt_scan *arg)
{
	ckpt_tasklist_read_lock();
	if (!ckpt_process_dead(root))
		return 0;
	ckpt_tasklist_read_unlock();
	arg->err_reason = CKPT_SCAN_ERR_DEAD;
	return -EAGAIN;
}

/*
 * Collect the tree: on success f->tasks/f->recs hold f->count entries.
 * Returns ENOSPC (with arg->count set) when the caller's buffer is too
 * small.
 */
static int ckpt_collect(struct ckpt_session *s, struct task_struct *root,
			struct ckpt_fill *f, struct ckpt_scan *arg)
{
	int attempt;
	u32 n;

	for (attempt = 0; attempt < CKPT_SCAN_RETRIES; attempt++) {
		n = 0;
		if (ckpt_lock_root(root, arg))
			return -EAGAIN;
		ckpt_walk(root, ckpt_count_one, &n);
		ckpt_tasklist_read_unlock();

		if (n > arg->capacity) {
			arg->count = n;
			return -ENOSPC;
		}
		f->tasks = kvmalloc_array(n, sizeof(*f->tasks),
					  GFP_KERNEL_ACCOUNT);
		f->recs = kvmalloc_array(n, sizeof(*f->recs),
					 GFP_KERNEL_ACCOUNT);
		if (!f->tasks || !f->recs) {
			kvfree(f->tasks);
			kvfree(f->recs);
			f->tasks = NULL;
			f->recs = NULL;
			return -ENOMEM;
		}
		f->capacity = n;
		f->count = 0;

		if (ckpt_lock_root(root, arg)) {
			kvfree(f->tasks);
			kvfree(f->recs);
			f->tasks = NULL;
			f->recs = NULL;
			return -EAGAIN;
		}
		if (ckpt_walk(root, ckpt_fill_one, f) && f->count == n) {
			ckpt_tasklist_read_unlock();
			return 0;
		}
		ckpt_tasklist_read_unlock();

		ckpt_fill_release(f);
		kvfree(f->tasks);
		kvfree(f->recs);
		f->tasks = NULL;
		f->recs = NULL;
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	arg->err_reason = CKPT_SCAN_ERR_UNSTABLE;
	return -EAGAIN;
}

int ckpt_scan(struct ckpt_session *s, struct ckpt_scan *arg)
{
	struct ckpt_fill f = { };
	struct task_struct *root;
	u32 i, reason;
	int ret;

	if (arg->flags || arg->reserved)
		return -EINVAL;
	arg->count = 0;
	arg->err_pid = 0;
	arg->err_reason = CKPT_SCAN_ERR_NONE;
	if (arg->capacity && !arg->records)
		return -EFAULT;

	if (!ckpt_hooks_armed())
		return -EOPNOTSUPP;
	root = get_pid_task(s->root, PIDTYPE_PID);
	if (!root) {
		arg->err_reason = CKPT_SCAN_ERR_DEAD;
		return -EAGAIN;
	}
	f.root = root;
	f.ns = ns_of_pid(s->root);	/* pinned by the session's pid */
	f.caller_ns = task_active_pid_ns(current);

	ret = ckpt_collect(s, root, &f, arg);
	if (ret)
		goto out_root;

	for (i = 0; i < f.count; i++) {
		ret = ckpt_check_task(s, f.tasks[i], true, &reason);
		if (ret) {
			arg->err_pid = task_pid_nr_ns(f.tasks[i], f.caller_ns);
			arg->err_reason = reason;
			goto out_release;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto out_release;
		}
	}

	if (copy_to_user(u64_to_user_ptr(arg->records), f.recs,
			 array_size(f.count, sizeof(*f.recs)))) {
		ret = -EFAULT;
		goto out_release;
	}
	arg->count = f.count;

out_release:
	ckpt_fill_release(&f);
	kvfree(f.tasks);
	kvfree(f.recs);
out_root:
	put_task_struct(root);
	return ret;
}
