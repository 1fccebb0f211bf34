// SPDX-License-Identifier: GPL-2.0
/*
 * main.c: module init/exit, /dev/ckpt and the ioctl argument rules.
 *
 * Arguments are size-versioned the way pidfs does it: a command is matched
 * by type, number and direction, and its struct size is _IOC_SIZE(cmd).
 * Smaller than the published VER0 size is EINVAL; larger is fine when the
 * bytes this module does not know are zero (E2BIG otherwise).  For _IOWR
 * commands the struct is copied back even when the command fails, so that
 * out fields such as ckpt_scan.count and .err_pid reach the caller.
 */
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "ckpt.h"

static_assert(sizeof(struct ckpt_info) == CKPT_INFO_SIZE_VER2);
static_assert(sizeof(struct ckpt_begin) == CKPT_BEGIN_SIZE_VER0);
static_assert(sizeof(struct ckpt_end) == CKPT_END_SIZE_VER0);
static_assert(sizeof(struct ckpt_task) == CKPT_TASK_SIZE_VER0);
static_assert(sizeof(struct ckpt_scan) == CKPT_SCAN_SIZE_VER0);
static_assert(sizeof(struct ckpt_gpregs) == CKPT_GPREGS_SIZE);
static_assert(sizeof(struct ckpt_regs) == CKPT_REGS_SIZE_VER0);
static_assert(sizeof(struct ckpt_sigaction) == CKPT_SIGACTION_SIZE);
static_assert(sizeof(struct ckpt_sigactions) == CKPT_SIGACTIONS_SIZE_VER0);
static_assert(sizeof(struct ckpt_thread) == CKPT_THREAD_SIZE_VER0);
static_assert(sizeof(struct ckpt_vmas) == CKPT_VMAS_SIZE_VER0);
static_assert(sizeof(struct ckpt_pages) == CKPT_PAGES_SIZE_VER1);
static_assert(sizeof(struct ckpt_pages_xxh64) == CKPT_PAGES_XXH64_SIZE);
static_assert(offsetof(struct ckpt_info, commands) == CKPT_INFO_SIZE_VER0);

union ckpt_ioctl_arg {
	struct ckpt_info info;
	struct ckpt_begin begin;
	struct ckpt_end end;
	struct ckpt_scan scan;
	struct ckpt_regs regs;
	struct ckpt_sigactions sigactions;
	struct ckpt_thread thread;
	struct ckpt_vmas vmas;
	struct ckpt_pages pages;
};

static int ckpt_info(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	struct ckpt_info *info = &a->info;

	if (info->flags)
		return -EINVAL;
	info->abi_version = CKPT_ABI_VERSION;
	info->begin_flags = CKPT_BEGIN_FLAGS;
	info->scan_flags = 0;
	info->regs_flags = CKPT_REGS_FLAGS;
	info->task_record_size = sizeof(struct ckpt_task);
	info->xstate_size = ckpt_regs_xstate_size();
	info->commands = CKPT_CMD_BIT(CKPT_IOC_INFO) |
			 CKPT_CMD_BIT(CKPT_IOC_BEGIN) |
			 CKPT_CMD_BIT(CKPT_IOC_END) |
			 CKPT_CMD_BIT(CKPT_IOC_SCAN) |
			 CKPT_CMD_BIT(CKPT_IOC_REGS) |
			 CKPT_CMD_BIT(CKPT_IOC_SIGACTIONS) |
			 CKPT_CMD_BIT(CKPT_IOC_THREAD) |
			 CKPT_CMD_BIT(CKPT_IOC_VMAS) |
			 CKPT_CMD_BIT(CKPT_IOC_PAGES);
	info->sigactions_flags = 0;
	info->thread_flags = 0;
	info->vmas_flags = 0;
	info->pages_flags = ckpt_pages_flags();
	return 0;
}

static int ckpt_begin(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	return ckpt_session_begin(cf, &a->begin);
}

static int ckpt_end(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	if (a->end.flags || a->end.reserved)
		return -EINVAL;
	return ckpt_session_end(cf);
}

static int ckpt_scan_ioctl(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	if (!cf->session)
		return -ENOENT;
	return ckpt_scan(cf->session, &a->scan);
}

static int ckpt_regs_ioctl(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	if (!cf->session)
		return -ENOENT;
	return ckpt_regs(cf->session, &a->regs);
}

/* These clear their out fields even without a session: NULL is ENOENT. */
static int ckpt_sigactions_ioctl(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	return ckpt_sigactions(cf->session, &a->sigactions);
}

static int ckpt_thread_ioctl(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	return ckpt_thread(cf->session, &a->thread);
}

static int ckpt_vmas_ioctl(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	return ckpt_vmas(cf->session, &a->vmas);
}

/* No session and no cf->lock: PAGES has its own checks (pages.c). */
static int ckpt_pages_ioctl(struct ckpt_file *cf, union ckpt_ioctl_arg *a)
{
	return ckpt_pages(&a->pages);
}

static const struct ckpt_cmd {
	unsigned int cmd;		/* as defined, with the VER0 size */
	unsigned int size_ver0;
	unsigned int ksize;		/* what this module knows */
	int (*fn)(struct ckpt_file *cf, union ckpt_ioctl_arg *a);
	bool unlocked;			/* uses no state of @cf: no cf->lock,
					 * so long writes run in parallel */
} ckpt_cmds[] = {
	{ CKPT_IOC_INFO, CKPT_INFO_SIZE_VER0, sizeof(struct ckpt_info), ckpt_info },
	{ CKPT_IOC_BEGIN, CKPT_BEGIN_SIZE_VER0, sizeof(struct ckpt_begin), ckpt_begin },
	{ CKPT_IOC_END, CKPT_END_SIZE_VER0, sizeof(struct ckpt_end), ckpt_end },
	{ CKPT_IOC_SCAN, CKPT_SCAN_SIZE_VER0, sizeof(struct ckpt_scan), ckpt_scan_ioctl },
	{ CKPT_IOC_REGS, CKPT_REGS_SIZE_VER0, sizeof(struct ckpt_regs), ckpt_regs_ioctl },
	{ CKPT_IOC_SIGACTIONS, CKPT_SIGACTIONS_SIZE_VER0,
	  sizeof(struct ckpt_sigactions), ckpt_sigactions_ioctl },
	{ CKPT_IOC_THREAD, CKPT_THREAD_SIZE_VER0, sizeof(struct ckpt_thread),
	  ckpt_thread_ioctl },
	{ CKPT_IOC_VMAS, CKPT_VMAS_SIZE_VER0, sizeof(struct ckpt_vmas),
	  ckpt_vmas_ioctl },
	{ CKPT_IOC_PAGES, CKPT_PAGES_SIZE_VER0, sizeof(struct ckpt_pages),
	  ckpt_pages_ioctl, true },
};

static const struct ckpt_cmd *ckpt_find_cmd(unsigned int cmd)
{
	unsigned int i;

	if (_IOC_TYPE(cmd) != CKPT_IOC_MAGIC)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(ckpt_cmds); i++)
		if (_IOC_NR(cmd) == _IOC_NR(ckpt_cmds[i].cmd) &&
		    _IOC_DIR(cmd) == _IOC_DIR(ckpt_cmds[i].cmd))
			return &ckpt_cmds[i];
	return NULL;
}

static long ckpt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ckpt_file *cf = file->private_data;
	void __user *uarg = (void __user *)arg;
	const struct ckpt_cmd *c = ckpt_find_cmd(cmd);
	unsigned int usize = _IOC_SIZE(cmd);
	union ckpt_ioctl_arg a;
	int ret;

	if (!c)
		return -ENOTTY;
	if (usize < c->size_ver0)
		return -EINVAL;
	ret = copy_struct_from_user(&a, c->ksize, uarg, usize);
	if (ret)
		return ret;

	if (c->unlocked) {
		ret = c->fn(cf, &a);
	} else {
		ret = mutex_lock_killable(&cf->lock);
		if (ret)
			return ret;
		ret = c->fn(cf, &a);
		mutex_unlock(&cf->lock);
	}

	if ((_IOC_DIR(cmd) & _IOC_READ) &&
	    copy_to_user(uarg, &a, min(usize, c->ksize)) && !ret)
		ret = -EFAULT;
	return ret;
}

static int ckpt_open(struct inode *inode, struct file *file)
{
	struct ckpt_file *cf = kzalloc(sizeof(*cf), GFP_KERNEL_ACCOUNT);

	if (!cf)
		return -ENOMEM;
	mutex_init(&cf->lock);
	file->private_data = cf;
	return 0;
}

/* The last close, also when the owner is killed: end the session. */
static int ckpt_release(struct inode *inode, struct file *file)
{
	struct ckpt_file *cf = file->private_data;

	ckpt_session_end(cf);
	mutex_destroy(&cf->lock);
	kfree(cf);
	return 0;
}

static const struct file_operations ckpt_fops = {
	.owner = THIS_MODULE,
	.open = ckpt_open,
	.release = ckpt_release,
	.unlocked_ioctl = ckpt_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice ckpt_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = CKPT_DEVICE_NAME,
	.fops = &ckpt_fops,
	.mode = 0600,
};

static int __init ckpt_init(void)
{
	int ret;

	ret = ckpt_regs_init();
	if (ret)
		return ret;
	ret = ckpt_hooks_init();
	if (ret)
		return ret;
	ret = ckpt_sessions_init();
	if (ret)
		goto err_hooks;
	ret = misc_register(&ckpt_misc);
	if (ret)
		goto err_sessions;
	pr_info("loaded, ABI %d, /dev/%s\n", CKPT_ABI_VERSION, CKPT_DEVICE_NAME);
	return 0;

err_sessions:
	ckpt_sessions_exit();
err_hooks:
	ckpt_hooks_exit();
	return ret;
}

static void __exit ckpt_exit(void)
{
	misc_deregister(&ckpt_misc);
	ckpt_sessions_exit();
	ckpt_hooks_exit();
	/* Sessions are gone with their files; wait for their RCU frees. */
	rcu_barrier();
}

module_init(ckpt_init);
module_exit(ckpt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ckpt: CHECKPOINTING freezer state and task-tree scan");
MODULE_AUTHOR("The ckpt developers");
