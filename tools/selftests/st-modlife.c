// SPDX-License-Identifier: GPL-2.0
/*
 * st-modlife.c: loading and unloading ckpt.ko (group "modlife").
 *
 * Needs CKPT_KO, the path of the ckpt.ko to reload; without it the tests
 * are skipped (and reported as skipped).  They run last and leave the
 * module loaded.  The VM harness checks dmesg for kernel complaints.
 */
#include "st.h"

#define MODNAME	"ckpt"

static const char *ko_path(void)
{
	const char *p = getenv("CKPT_KO");

	return p && *p ? p : NULL;
}

static bool loaded(void)
{
	return access("/sys/module/" MODNAME, F_OK) == 0;
}

static int load(void)
{
	int fd = open(ko_path(), O_RDONLY | O_CLOEXEC), ret, err;

	if (fd < 0)
		return -1;
	ret = (int)syscall(SYS_finit_module, fd, "", 0);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

static int unload(void)
{
	return (int)syscall(SYS_delete_module, MODNAME, O_NONBLOCK);
}

static long refcnt(void)
{
	char buf[32];

	if (ckpt_read_file("/sys/module/" MODNAME "/refcnt", buf, sizeof(buf)) < 0)
		st_fail("reading the module's refcnt: %s", st_errname(errno));
	return atol(buf);
}

static int modlife_setup(void **state)
{
	if (!ko_path()) {
		printf("# CKPT_KO is not set: cannot reload the module\n");
		return st_setup(state);
	}
	return st_setup(state);
}

/* Whatever happened, leave the module loaded for whoever comes next. */
static int modlife_teardown(void **state)
{
	int ret = st_teardown(state);

	if (ko_path() && !loaded() && load()) {
		st_diag("cannot load %s again: %s", ko_path(), st_errname(errno));
		ret = -1;
	}
	return ret;
}

static void check_info(void)
{
	struct ckpt_info info;
	int fd = ckpt_dev_open();

	if (fd < 0)
		st_fail("open %s: %s", CKPT_DEV_PATH, st_errname(errno));
	ST_OK(ckpt_ioc_info(fd, &info));
	close(fd);
	ST_EQ(info.abi_version, CKPT_ABI_VERSION);
}

static void modlife_unload_refused_while_open(void **state)
{
	struct ckpt_cg *cg;
	char buf[64];
	pid_t root;
	long base;
	int fd;

	(void)state;
	if (!ko_path())
		skip();
	ST_CHECK(loaded(), "ckpt.ko is not loaded");
	base = refcnt();
	fd = st_dev();
	ST_EQ(refcnt(), base + 1);
	ST_ERR(unload(), EWOULDBLOCK);

	cg = st_cg_new(true, "c");
	root = st_simple_tree(cg, 2);
	ST_OK(ckpt_ioc_begin(fd, st_cg_fd(cg), root, 0));
	ST_ERR(unload(), EWOULDBLOCK);
	ST_OK(ckpt_cg_read(cg, "freezer.state", buf, sizeof(buf)));
	ST_CHECK(!strcmp(buf, "CHECKPOINTING\n"), "freezer.state: %s", buf);
	ST_CHECK(loaded());

	/* Closed: the module goes, and the cgroup is an ordinary one. */
	st_close(fd);
	ST_EQ(refcnt(), base);
	ST_OK(unload());
	ST_CHECK(!loaded());
	ST_ERR(open(CKPT_DEV_PATH, O_RDWR), ENOENT);
	ST_OK(ckpt_cg_read(cg, "freezer.state", buf, sizeof(buf)));
	ST_CHECK(!strcmp(buf, "FROZEN\n"), "freezer.state: %s", buf);
	st_thaw(cg);
	ST_OK(ckpt_cg_read(cg, "freezer.state", buf, sizeof(buf)));
	ST_CHECK(!strcmp(buf, "THAWED\n"), "freezer.state: %s", buf);

	ST_OK(load());
	check_info();
}

static void modlife_reload_50(void **state)
{
	struct ckpt_cg *cg;
	pid_t root;
	int i, fd;

	(void)state;
	if (!ko_path())
		skip();
	ST_CHECK(loaded(), "ckpt.ko is not loaded");
	for (i = 0; i < 50; i++) {
		if (unload())
			st_fail("unload #%d: %s", i, st_errname(errno));
		if (load())
			st_fail("load #%d: %s", i, st_errname(errno));
		check_info();
	}
	ST_ERR(load(), EEXIST);
	/* And it works after all that. */
	cg = st_cg_new(false, "c");
	root = st_simple_tree(cg, 3);
	fd = st_begin(cg, root);
	free(st_scan_check(fd, root, NULL));
	ST_ERR(ckpt_cg_write(cg, "cgroup.freeze", "0"), EBUSY);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(modlife_unload_refused_while_open,
					modlife_setup, modlife_teardown),
	cmocka_unit_test_setup_teardown(modlife_reload_50,
					modlife_setup, modlife_teardown),
};

const struct st_group st_group_modlife = { "modlife", tests, ARRAY_SIZE(tests) };
