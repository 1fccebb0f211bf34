// SPDX-License-Identifier: GPL-2.0
/*
 * wl-unsupported: holds an inotify fd, which ckpt cannot dump.
 *
 *   wl-unsupported TRUTH READY RESULT
 *
 * The truth names what the dump must refuse: {"expect_dump_failure":
 * {"pid", "fd", "type": "inotify"}}.  On SIGUSR1 the fd must still be an
 * inotify instance that reports an event for its watched directory.
 */
#include "wl-common.h"

#include <sys/inotify.h>

static int ifd = -1;
static char dir[4096];

static void verify(void)
{
	char path[4200], buf[4096];
	int fd;
	ssize_t n = -1;

	snprintf(path, sizeof(path), "%s/probe", dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	if (fd >= 0)
		close(fd);
	for (int tries = 0; tries < 100 && n < 0; tries++) {
		n = read(ifd, buf, sizeof(buf));
		if (n < 0)
			usleep(10000);
	}
	if (n <= 0)
		wl_broken("inotify fd %d reported no event: %s", ifd, strerror(errno));
	unlink(path);
}

int main(int argc, char **argv)
{
	const char *t = getenv("WL_TMPDIR");

	wl_init("unsupported", argc, argv, 0);
	snprintf(dir, sizeof(dir), "%s/wl-inotify-%d-XXXXXX", t ? t : "/tmp", (int)getpid());
	if (!mkdtemp(dir))
		wl_die("mkdtemp");
	ifd = inotify_init1(IN_NONBLOCK);
	if (ifd < 0 || inotify_add_watch(ifd, dir, IN_CREATE) < 0)
		wl_die("inotify on %s", dir);
	wl_truth_open();
	wl_t(",\n  \"processes\": [");
	wl_truth_process(true, getpid(), getppid(), NULL, 0);
	wl_t("\n  ],\n  \"expect_dump_failure\": {\"pid\": %d, \"fd\": %d, \"type\": \"inotify\", "
	     "\"watched\": \"%s\"}", (int)getpid(), ifd, dir);
	wl_truth_close();
	wl_ready();
	wl_park(verify, wl_result_path, false);
}
