// SPDX-License-Identifier: GPL-2.0
/*
 * wl-tree: a process tree with several process groups and sessions.
 *
 *   wl-tree TRUTH READY RESULT [zombie]
 *
 *   R (root)
 *   |- A     setpgid(0,0): a new group in R's session
 *   |  `- A1     in A's group
 *   |     `- A1a    setpgid(0, pgid of R): back in R's group (depth 3)
 *   |- B     setsid(): a new session
 *   |  `- B1     setpgid(0,0): a new group in B's session
 *   |     `- B1a    in B1's group (depth 3)
 *   `- Z     (with "zombie") exits at once and is never reaped
 * Each process sends {pid, ppid} through a pipe once its group/session is
 * set; R closes the pipe before writing the truth.  On SIGUSR1 every
 * process checks that its ppid, pgid and sid are unchanged.
 */
#include "wl-common.h"

struct rec {
	pid_t pid, ppid;
};

static int rep[2];
static pid_t my_ppid, my_pgid, my_sid;
static bool is_root;

static void verify(void)
{
	/* not the root's: its parent (ckpt-user run --detach's) exits */
	if (!is_root && getppid() != my_ppid)
		wl_broken("ppid %d, expected %d", (int)getppid(), (int)my_ppid);
	if (getpgrp() != my_pgid)
		wl_broken("pgid %d, expected %d", (int)getpgrp(), (int)my_pgid);
	if (getsid(0) != my_sid)
		wl_broken("sid %d, expected %d", (int)getsid(0), (int)my_sid);
}

static void remember(void)
{
	struct rec r = { getpid(), getppid() };

	my_ppid = r.ppid;
	my_pgid = getpgrp();
	my_sid = getsid(0);
	wl_write_all(rep[1], &r, sizeof(r));
}

/* Fork a node that runs @setup, reports, forks @child (if any) and parks. */
static pid_t node(void (*setup)(void), pid_t (*child)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		wl_die("fork");
	if (pid)
		return pid;
	if (setup)
		setup();
	remember();
	if (child)
		child();
	close(rep[1]);
	wl_park_child(verify);
}

static pid_t root_pgid;
static void new_group(void)
{
	if (setpgid(0, 0))
		wl_die("setpgid");
}
static void root_group(void)
{
	if (setpgid(0, root_pgid))
		wl_die("setpgid %d", (int)root_pgid);
}
static void new_session(void)
{
	if (setsid() < 0)
		wl_die("setsid");
}
static pid_t a1a(void) { return node(root_group, NULL); }
static pid_t a1(void) { return node(NULL, a1a); }
static pid_t b1a(void) { return node(NULL, NULL); }
static pid_t b1(void) { return node(new_group, b1a); }

int main(int argc, char **argv)
{
	bool zombie = argc > 4 && !strcmp(argv[4], "zombie");
	struct rec recs[8];
	pid_t z = 0;
	int n = 0;

	wl_init("tree", argc, argv, 0);
	root_pgid = getpgrp();
	my_ppid = getppid();
	is_root = true;
	my_pgid = root_pgid;
	my_sid = getsid(0);
	if (pipe(rep))
		wl_die("pipe");
	wl_add_kid(node(new_group, a1));
	wl_add_kid(node(new_session, b1));
	if (zombie) {
		z = fork();
		if (z < 0)
			wl_die("fork");
		if (z == 0)
			_exit(7);
	}
	close(rep[1]);
	while (n < 6 && wl_read_some(rep[0], &recs[n], sizeof(recs[n])) == sizeof(recs[n]))
		n++;
	close(rep[0]);
	if (n != 6)
		wl_die("only %d of 6 processes reported", n);
	for (int i = 0; i < n; i++) {
		bool known = false;

		for (int k = 0; k < wl_nkids; k++)
			known |= wl_kids[k] == recs[i].pid;
		if (!known)
			wl_add_kid(recs[i].pid);	/* grandchildren verify too */
	}
	if (zombie) {
		siginfo_t si;

		/* wait until it is a zombie, without reaping it */
		if (waitid(P_PID, z, &si, WEXITED | WNOWAIT))
			wl_die("waitid");
	}

	wl_truth_open();
	wl_t(",\n  \"processes\": [");
	wl_truth_process(true, getpid(), getppid(), NULL, 0);
	for (int i = 0; i < n; i++)
		wl_truth_process(false, recs[i].pid, recs[i].ppid, NULL, 0);
	if (zombie)
		wl_t(",\n    {\"pid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d, \"threads\": [%d], "
		     "\"zombie\": true, \"exit_code\": 7}",
		     (int)z, (int)getpid(), (int)root_pgid, (int)getsid(0), (int)z);
	wl_t("\n  ]");
	wl_truth_close();
	wl_ready();
	wl_park(verify, wl_result_path, true);
}
