// SPDX-License-Identifier: GPL-2.0
/*
 * bench-bw: the physical limits the dump throughput is compared with.
 *
 *   bench-bw memcpy MIB REPS     copy a MIB MiB buffer into another (both
 *                                pre-faulted), REPS times; prints the
 *                                median GiB/s
 *   bench-bw write FILE MIB REPS write MIB MiB to FILE (1 MiB write(2)s,
 *                                from a pre-faulted buffer), REPS times,
 *                                unlinking it in between; median GiB/s
 * Output: one JSON object on stdout with every sample.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *gibs, int reps, size_t mib)
{
	double *s = malloc(reps * sizeof(*s));

	memcpy(s, gibs, reps * sizeof(*s));
	qsort(s, reps, sizeof(*s), cmp);
	printf("{\"what\": \"%s\", \"mib\": %zu, \"median_gib_s\": %.4f, \"samples_gib_s\": [", what, mib,
	       reps % 2 ? s[reps / 2] : (s[reps / 2 - 1] + s[reps / 2]) / 2);
	for (int i = 0; i < reps; i++)
		printf("%s%.4f", i ? ", " : "", gibs[i]);
	printf("]}\n");
	free(s);
}

int main(int argc, char **argv)
{
	size_t mib, len;
	double *gibs;
	int reps;
	char *a;

	if (argc == 4 && !strcmp(argv[1], "memcpy")) {
		mib = atol(argv[2]);
		reps = atoi(argv[3]);
	} else if (argc == 5 && !strcmp(argv[1], "write")) {
		mib = atol(argv[3]);
		reps = atoi(argv[4]);
	} else {
		fprintf(stderr, "usage: bench-bw memcpy MIB REPS | write FILE MIB REPS\n");
		return 2;
	}
	if (!mib || reps < 1)
		return 2;
	len = mib << 20;
	gibs = calloc(reps, sizeof(*gibs));
	a = malloc(len);
	if (!a || !gibs) {
		perror("bench-bw");
		return 1;
	}
	memset(a, 0x5a, len);
	if (!strcmp(argv[1], "memcpy")) {
		char *b = malloc(len);

		if (!b) {
			perror("bench-bw");
			return 1;
		}
		memset(b, 0, len);
		memcpy(b, a, len);	/* warm-up */
		for (int r = 0; r < reps; r++) {
			double t0 = now_s();

			memcpy(b, a, len);
			gibs[r] = mib / 1024.0 / (now_s() - t0);
			a[r] = b[len - 1 - r];	/* keep the copy observable */
		}
		report("memcpy", gibs, reps, mib);
		return 0;
	}
	for (int r = 0; r < reps; r++) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		double t0 = now_s();

		if (fd < 0) {
			perror("bench-bw: open");
			return 1;
		}
		for (size_t off = 0; off < len; off += 1 << 20)
			if (write(fd, a + off, 1 << 20) != 1 << 20) {
				perror("bench-bw: write");
				return 1;
			}
		if (close(fd)) {
			perror("bench-bw: close");
			return 1;
		}
		gibs[r] = mib / 1024.0 / (now_s() - t0);
		unlink(argv[2]);
	}
	report("tmpfs_write", gibs, reps, mib);
	return 0;
}
