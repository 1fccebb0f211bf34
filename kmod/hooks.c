// SPDX-License-Identifier: GPL-2.0
/*
 * hooks.c: every place where ckpt.ko reaches into kernel internals.
 *
 * Nothing outside this file uses a symbol the kernel does not export, a
 * private structure layout, or a probe.  Each touch point is listed here
 * with why it is needed; Documentation/hooks.md has the long form.
 *
 * A. Symbols that are not exported, resolved once at load time.  A missing
 *    one makes the load fail with a message naming it.
 *      kallsyms_lookup_name   to resolve the data symbols below; its own
 *                             address comes from a kprobe placed on it.
 *      tasklist_lock          the scan walks ->children lists, which only
 *                             tasklist_lock protects (not RCU).
 *      cgroup_mutex           BEGIN's barrier against a migration that
 *                             passed the guard just before the session was
 *                             published (cgroup_attach_task runs under it).
 *      ptrace_may_access      the access check of the scan and of REGS.
 *      pidfd_fops / pidfs_file_operations
 *                             to recognise a pidfd (compat.h names it).
 *      kprobes_all_disarmed, ftrace_enabled
 *                             root can switch every kprobe or ftrace user
 *                             off; BEGIN and SCAN refuse while the guard
 *                             is disarmed that way.
 *    Functions are only called through a pointer after checking that their
 *    entry can take an indirect call (IBT, see compat.h).
 *
 * B. Private layouts mirrored here.
 *      struct freezer         kernel/cgroup/legacy_freezer.c; the v1 state
 *                             bits, to see that a cgroup froze by itself.
 *      kernfs inode           i_private of a kernfs inode is its
 *                             kernfs_node, and ->priv of a cgroup
 *                             directory's node is the cgroup; this is how
 *                             a v1 cgroup fd is resolved (the kernel's own
 *                             cgroup_v1v2_get_from_fd is not exported).
 *
 * C. Guards: kprobes (ftrace-based on both kernels) at function entries.
 *      freezer_write          v1 freezer.state writes.  Redirected to a
 *                             wrapper that refuses with EBUSY when the
 *                             cgroup is in a session, else calls the
 *                             original.
 *      cgroup_freeze_write    v2 cgroup.freeze writes.  Same wrapper.
 *      freezer_read           v1 freezer.state reads print CHECKPOINTING
 *                             for a session's cgroup.
 *      cgroup_attach_task     every migration through cgroup.procs,
 *                             cgroup.threads and tasks, v1 and v2.  Refused
 *                             with EBUSY (ckpt_return_stub) when the
 *                             destination, or the cgroup the task leaves,
 *                             is in a session.
 *    The wrappers hold ckpt_guard_srcu while deciding and while the
 *    original runs, so BEGIN can wait (ckpt_hooks_barrier) for every write
 *    that was let through before its session became visible.  That makes
 *    the guard exact: a write either fails with EBUSY or completes before
 *    BEGIN looks at the freezer state.  The same SRCU, with RCU-tasks,
 *    keeps the module text alive at unload while a task is in a wrapper.
 */
#include <linux/cgroup.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kernfs.h>
#include <linux/kprobes.h>
#include <linux/magic.h>
#include <linux/ptrace.h>
#include <linux/rcupdate_wait.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include "ckpt.h"

/* ---- A. symbols ------------------------------------------------------- */

static struct {
	unsigned long (*kallsyms_lookup_name)(const char *name);
	rwlock_t *tasklist_lock;
	struct mutex *cgroup_mutex;
	const struct file_operations *pidfd_fops;
	bool (*ptrace_may_access)(struct task_struct *task, unsigned int mode);
	bool *kprobes_all_disarmed;
	int *ftrace_enabled;
} ckpt_sym;

/* The entry address of function @name, found by placing a kprobe on it. */
static unsigned long ckpt_probe_address(const char *name)
{
	struct kprobe kp = { .symbol_name = name, .flags = KPROBE_FLAG_DISABLED };
	unsigned long addr;

	if (register_kprobe(&kp))
		return 0;
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return ckpt_kprobe_to_entry(addr);
}

static int ckpt_check_callable(const char *name, unsigned long addr)
{
	if (ckpt_text_callable(addr))
		return 0;
	pr_err("%s cannot be called indirectly on this CPU (IBT sealed its ENDBR)\n",
	       name);
	return -EOPNOTSUPP;
}

static int ckpt_resolve(const char *name, void *slot, bool function)
{
	unsigned long addr = ckpt_sym.kallsyms_lookup_name(name);

	if (!addr) {
		pr_err("kernel symbol %s not found\n", name);
		return -ENOENT;
	}
	if (function && ckpt_check_callable(name, addr))
		return -EOPNOTSUPP;
	*(unsigned long *)slot = addr;
	return 0;
}

static int ckpt_symbols_init(void)
{
	unsigned long addr = ckpt_probe_address("kallsyms_lookup_name");
	int ret;

	if (!addr) {
		pr_err("kernel symbol kallsyms_lookup_name not found\n");
		return -ENOENT;
	}
	ret = ckpt_check_callable("kallsyms_lookup_name", addr);
	if (ret)
		return ret;
	ckpt_sym.kallsyms_lookup_name = (void *)addr;

	ret = ckpt_resolve("tasklist_lock", &ckpt_sym.tasklist_lock, false);
	if (!ret)
		ret = ckpt_resolve("cgroup_mutex", &ckpt_sym.cgroup_mutex, false);
	if (!ret)
		ret = ckpt_resolve(CKPT_PIDFD_FOPS_SYMBOL, &ckpt_sym.pidfd_fops,
				   false);
	if (!ret)
		ret = ckpt_resolve("ptrace_may_access",
				   &ckpt_sym.ptrace_may_access, true);
	if (!ret)
		ret = ckpt_resolve("kprobes_all_disarmed",
				   &ckpt_sym.kprobes_all_disarmed, false);
	if (!ret)
		ret = ckpt_resolve("ftrace_enabled", &ckpt_sym.ftrace_enabled,
				   false);
	return ret;
}

void ckpt_tasklist_read_lock(void)
	__acquires(ckpt_sym.tasklist_lock)
{
	read_lock(ckpt_sym.tasklist_lock);
}

void ckpt_tasklist_read_unlock(void)
	__releases(ckpt_sym.tasklist_lock)
{
	read_unlock(ckpt_sym.tasklist_lock);
}

/* Takes task_lock() itself: call it with no spinlock held. */
bool ckpt_ptrace_may_access(struct task_struct *t, unsigned int mode)
{
	return ckpt_sym.ptrace_may_access(t, mode);
}

struct pid *ckpt_pidfd_pid(int fd)
{
	struct file *f = fget(fd);
	struct pid *pid;

	if (!f)
		return ERR_PTR(-EBADF);
	if (f->f_op != ckpt_sym.pidfd_fops) {
		fput(f);
		return ERR_PTR(-EBADF);
	}
	pid = get_pid(ckpt_pidfd_file_pid(f));
	fput(f);
	return pid ? pid : ERR_PTR(-EBADF);
}

/* ---- B. private layouts ----------------------------------------------- */

/*
 * Mirror of struct freezer and its state bits, kernel/cgroup/legacy_freezer.c
 * (identical in 6.1 and 6.12).  Read-only use.  CGROUP_FROZEN is set lazily,
 * by a read of freezer.state that finds every task frozen.
 */
struct ckpt_v1_freezer {
	struct cgroup_subsys_state css;
	unsigned int state;
};
#define CKPT_V1_FREEZING_SELF	(1U << 1)
#define CKPT_V1_FROZEN		(1U << 3)

bool ckpt_v1_self_frozen(struct cgroup *cgrp)
{
	struct cgroup_subsys_state *css;
	unsigned int state = 0;

	rcu_read_lock();
	css = rcu_dereference(cgrp->subsys[freezer_cgrp_id]);
	if (css)
		state = READ_ONCE(container_of(css, struct ckpt_v1_freezer,
					       css)->state);
	rcu_read_unlock();
	return (state & CKPT_V1_FREEZING_SELF) && (state & CKPT_V1_FROZEN);
}

/*
 * A cgroup directory fd, v2 through the exported cgroup_get_from_fd(), v1
 * through its kernfs inode.  Returns a reference, or EBADF when @fd is not
 * a cgroup directory, ENOENT when the cgroup is being removed.
 */
struct cgroup *ckpt_cgroup_from_fd(int fd, bool *v1)
{
	struct cgroup *cgrp = cgroup_get_from_fd(fd);
	struct kernfs_node *kn;
	struct inode *inode;
	struct file *f;

	if (!IS_ERR(cgrp) || PTR_ERR(cgrp) != -EBADF) {
		*v1 = false;
		return cgrp;
	}

	f = fget_raw(fd);
	if (!f)
		return ERR_PTR(-EBADF);
	inode = file_inode(f);
	if (inode->i_sb->s_magic != CGROUP_SUPER_MAGIC ||
	    !S_ISDIR(inode->i_mode)) {
		fput(f);
		return ERR_PTR(-EBADF);
	}
	kn = inode->i_private;
	rcu_read_lock();
	/* ->priv is cleared under RCU when the cgroup is released. */
	cgrp = rcu_dereference(*(void __rcu __force **)&kn->priv);
	if (!cgrp || !css_tryget_online(&cgrp->self))
		cgrp = ERR_PTR(-ENOENT);
	rcu_read_unlock();
	fput(f);
	*v1 = true;
	return cgrp;
}

/* ---- C. guards ---------------------------------------------------------- */

/*
 * Held by the wrappers around the decision and the original function; see
 * the header comment.  Readers may sleep.
 */
DEFINE_STATIC_SRCU(ckpt_guard_srcu);

struct ckpt_hook {
	const char *name;
	void *wrapper;			/* redirect target, or NULL */
	kprobe_pre_handler_t pre;	/* used when @wrapper is NULL */
	unsigned long orig;		/* entry of the hooked function */
	struct kprobe kp;
	bool registered;
};

/*
 * A wrapper calling the original function passes through its own probe.
 * It announces that with a marker naming the task and the hook; the probe
 * consumes it.  Only ever a handful of entries (one per task inside a
 * wrapper right now), all on the callers' stacks.
 */
struct ckpt_passthrough {
	struct list_head node;		/* on ckpt_passthrough_list */
	struct task_struct *task;
	const struct ckpt_hook *hook;
};
static LIST_HEAD(ckpt_passthrough_list);	/* ckpt_passthrough_lock */
static DEFINE_SPINLOCK(ckpt_passthrough_lock);	/* irq-safe, never sleeps */

static void ckpt_passthrough_begin(struct ckpt_passthrough *pt,
				   const struct ckpt_hook *h)
{
	unsigned long flags;

	pt->task = current;
	pt->hook = h;
	spin_lock_irqsave(&ckpt_passthrough_lock, flags);
	list_add(&pt->node, &ckpt_passthrough_list);
	spin_unlock_irqrestore(&ckpt_passthrough_lock, flags);
}

static void ckpt_passthrough_end(struct ckpt_passthrough *pt)
{
	unsigned long flags;

	spin_lock_irqsave(&ckpt_passthrough_lock, flags);
	if (!list_empty(&pt->node))	/* the probe did not fire */
		list_del(&pt->node);
	spin_unlock_irqrestore(&ckpt_passthrough_lock, flags);
}

static bool ckpt_passthrough_take(const struct ckpt_hook *h)
{
	struct ckpt_passthrough *pt;
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&ckpt_passthrough_lock, flags);
	list_for_each_entry(pt, &ckpt_passthrough_list, node) {
		if (pt->task == current && pt->hook == h) {
			list_del_init(&pt->node);
			found = true;
			break;
		}
	}
	spin_unlock_irqrestore(&ckpt_passthrough_lock, flags);
	return found;
}

/*
 * A post-handler, even an empty one, makes kprobes arm the probe with an
 * IPMODIFY ftrace_ops: ftrace then refuses a second IP-modifying user of
 * the same function (a livepatch, a BPF trampoline) instead of letting the
 * two fight over regs->ip.  Registration fails cleanly in that case.
 */
static void ckpt_hook_post(struct kprobe *kp, struct pt_regs *regs,
			   unsigned long flags)
{
}

/* Pre-handler of the wrapper hooks: run the wrapper instead. */
static int ckpt_redirect_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct ckpt_hook *h = container_of(kp, struct ckpt_hook, kp);

	if (ckpt_passthrough_take(h))
		return 0;
	instruction_pointer_set(regs, (unsigned long)h->wrapper);
	return 1;
}

enum {
	CKPT_HOOK_FREEZER_WRITE,
	CKPT_HOOK_CGROUP_FREEZE_WRITE,
	CKPT_HOOK_FREEZER_READ,
	CKPT_HOOK_ATTACH,
	CKPT_NR_HOOKS,
};
static struct ckpt_hook ckpt_hooks[CKPT_NR_HOOKS];

typedef ssize_t (*ckpt_kf_write_t)(struct kernfs_open_file *of, char *buf,
				   size_t nbytes, loff_t off);
typedef int (*ckpt_seq_show_t)(struct seq_file *m, void *v);

static ssize_t ckpt_guarded_write(struct ckpt_hook *h,
				  struct kernfs_open_file *of, char *buf,
				  size_t nbytes, loff_t off)
{
	struct ckpt_passthrough pt;
	ssize_t ret;
	bool busy;
	int idx;

	idx = srcu_read_lock(&ckpt_guard_srcu);
	rcu_read_lock();
	busy = ckpt_guard_cgroup(of_css(of)->cgroup);
	rcu_read_unlock();
	if (busy) {
		ret = -EBUSY;
	} else {
		ckpt_passthrough_begin(&pt, h);
		ret = ((ckpt_kf_write_t)h->orig)(of, buf, nbytes, off);
		ckpt_passthrough_end(&pt);
	}
	srcu_read_unlock(&ckpt_guard_srcu, idx);
	return ret;
}

/* Replaces freezer_write(): v1 freezer.state. */
static ssize_t ckpt_freezer_write(struct kernfs_open_file *of, char *buf,
				  size_t nbytes, loff_t off)
{
	return ckpt_guarded_write(&ckpt_hooks[CKPT_HOOK_FREEZER_WRITE],
				  of, buf, nbytes, off);
}

/* Replaces cgroup_freeze_write(): v2 cgroup.freeze. */
static ssize_t ckpt_cgroup_freeze_write(struct kernfs_open_file *of,
					char *buf, size_t nbytes, loff_t off)
{
	return ckpt_guarded_write(&ckpt_hooks[CKPT_HOOK_CGROUP_FREEZE_WRITE],
				  of, buf, nbytes, off);
}

/* Replaces freezer_read(): v1 freezer.state shows CHECKPOINTING. */
static int ckpt_freezer_read(struct seq_file *m, void *v)
{
	struct ckpt_hook *h = &ckpt_hooks[CKPT_HOOK_FREEZER_READ];
	struct ckpt_passthrough pt;
	bool ckpt;
	int idx, ret;

	idx = srcu_read_lock(&ckpt_guard_srcu);
	rcu_read_lock();
	ckpt = ckpt_guard_is_session(seq_css(m)->cgroup);
	rcu_read_unlock();
	if (ckpt) {
		seq_puts(m, "CHECKPOINTING\n");
		ret = 0;
	} else {
		ckpt_passthrough_begin(&pt, h);
		ret = ((ckpt_seq_show_t)h->orig)(m, v);
		ckpt_passthrough_end(&pt);
	}
	srcu_read_unlock(&ckpt_guard_srcu, idx);
	return ret;
}

extern void ckpt_return_stub(void);	/* stub.S */

/*
 * Pre-handler on cgroup_attach_task(dst_cgrp, leader, threadgroup), which
 * its callers run under cgroup_mutex.  Decides in atomic context.
 */
static int ckpt_attach_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct cgroup *dst = (void *)regs_get_kernel_argument(regs, 0);
	struct task_struct *leader = (void *)regs_get_kernel_argument(regs, 1);
	bool threadgroup = (u8)regs_get_kernel_argument(regs, 2);
	bool busy;

	rcu_read_lock();
	busy = ckpt_guard_attach(dst, leader, threadgroup);
	rcu_read_unlock();
	if (!busy)
		return 0;
	regs_set_return_value(regs, -EBUSY);
	instruction_pointer_set(regs, (unsigned long)ckpt_return_stub);
	return 1;
}

static struct ckpt_hook ckpt_hooks[CKPT_NR_HOOKS] = {
	[CKPT_HOOK_FREEZER_WRITE] = {
		.name = "freezer_write", .wrapper = ckpt_freezer_write,
	},
	[CKPT_HOOK_CGROUP_FREEZE_WRITE] = {
		.name = "cgroup_freeze_write",
		.wrapper = ckpt_cgroup_freeze_write,
	},
	[CKPT_HOOK_FREEZER_READ] = {
		.name = "freezer_read", .wrapper = ckpt_freezer_read,
	},
	[CKPT_HOOK_ATTACH] = {
		.name = "cgroup_attach_task", .pre = ckpt_attach_pre,
	},
};

/*
 * Wait until every guarded operation that may have missed a session just
 * published has finished: the wrapped freezer writes (SRCU), and
 * migrations (they hold cgroup_mutex while deciding and migrating).
 */
void ckpt_hooks_barrier(void)
{
	synchronize_srcu(&ckpt_guard_srcu);
	mutex_lock(ckpt_sym.cgroup_mutex);
	mutex_unlock(ckpt_sym.cgroup_mutex);
}

/*
 * Would a guard fire right now?  Root can disarm every kprobe (debugfs
 * kprobes/enabled) or stop every non-permanent ftrace user (sysctl
 * kernel.ftrace_enabled); the probes then silently stop guarding.
 */
bool ckpt_hooks_armed(void)
{
	int i;

	if (READ_ONCE(*ckpt_sym.kprobes_all_disarmed) ||
	    !READ_ONCE(*ckpt_sym.ftrace_enabled))
		return false;
	for (i = 0; i < CKPT_NR_HOOKS; i++)
		if (kprobe_disabled(&ckpt_hooks[i].kp))
			return false;
	return true;
}

static void ckpt_hooks_unregister(void)
{
	int i;

	for (i = CKPT_NR_HOOKS - 1; i >= 0; i--) {
		if (ckpt_hooks[i].registered)
			unregister_kprobe(&ckpt_hooks[i].kp);
		ckpt_hooks[i].registered = false;
	}
	/*
	 * No probe redirects anymore.  A task may still be in a wrapper or
	 * in ckpt_return_stub.  RCU-tasks waits out those that have not
	 * reached srcu_read_lock() yet (no voluntary switch before it),
	 * SRCU those inside, RCU-tasks again those past srcu_read_unlock().
	 */
	synchronize_rcu_tasks();
	synchronize_srcu(&ckpt_guard_srcu);
	synchronize_rcu_tasks();
}

static int ckpt_hooks_register(void)
{
	struct ckpt_hook *h;
	int i, ret;

	for (i = 0; i < CKPT_NR_HOOKS; i++) {
		h = &ckpt_hooks[i];
		h->kp.symbol_name = h->name;
		h->kp.pre_handler = h->wrapper ? ckpt_redirect_pre : h->pre;
		h->kp.post_handler = ckpt_hook_post;
		h->kp.flags = KPROBE_FLAG_DISABLED;
		if (h->wrapper) {
			ret = ckpt_resolve(h->name, &h->orig, true);
			if (ret)
				goto fail;
		}
		ret = register_kprobe(&h->kp);
		if (ret) {
			pr_err("hook point %s: cannot probe it (%d)\n",
			       h->name, ret);
			goto fail;
		}
		h->registered = true;
	}
	/* Armed only now that every ->orig is known. */
	for (i = 0; i < CKPT_NR_HOOKS; i++) {
		ret = enable_kprobe(&ckpt_hooks[i].kp);
		if (!ret && kprobe_disabled(&ckpt_hooks[i].kp))
			ret = -EOPNOTSUPP;	/* kprobes are disarmed */
		if (ret) {
			pr_err("hook point %s: cannot arm it (%d)\n",
			       ckpt_hooks[i].name, ret);
			goto fail;
		}
	}
	return 0;
fail:
	ckpt_hooks_unregister();
	return ret;
}

int ckpt_hooks_init(void)
{
	int ret = ckpt_symbols_init();

	if (ret)
		return ret;
	return ckpt_hooks_register();
}

void ckpt_hooks_exit(void)
{
	ckpt_hooks_unregister();
}
