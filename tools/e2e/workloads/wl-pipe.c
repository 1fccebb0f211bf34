// SPDX-License-Identifier: GPL-2.0
/*
 * wl-pipe: pipes holding unread data.
 *
 *   wl-pipe TRUTH READY RESULT [FIFO_PATH]
 *
 * An anonymous pipe with 3000 known bytes unread, both ends held open
 * (fds noted in the truth); with FIFO_PATH, a FIFO created there and opened
 * O_RDWR (one fd holds both ends) with 100 known bytes unread.  On SIGUSR1
 * the data is read back (consumed) and compared; both ends must still be
 * the same pipe (fstat inode).
 */
#include "wl-common.h"

#include <sys/stat.h>

#define PIPE_BYTES 3000
#define FIFO_BYTES 100

static int pfd[2] = { -1, -1 }, ffd = -1;
static const char *fifo_path;
static unsigned char pdata[PIPE_BYTES], fdata[FIFO_BYTES];
static ino_t pino;

static void check_data(int fd, const unsigned char *want, size_t len, const char *what)
{
	unsigned char buf[8192];
	size_t got;

	if (fcntl(fd, F_SETFL, O_NONBLOCK)) {
		wl_broken("%s: fcntl: %s", what, strerror(errno));
		return;
	}
	got = wl_read_some(fd, buf, sizeof(buf));
	if (got != len)
		wl_broken("%s holds %zu bytes, expected %zu", what, got, len);
	else if (memcmp(buf, want, len))
		wl_broken("%s data differs", what);
}

static void verify(void)
{
	struct stat a, b;

	if (fstat(pfd[0], &a) || fstat(pfd[1], &b))
		wl_broken("pipe fds %d/%d: %s", pfd[0], pfd[1], strerror(errno));
	else if (a.st_ino != pino || b.st_ino != pino || !S_ISFIFO(a.st_mode))
		wl_broken("pipe fds %d/%d no longer one pipe (inodes %lu %lu, was %lu)", pfd[0], pfd[1],
			  (unsigned long)a.st_ino, (unsigned long)b.st_ino, (unsigned long)pino);
	check_data(pfd[0], pdata, PIPE_BYTES, "pipe");
	if (ffd >= 0)
		check_data(ffd, fdata, FIFO_BYTES, "fifo");
}

int main(int argc, char **argv)
{
	struct stat st;

	wl_init("pipe", argc, argv, 0);
	for (size_t i = 0; i < PIPE_BYTES; i++)
		pdata[i] = (unsigned char)(i * 7 + 3);
	for (size_t i = 0; i < FIFO_BYTES; i++)
		fdata[i] = (unsigned char)('A' + i % 26);
	if (pipe(pfd))
		wl_die("pipe");
	wl_write_all(pfd[1], pdata, PIPE_BYTES);
	if (fstat(pfd[0], &st))
		wl_die("fstat");
	pino = st.st_ino;
	if (argc > 4) {
		fifo_path = argv[4];
		unlink(fifo_path);
		if (mkfifo(fifo_path, 0600))
			wl_die("mkfifo %s", fifo_path);
		ffd = open(fifo_path, O_RDWR);
		if (ffd < 0)
			wl_die("open %s", fifo_path);
		wl_write_all(ffd, fdata, FIFO_BYTES);
	}

	wl_truth_open();
	wl_t(",\n  \"processes\": [");
	wl_truth_process(true, getpid(), getppid(), NULL, 0);
	wl_t("\n  ],\n  \"pipes\": [\n    {\"pid\": %d, \"read_fd\": %d, \"write_fd\": %d, \"inode\": %lu, "
	     "\"bytes\": %d, \"data_hex_head\": \"", (int)getpid(), pfd[0], pfd[1], (unsigned long)pino,
	     PIPE_BYTES);
	for (int i = 0; i < 16; i++)
		wl_t("%02x", pdata[i]);
	wl_t("\", \"data\": \"i*7+3 mod 256\"}");
	if (ffd >= 0) {
		if (fstat(ffd, &st))
			wl_die("fstat");
		wl_t(",\n    {\"pid\": %d, \"fifo\": true, \"path\": \"%s\", \"fd\": %d, \"inode\": %lu, "
		     "\"bytes\": %d, \"data\": \"'A'+i%%26\"}",
		     (int)getpid(), fifo_path, ffd, (unsigned long)st.st_ino, FIFO_BYTES);
	}
	wl_t("\n  ]");
	wl_truth_close();
	wl_ready();
	wl_park(verify, wl_result_path, false);
}
