/* SPDX-License-Identifier: GPL-2.0 */
/*
 * st-pages.h: what the files of the selftest group "pages"
 * (CKPT_IOC_PAGES) share.  The group is one list of tests (in st-pages.c)
 * spread over four files:
 *   st-pages.c        the helpers; the smoke test, the argument, fd,
 *                     target and permission rules, the errno order, pidfds;
 *   st-pages-truth.c  what the files hold against /proc/PID/mem, on
 *                     several file systems; untouched memory; file-system
 *                     errors; a source that maps the destination (also
 *                     through overlayfs);
 *   st-pages-conc.c   parallel calls, signals, userfaultfd;
 *   st-pages-xxh64.c  CKPT_PAGES_XXH64, against libxxhash.
 */
#ifndef CKPT_ST_PAGES_H
#define CKPT_ST_PAGES_H

#include <sys/mman.h>
#include "st.h"

#define PAGE		4096UL
#define MiB		(1UL << 20)
#define GiB		(1ULL << 30)

/*
 * @expr must fail with exactly @err; the message says what the call was
 * (printf-style), what was expected and what happened.  The "-1/ERRNO"
 * form is what tools/faults/run-in-vm.sh looks for (an injected ENOMEM).
 */
#define EXPECT_ERR(err, expr, ...)					\
	do {								\
		char _what[256];					\
		long _r;						\
		int _e;							\
		errno = 0;						\
		_r = (long)(expr);					\
		_e = errno;						\
		if (_r != -1 || _e != (err)) {				\
			snprintf(_what, sizeof(_what), __VA_ARGS__);	\
			st_fail("%s: expected -1/%s, got %ld/%s", _what, \
				st_errname(err), _r,			\
				_r == -1 ? st_errname(_e) : "success");	\
		}							\
	} while (0)

#define EXPECT_OK(expr, ...)						\
	do {								\
		char _what[256];					\
		long _r;						\
		errno = 0;						\
		_r = (long)(expr);					\
		if (_r != 0) {						\
			int _e = errno;					\
			snprintf(_what, sizeof(_what), __VA_ARGS__);	\
			st_fail("%s: expected success, got %ld, failed: %s", \
				_what, _r, st_errname(_e));		\
		}							\
	} while (0)

/* ---- the pattern ----------------------------------------------------------------- */

enum { R_ANON = 1, R_NONE, R_FILE, R_THP, R_SHARED, R_BUSY, R_THREAD,
       R_PAGE, R_HOLE, R_COW = R_FILE + 10, R_UFFD, R_SECRET, R_SHMEM,
       R_REWRITE };

static inline uint8_t pat(int role, size_t page, size_t off)
{
	return (uint8_t)(role * 37 + page * 101 + off * 7 + (off >> 8) + 1);
}

static inline void fill(uint8_t *p, int role, size_t first, size_t npages)
{
	size_t i, o;

	for (i = 0; i < npages; i++)
		for (o = 0; o < PAGE; o++)
			p[i * PAGE + o] = pat(role, first + i, o);
}

/*
 * In an errno-order test: @e (0 or an errno) must be @want; a mismatch is
 * shown and added to the char got[] and int bad_n of the test, which
 * reports them all at the end.
 */
#define ORDER(want, e, ...)						\
	do {								\
		int _e = (e);						\
		char _w[160];						\
		if (_e != (want)) {					\
			snprintf(_w, sizeof(_w), __VA_ARGS__);		\
			st_diag("%s: expected %s, got %s", _w,		\
				st_errname(want), st_errname(_e));	\
			snprintf(got + strlen(got), sizeof(got) - strlen(got), \
				 "%s%s: %s not %s", bad_n++ ? "; " : "", _w, \
				 st_errname(_e), st_errname(want));	\
		}							\
	} while (0)

/* ---- st-pages.c: helpers ----------------------------------------------------------- */

int ioc_pages(int dev, uint32_t pid, uint32_t fd,
	      const struct ckpt_page_range *r, uint32_t count, uint64_t offset);

/* In a workload: an mmap that must work. */
uint8_t *wl_map(size_t len, int prot, int flags, int fd);
/* A small target: @npages pages of the R_PAGE pattern at *@p, and a hole
 * (R_HOLE: 3 pages, the middle one unmapped) at *@hole if @hole. */
pid_t small_target(uint64_t *p, uint64_t *hole, size_t npages);
/* A zombie: the child of a new idle workload (*@root if @root), not reaped. */
pid_t zombie_target(pid_t *root);

int tmp_file(const char *dir);
int reopen(int fd, int flags);
uint64_t file_size(int fd);
uint8_t *read_at(int fd, uint64_t off, size_t len);
void check_pattern(int fd, uint64_t off, int role, size_t first,
		   size_t npages, const char *what);
/* Both ends of a new pipe, tracked. */
void track_pipe(int pfd[2]);

uint64_t unmapped_in(pid_t pid, uint64_t len);
bool find_mapping(pid_t pid, const char *name, uint64_t *start, uint64_t *end);
bool smaps_header(const char *line, unsigned long long *start);

bool fs_listed(const char *fs);
const char *new_mountpoint(const char *tag, char *dir, size_t len);
const char *mount_tmpfs(const char *tag, const char *opts, char *dir,
			size_t len);
const char *mount_huge(char *dir, size_t len);
const char *mount_ext4(char *dir, size_t len);
/* An overlayfs at @dir (its upper directory in @upper), tracked; NULL
 * (with a diagnostic) where the kernel has none. */
const char *mount_overlay(char *dir, size_t len, char *upper, size_t ulen);

void session_intact(int sfd);

/* A call made by a child as @uid with @caps only (st_drop_privs). */
struct perm {
	int dev, fd;
	uint32_t flags;		/* CKPT_PAGES_PIDFD: target is an fd */
	pid_t target;
	uint64_t addr;
	uid_t uid;
	int caps[2];
	int ncaps;
	uint64_t offset;
	int slot;
	uint64_t hash;		/* CKPT_PAGES_XXH64: the state */
};

int perm_result(struct perm *c);
void run_perm(struct perm *c, int want, const char *target);

/* ---- st-pages-truth.c: the truth workload, for the hash tests too ----------------- */

#define ANON_PAGES	8	/* pages 4-5 PROT_NONE, page 6 never touched */
#define ANON_UNTOUCHED	6
#define NONE_PAGES	4	/* page 3 never touched */
#define FILE_PAGES	4	/* page 1 COWed (COW_BYTES), page 3 never faulted */
#define COW_BYTES	100
#define THP_LEN		(4 * MiB)
#define SHARED_PAGES	2

struct layout {
	uint64_t anon, none, file, thp, shared, busy, vdso, vdso_end;
	pid_t pid, tid;
};

/* The truth workload in @cg, set up: its pid and layout.  @arg non-NULL:
 * a thread keeps changing a page (l->busy). */
pid_t truth_target(const struct ckpt_cg *cg, void *arg, struct layout *l);

struct prange {
	uint64_t start, len;
	const char *what;
	bool readable;		/* by process_vm_readv too */
};

#define NTRUTH	10

void truth_ranges(const struct layout *l, struct prange *r);
uint64_t truth_total(const struct layout *l);
uint8_t *proc_mem(pid_t pid, uint64_t addr, size_t len);
int prefilled(const char *dir, uint64_t len);

/* ---- the tests ----------------------------------------------------------------------- */

/* st-pages.c */
void pages_simple(void **state);
void pages_info(void **state);
void pages_self(void **state);
void pages_bad_args(void **state);
void pages_struct_size(void **state);
void pages_bad_fd(void **state);
void pages_bad_target(void **state);
void pages_unprivileged(void **state);
void pages_errno_order(void **state);
void pages_pidfd(void **state);
/* st-pages-truth.c */
void pages_truth_running(void **state);
void pages_truth_frozen_v2(void **state);
void pages_truth_frozen_v1(void **state);
void pages_untouched(void **state);
void pages_enospc(void **state);
void pages_fs_errors(void **state);
void pages_source_is_destination(void **state);
void pages_source_is_destination_ovl(void **state);
/* st-pages-conc.c */
void pages_parallel(void **state);
void pages_fatal_signal(void **state);
void pages_append_meanwhile(void **state);
void pages_userfaultfd(void **state);
/* st-pages-xxh64.c */
void pages_xxh64_info(void **state);
void pages_xxh64_ranges(void **state);
void pages_xxh64_chain(void **state);
void pages_xxh64_running(void **state);
void pages_xxh64_readback(void **state);
void pages_xxh64_readback_ramfs(void **state);
void pages_xxh64_bad_args(void **state);
void pages_xxh64_errno_order(void **state);

#endif /* CKPT_ST_PAGES_H */
