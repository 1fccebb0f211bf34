// SPDX-License-Identifier: GPL-2.0
/*
 * wl-files: regular files open at known offsets with known flags.
 *
 *   wl-files TRUTH READY RESULT
 *
 * In a fresh directory D ($WL_TMPDIR or /tmp, wl-files-PID-XXXXXX): a.txt
 * (8192 known bytes) open O_RDONLY at offset 1234, O_RDWR at 4321 and
 * O_WRONLY|O_APPEND (offset 8192); D itself open O_RDONLY|O_DIRECTORY.
 * On SIGUSR1: offsets, access modes and O_APPEND are what they were, the
 * fds still name the same inodes, and reading at the offset gives the
 * expected byte.
 */
#include "wl-common.h"

#include <sys/stat.h>

#define FBYTES 8192

struct f {
	const char *what;
	int flags;
	off_t off;
	int fd;
	ino_t ino;
};
static struct f fs[] = {
	{ "rdonly", O_RDONLY, 1234, -1, 0 },
	{ "rdwr", O_RDWR, 4321, -1, 0 },
	{ "append", O_WRONLY | O_APPEND, FBYTES, -1, 0 },
	{ "dir", O_RDONLY | O_DIRECTORY, 0, -1, 0 },
};
#define NF (sizeof(fs) / sizeof(fs[0]))
static char dir[4096], file[4200];

static unsigned char byte_at(off_t o)
{
	return (unsigned char)(o * 11 + 5);
}

static void verify(void)
{
	for (unsigned i = 0; i < NF; i++) {
		struct stat st;
		long fl = wl_fdinfo_flags(fs[i].fd);
		off_t pos = lseek(fs[i].fd, 0, SEEK_CUR);

		if (fstat(fs[i].fd, &st) || st.st_ino != fs[i].ino) {
			wl_broken("fd %d (%s) no longer the same file", fs[i].fd, fs[i].what);
			continue;
		}
		if (pos != fs[i].off)
			wl_broken("fd %d (%s) at offset %lld, expected %lld", fs[i].fd, fs[i].what,
				  (long long)pos, (long long)fs[i].off);
		if (fl < 0 || (fl & (O_ACCMODE | O_APPEND | O_DIRECTORY)) !=
				      (fs[i].flags & (O_ACCMODE | O_APPEND | O_DIRECTORY)))
			wl_broken("fd %d (%s) flags 0%lo, expected 0%o", fs[i].fd, fs[i].what, fl,
				  fs[i].flags);
		if ((fs[i].flags & O_ACCMODE) != O_WRONLY && !(fs[i].flags & O_DIRECTORY)) {
			unsigned char c;

			if (pread(fs[i].fd, &c, 1, fs[i].off) != 1 || c != byte_at(fs[i].off))
				wl_broken("fd %d (%s): wrong byte at %lld", fs[i].fd, fs[i].what,
					  (long long)fs[i].off);
		}
	}
}

int main(int argc, char **argv)
{
	static unsigned char buf[FBYTES];
	const char *t = getenv("WL_TMPDIR");
	struct stat st;
	int fd;

	wl_init("files", argc, argv, 0);
	snprintf(dir, sizeof(dir), "%s/wl-files-%d-XXXXXX", t ? t : "/tmp", (int)getpid());
	if (!mkdtemp(dir))
		wl_die("mkdtemp");
	snprintf(file, sizeof(file), "%s/a.txt", dir);
	for (int i = 0; i < FBYTES; i++)
		buf[i] = byte_at(i);
	fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		wl_die("create %s", file);
	wl_write_all(fd, buf, FBYTES);
	close(fd);
	for (unsigned i = 0; i < NF; i++) {
		fs[i].fd = open(fs[i].flags & O_DIRECTORY ? dir : file, fs[i].flags);
		if (fs[i].fd < 0)
			wl_die("open %s", fs[i].what);
		if (lseek(fs[i].fd, fs[i].off, SEEK_SET) != fs[i].off)
			wl_die("lseek");
		if (fstat(fs[i].fd, &st))
			wl_die("fstat");
		fs[i].ino = st.st_ino;
	}

	wl_truth_open();
	wl_t(",\n  \"processes\": [");
	wl_truth_process(true, getpid(), getppid(), NULL, 0);
	wl_t("\n  ],\n  \"fds\": [");
	for (unsigned i = 0; i < NF; i++)
		wl_t("%s\n    {\"fd\": %d, \"what\": \"%s\", \"path\": \"%s\", \"flags\": \"0%lo\", "
		     "\"pos\": %lld, \"inode\": %lu}",
		     i ? "," : "", fs[i].fd, fs[i].what, fs[i].flags & O_DIRECTORY ? dir : file,
		     wl_fdinfo_flags(fs[i].fd), (long long)fs[i].off, (unsigned long)fs[i].ino);
	wl_t("\n  ]");
	wl_truth_close();
	wl_ready();
	wl_park(verify, wl_result_path, false);
}
