// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of tools/ckpt-util.h, no module needed: the parsers on good
 * and bad input, and the freeze/thaw helpers on the host's real cgroup v2
 * and v1 freezer hierarchies (found in /proc/self/mountinfo; a test whose
 * hierarchy is absent is reported as skipped, never as passed).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include "ckpt-util.h"

/* ---- parsers ----------------------------------------------------------- */

static void test_parse_pids(void **state)
{
	pid_t *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(ckpt_parse_pids("12 7\n3\n", &v, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(v[0], 12);
	assert_int_equal(v[1], 7);
	assert_int_equal(v[2], 3);
	free(v);

	assert_int_equal(ckpt_parse_pids("", &v, &n), 0);
	assert_int_equal(n, 0);
	free(v);

	errno = 0;
	assert_int_equal(ckpt_parse_pids("12 x", &v, &n), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ckpt_parse_pids("-4", &v, &n), -1);
	assert_int_equal(ckpt_parse_pids("0", &v, &n), -1);
	assert_int_equal(ckpt_parse_pids("99999999999999999999", &v, &n), -1);
}

static void test_keyed_value(void **state)
{
	(void)state;
	assert_int_equal(ckpt_keyed_value("populated 1\nfrozen 0\n", "frozen"), 0);
	assert_int_equal(ckpt_keyed_value("populated 1\nfrozen 1\n", "populated"), 1);
	/* A key that is a prefix of another must not match it. */
	assert_int_equal(ckpt_keyed_value("frozenx 1\n", "frozen"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ckpt_keyed_value("", "frozen"), -1);
}

static void test_proc_stat_self(void **state)
{
	struct ckpt_proc_stat st;

	(void)state;
	/* A comm with spaces and parentheses must not confuse the parser. */
	assert_int_equal(prctl(PR_SET_NAME, "a) (b c", 0, 0, 0), 0);
	assert_int_equal(ckpt_proc_stat(getpid(), 0, &st), 0);
	assert_string_equal(st.comm, "a) (b c");
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.pgrp, getpgrp());
	assert_int_equal(st.session, getsid(0));
	assert_int_equal(st.state, 'R');
	assert_int_equal(ckpt_proc_stat(getpid(), gettid(), &st), 0);
	assert_int_equal(st.pid, gettid());
	prctl(PR_SET_NAME, "host-util", 0, 0, 0);

	errno = 0;
	assert_int_equal(ckpt_proc_stat(INT_MAX, 0, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* ---- cgroups ------------------------------------------------------------- */

/* The first mount of @fstype (with @opt among its options, if given). */
static int find_mount(const char *fstype, const char *opt, char *out,
		      size_t size)
{
	char *mi = ckpt_slurp("/proc/self/mountinfo"), *line, *save = NULL;
	int found = -1;

	if (!mi)
		return -1;
	for (line = strtok_r(mi, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char mnt[PATH_MAX], type[64], sopts[512];
		const char *sep = strstr(line, " - ");

		if (!sep || sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %*s %511s", type, sopts) != 2)
			continue;
		if (strcmp(type, fstype) || (opt && !strstr(sopts, opt)))
			continue;
		snprintf(out, size, "%s", mnt);
		found = 0;
		break;
	}
	free(mi);
	return found;
}

struct cg_fixture {
	struct ckpt_cg cg;
	volatile unsigned long *counter;	/* shared with the child */
	pid_t child;
};

static int cg_setup(void **state, bool v1)
{
	struct cg_fixture *f = calloc(1, sizeof(*f));
	struct ckpt_cg top;
	char mnt[PATH_MAX], name[64];

	if (!f)
		return -1;
	*state = f;
	if (v1 ? find_mount("cgroup", "freezer", mnt, sizeof(mnt))
	       : find_mount("cgroup2", NULL, mnt, sizeof(mnt)))
		return 0;	/* no such hierarchy: the test skips */
	snprintf(name, sizeof(name), "ckpt-hosttest-%d", getpid());
	if (ckpt_cg_init(&top, mnt, v1) || ckpt_cg_mkdir(&f->cg, &top, name))
		return -1;
	f->counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->counter == MAP_FAILED)
		return -1;
	f->child = fork();
	if (f->child < 0)
		return -1;
	if (f->child == 0) {
		for (;;)
			(*f->counter)++;
	}
	return ckpt_cg_attach(&f->cg, f->child);
}

static int cg2_setup(void **state) { return cg_setup(state, false); }
static int cg1_setup(void **state) { return cg_setup(state, true); }

static int cg_teardown(void **state)
{
	struct cg_fixture *f = *state;

	if (f->child > 0) {
		kill(f->child, SIGKILL);
		ckpt_cg_thaw(&f->cg);
		waitpid(f->child, NULL, 0);
	}
	if (f->cg.path[0])
		ckpt_cg_destroy(&f->cg, 10000);
	if (f->counter && f->counter != MAP_FAILED)
		munmap((void *)f->counter, 4096);
	free(f);
	return 0;
}

/* Does the counter move within @ms?  Sleeps, asserts nothing on time. */
static bool counter_moves(struct cg_fixture *f, unsigned int ms)
{
	unsigned long before = *f->counter;

	ckpt_sleep_ms(ms);
	return *f->counter != before;
}

static void test_freeze_thaw(void **state)
{
	struct cg_fixture *f = *state;
	struct ckpt_proc_stat st;

	if (!f->child)
		skip();
	assert_true(counter_moves(f, 100));
	assert_int_equal(ckpt_cg_freeze(&f->cg, 10000), 0);
	assert_int_equal(ckpt_cg_is_frozen(&f->cg), 1);
	assert_false(counter_moves(f, 200));
	assert_int_equal(ckpt_proc_stat(f->child, 0, &st), 0);
	assert_int_not_equal(st.state, 'R');

	assert_int_equal(ckpt_cg_thaw(&f->cg), 0);
	if (!f->cg.v1)
		assert_int_equal(ckpt_cg2_wait_frozen(&f->cg, false, 10000), 0);
	assert_true(counter_moves(f, 200));
	assert_int_equal(ckpt_cg_is_frozen(&f->cg), 0);
}

static void test_destroy_frozen(void **state)
{
	struct cg_fixture *f = *state;

	if (!f->child)
		skip();
	assert_int_equal(ckpt_cg_freeze(&f->cg, 10000), 0);
	/* Destroy must kill, thaw and remove even a frozen cgroup. */
	assert_int_equal(ckpt_cg_destroy(&f->cg, 10000), 0);
	assert_int_equal(waitpid(f->child, NULL, 0), f->child);
	f->child = -1;
	assert_int_equal(access(f->cg.path, F_OK), -1);
	f->cg.path[0] = '\0';
}

int main(void)
{
	const struct CMUnitTest parsers[] = {
		cmocka_unit_test(test_parse_pids),
		cmocka_unit_test(test_keyed_value),
		cmocka_unit_test(test_proc_stat_self),
	};
	const struct CMUnitTest cgroups[] = {
		{ "freeze_thaw_v2", test_freeze_thaw, cg2_setup, cg_teardown, NULL },
		{ "freeze_thaw_v1", test_freeze_thaw, cg1_setup, cg_teardown, NULL },
		{ "destroy_frozen_v2", test_destroy_frozen, cg2_setup, cg_teardown, NULL },
		{ "destroy_frozen_v1", test_destroy_frozen, cg1_setup, cg_teardown, NULL },
	};
	int fails = 0;

	fails += cmocka_run_group_tests_name("util-parsers", parsers, NULL, NULL);
	fails += cmocka_run_group_tests_name("util-cgroups", cgroups, NULL, NULL);
	return fails ? 1 : 0;
}
