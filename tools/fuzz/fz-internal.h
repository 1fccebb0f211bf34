/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fz-internal.h: what the files of ckpt-fuzz share: its limits, the stats
 * page (struct shared), a worker's state, pointer kinds, what a generated
 * PAGES argument is (struct pgen), the globals (defined in ckpt-fuzz.c) and
 * the functions each file exports.  Everything else is static in its file.
 */
#ifndef CKPT_FZ_INTERNAL_H
#define CKPT_FZ_INTERNAL_H

#include "fz-common.h"

#define NSLOT		12
#define NCMD		9	/* INFO BEGIN END SCAN REGS SIGACTIONS THREAD VMAS PAGES */
#define C_PAGES		8
#define NHIST		(NCMD + 1)	/* and unknown */
#define MAXERR		134
#define ARENA_PAGES	5	/* RW, then one guard page */
#define REC_PAGES	16
#define XS_PAGES	4
#define SRC_PAGES	4	/* PAGES' source: a pattern, never written */
#define PAGES_VERIFY_MAX (256 * 1024)	/* check the file after smaller calls */
#define HS_PAGES	1	/* PAGES' hash states, then a guard */
#define CHAIN_MAX	(1024 * 1024)	/* bytes a hash chain keeps, at most */
#define HSZ		((uint32_t)sizeof(struct ckpt_pages_xxh64))

struct shared {
	uint64_t calls;
	uint64_t passed, failed;
	uint64_t hist[NHIST][MAXERR];
	uint64_t other_ops;
	/* PAGES with CKPT_PAGES_XXH64 that succeeded and were checked */
	uint64_t hashed, hashed_new, hashed_chain, hashed_arb, hashed_bytes;
	uint64_t hash_refused;	/* refused for the hash state or the fd, as predicted */
	uint64_t chain_max;	/* the longest chain (calls) */
	int stop;
	char first_fail[512];
};

struct worker {
	struct fz_rng rng;
	int id;
	uint8_t *arena, *arena_end;	/* RW pages, guard follows */
	uint8_t *recs, *recs_end;
	uint8_t *xs, *xs_end;
	uint8_t *src;			/* SRC_PAGES of pattern, then a guard */
	int sfd, sfd_wo, sfd_ro, sfd_app;	/* own scratch file: RW, WRONLY,
						 * RDONLY, WRONLY|APPEND */
	int sfd_direct;			/* WRONLY|O_DIRECT, or -1 (6.1's tmpfs) */
	uint8_t *hs, *hs_end;		/* PAGES' hash states; guard follows */
	/* The chain: the state the last successful hashed call stored, and
	 * the bytes (as the file held them then) it covers. */
	bool chain_ok;
	struct ckpt_pages_xxh64 chain_st;
	uint8_t *chain_buf;		/* CHAIN_MAX */
	size_t chain_len;
	uint64_t chain_calls;
	uint64_t hash;			/* of the generated sequence */
	uint64_t ncalls;
};

enum ptrkind { P_GOOD, P_MISALIGN, P_STRADDLE, P_NULL, P_LOW, P_GUARD,
	       P_K1, P_K2, P_RO };

/* ---- PAGES (fz-pages.c; checked in fz-ioctl.c) ------------------------------ */

enum { FD_GOOD, FD_EBADF, FD_EINVAL };

#define GIB		(1ULL << 30)

/* What a generated PAGES argument is, for the checks after the call. */
struct pgen {
	bool garbage;		/* random bytes: only the documented errnos */
	bool scalar_bad;	/* flags, count or offset breaks a rule */
	bool ranges_unreadable;	/* the array cannot be read at all */
	bool ranges_partial;	/* only its first entries can be read */
	bool entry_bad;		/* a readable entry breaks a rule */
	bool unmapped;		/* a readable entry is not mapped in the fuzzer */
	bool shm;		/* a readable entry is the (changing) stats page */
	bool self;		/* pid names the fuzzer (process or thread) */
	bool huge_off;		/* offset at or past the largest file offset */
	bool pidfd_bad;		/* CKPT_PAGES_PIDFD with an fd that is none */
	int fdk;
	/* The hash state, as the module sees it (only the first @size bytes
	 * of the struct: a short one passes a part of @hash, or none). */
	uint64_t hash_ptr;	/* @hash as the module sees it */
	int hash_err;		/* what the flag, @hash and the state give */
	int hash_acc;		/* HA_*: the memory at hash_ptr */
	int hash_kind;		/* HK_*: what was generated */
	bool hashing;		/* the module hashes (flag and a usable state) */
	struct ckpt_pages_xxh64 hs_before;	/* the state passed (HA_RW/RO) */
	uint64_t total;		/* of the readable entries, saturated */
	uint8_t before[sizeof(struct ckpt_pages)];	/* the argument as passed */
};

/* The memory a hash state pointer names, for HSZ bytes. */
enum { HA_NONE, HA_RW, HA_RO, HA_UNKNOWN };
/* What gen_pages_hash() generated. */
enum { HK_OFF, HK_NEW, HK_CHAIN, HK_ARB, HK_BADLEN, HK_NOPTR, HK_STRAY,
       HK_UNREAD, HK_RO };

/* ---- globals (ckpt-fuzz.c) ------------------------------------------------ */

extern struct shared *sh;
extern uint64_t seed, max_calls;
extern int nprocs;
extern long page;

extern struct ckpt_cg cg_a, cg_k, cg_t, cg_f;
extern struct fz_tree ta, tt, tf;
extern struct fz_tree tk;			/* replaced by the killer */
extern pthread_mutex_t tk_lock;
extern int slots[NSLOT];
extern uint32_t xstate_size;

extern int cgfds[20], ncgfds;
extern int pidfds[10], npidfds;
extern uint8_t *ro_page, *guard_page;
extern char scratch_dir[64];
extern int pipe_fds[2], scratch_dirfd;
extern int self_pidfd;
extern pid_t fuzzer_pid;
extern uint64_t pages_offered;

/* ---- reporting (ckpt-fuzz.c) ---------------------------------------------- */

void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- generation (fz-gen.c) ------------------------------------------------ */

extern const char *const cmd_names[NHIST];
extern const uint32_t ver0[NCMD], ksz[NCMD];
extern const unsigned int cmds[NCMD];

uint32_t pick(struct worker *w, uint32_t n);
uint64_t rnd64(struct worker *w);
uint32_t tree_pid(struct worker *w);
uint32_t some_flags(struct worker *w, uint32_t valid);
uint32_t some_reserved(struct worker *w);
enum ptrkind pick_ptrkind(struct worker *w);
bool ptr_unmapped(enum ptrkind k);
uint64_t make_ptr(struct worker *w, enum ptrkind k, uint8_t *base,
		  uint8_t *end, uint32_t size);
bool errno_documented(int c, int e);
uint32_t pick_size(struct worker *w, int c);

/* ---- PAGES (fz-pages.c) --------------------------------------------------- */

uint8_t src_byte(size_t i);
void pages_safe_hash(struct worker *w, struct ckpt_pages *a, uint32_t size);
void gen_pages(struct worker *w, struct ckpt_pages *a, struct pgen *g,
	       uint32_t size);
void pages_safe_fd(struct worker *w, struct ckpt_pages *a);
bool pages_verify(struct worker *w, const struct ckpt_pages *a,
		  char *why, size_t whylen);
bool pages_hash_verify(struct worker *w, const struct ckpt_pages *a,
		       const struct pgen *g, char *why, size_t whylen);

/* ---- ioctls and workers (fz-ioctl.c) -------------------------------------- */

void one_op(struct worker *w);
void worker_setup(struct worker *w, int id);
void worker_close(struct worker *w);
void *worker_main(void *arg);

/* ---- session children and background threads (fz-bg.c) ------------------- */

void *procs_main(void *arg);
void *killer_main(void *arg);
void *writer_main(void *arg);
void *reaper_main(void *arg);

#endif /* CKPT_FZ_INTERNAL_H */
