// SPDX-License-Identifier: GPL-2.0
/*
 * wl-mem: memory with known contents.
 *
 *   wl-mem TRUTH READY RESULT [BIG_MIB]
 *
 * Regions (each "kind" below is a truth "regions" entry):
 *   anon_private  four MAP_PRIVATE|MAP_ANONYMOUS regions at fixed addresses
 *                 (MAP_FIXED_NOREPLACE, one unmapped page between them so
 *                 they stay separate VMAs): 1, 16 and 256 pages fully
 *                 written, and 64 pages with only the even pages written
 *                 (the odd ones never touched: a dump must not contain them);
 *   file_private  an 8-page temp file (page at offset O holds the pattern
 *                 of O, file seed) mapped MAP_PRIVATE, every page read,
 *                 pages 1 and 5 overwritten (COWed) with the address pattern;
 *   anon_shared   8 pages of MAP_SHARED|MAP_ANONYMOUS, pattern by object
 *                 offset, mapped by the root and a forked child (both touch
 *                 every page): one object, to be stored once;
 *   big           with BIG_MIB: BIG_MIB MiB of anonymous memory, every page
 *                 written with the address pattern, mapped after the fork
 *                 (the child does not share it copy-on-write).
 */
#include "wl-common.h"

#include <sys/mman.h>

#define BASE 0x100000000000UL
#define SEED_ANON 0xA11CE5EED0000001ULL
#define SEED_FILE 0xF11E5EED00000002ULL
#define SEED_COW 0xC0C0C0C000000003ULL
#define SEED_SHM 0x5AA2ED0000000004ULL
#define SEED_BIG 0xB16B16B100000005ULL

struct anon {
	size_t pages;
	bool even_only;
	char *p;
};
static struct anon anons[] = { { 1, false, NULL }, { 16, false, NULL },
			       { 256, false, NULL }, { 64, true, NULL } };
#define NANON (sizeof(anons) / sizeof(anons[0]))

#define FILE_PAGES 8
static const int cow_pages[] = { 1, 5 };
static char file_path[4096];
static char *fmap;

#define SHM_PAGES 8
static char *shm;
static pid_t kid;

static size_t big_pages;
static char *big;

static void *map_at(unsigned long addr, size_t len, int prot, int flags, int fd)
{
	void *p = mmap((void *)addr, len, prot, flags | MAP_FIXED_NOREPLACE, fd, 0);

	if (p == MAP_FAILED && errno == EEXIST)
		p = mmap(NULL, len, prot, flags, fd, 0);
	if (p == MAP_FAILED)
		wl_die("mmap %zu bytes", len);
	return p;
}

static bool is_cow(int i)
{
	for (unsigned k = 0; k < sizeof(cow_pages) / sizeof(cow_pages[0]); k++)
		if (cow_pages[k] == i)
			return true;
	return false;
}

static void verify_shm(void)
{
	for (int i = 0; i < SHM_PAGES; i++) {
		long off = wl_check_page(shm + i * WL_PAGE, i * WL_PAGE, SEED_SHM);

		if (off >= 0)
			wl_broken("shared page %d (%p) differs at +%ld", i, shm + i * WL_PAGE, off);
	}
}

static void verify(void)
{
	for (unsigned r = 0; r < NANON; r++) {
		for (size_t i = 0; i < anons[r].pages; i++) {
			char *pg = anons[r].p + i * WL_PAGE;

			if (anons[r].even_only && (i & 1)) {
				if (!wl_page_is_zero(pg))
					wl_broken("untouched page %p is not zero", pg);
				continue;
			}
			long off = wl_check_page(pg, (uintptr_t)pg, SEED_ANON);
			if (off >= 0)
				wl_broken("anon page %p differs at +%ld", pg, off);
		}
	}
	for (int i = 0; i < FILE_PAGES; i++) {
		char *pg = fmap + i * WL_PAGE;
		long off = is_cow(i) ? wl_check_page(pg, (uintptr_t)pg, SEED_COW)
				     : wl_check_page(pg, i * WL_PAGE, SEED_FILE);

		if (off >= 0)
			wl_broken("file-private page %d (%p) differs at +%ld", i, pg, off);
	}
	verify_shm();
	for (size_t i = 0; i < big_pages; i++) {
		char *pg = big + i * WL_PAGE;
		long off = wl_check_page(pg, (uintptr_t)pg, SEED_BIG);

		if (off >= 0) {
			wl_broken("big page %p differs at +%ld", pg, off);
			break;
		}
	}
}

static void truth_anon(char *p, size_t pages, bool even_only, uint64_t seed, bool *first)
{
	wl_t("%s\n    {\"kind\": \"anon_private\", \"pid\": %d, \"start\": \"0x%lx\", \"end\": \"0x%lx\", "
	     "\"seed\": \"0x%llx\", \"base\": \"vaddr\", \"touched\": ",
	     *first ? "" : ",", (int)getpid(), (unsigned long)p, (unsigned long)(p + pages * WL_PAGE),
	     (unsigned long long)seed);
	*first = false;
	if (!even_only) {
		wl_t("\"all\"}");
		return;
	}
	wl_t("[");
	for (size_t i = 0; i < pages; i += 2)
		wl_t("%s%zu", i ? ", " : "", i);
	wl_t("], \"untouched\": [");
	for (size_t i = 1; i < pages; i += 2)
		wl_t("%s%zu", i > 1 ? ", " : "", i);
	wl_t("]}");
}

int main(int argc, char **argv)
{
	unsigned long addr = BASE;
	int sync[2], fd;
	char c;

	wl_init("mem", argc, argv, 0);
	if (argc > 4) {
		char *end;
		unsigned long mib = strtoul(argv[4], &end, 0);

		if (*end || !mib)
			wl_die("bad BIG_MIB '%s'", argv[4]);
		big_pages = mib * 256;
	}

	for (unsigned r = 0; r < NANON; r++) {
		anons[r].p = map_at(addr, anons[r].pages * WL_PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1);
		addr += (anons[r].pages + 1) * WL_PAGE;
		for (size_t i = 0; i < anons[r].pages; i++)
			if (!anons[r].even_only || !(i & 1))
				wl_fill_page(anons[r].p + i * WL_PAGE,
					     (uintptr_t)(anons[r].p + i * WL_PAGE), SEED_ANON);
	}

	/* the private file mapping */
	fd = wl_tmpfile(file_path, sizeof(file_path), "mem");
	{
		static char pg[WL_PAGE];

		for (int i = 0; i < FILE_PAGES; i++) {
			wl_fill_page(pg, i * WL_PAGE, SEED_FILE);
			wl_write_all(fd, pg, WL_PAGE);
		}
	}
	fmap = map_at(addr, FILE_PAGES * WL_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
	addr += (FILE_PAGES + 1) * WL_PAGE;
	close(fd);
	{
		volatile uint64_t sum = 0;

		for (int i = 0; i < FILE_PAGES; i++)
			sum += *(volatile uint64_t *)(fmap + i * WL_PAGE);
		(void)sum;
	}
	for (unsigned k = 0; k < sizeof(cow_pages) / sizeof(cow_pages[0]); k++) {
		char *pg = fmap + cow_pages[k] * WL_PAGE;

		wl_fill_page(pg, (uintptr_t)pg, SEED_COW);
	}

	/* shared anonymous memory, shared with a child */
	shm = map_at(addr, SHM_PAGES * WL_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1);
	addr += (SHM_PAGES + 1) * WL_PAGE;
	for (int i = 0; i < SHM_PAGES; i++)
		wl_fill_page(shm + i * WL_PAGE, i * WL_PAGE, SEED_SHM);

	if (pipe(sync))
		wl_die("pipe");
	kid = fork();
	if (kid < 0)
		wl_die("fork");
	if (kid == 0) {
		volatile uint64_t sum = 0;

		for (int i = 0; i < SHM_PAGES; i++)
			sum += *(volatile uint64_t *)(shm + i * WL_PAGE);
		(void)sum;
		close(sync[0]);
		if (write(sync[1], "k", 1) != 1)
			wl_die("sync");
		close(sync[1]);
		wl_park_child(verify_shm);
	}
	wl_add_kid(kid);
	close(sync[1]);
	if (read(sync[0], &c, 1) != 1)
		wl_die("child did not start");
	close(sync[0]);
	/* after the fork: only the root maps it, so a dump stores it once */
	if (big_pages) {
		big = map_at(addr, big_pages * WL_PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1);
		for (size_t i = 0; i < big_pages; i++)
			wl_fill_page(big + i * WL_PAGE, (uintptr_t)(big + i * WL_PAGE), SEED_BIG);
	}

	wl_truth_open();
	wl_t(",\n  \"processes\": [");
	wl_truth_process(true, getpid(), getppid(), NULL, 0);
	wl_truth_process(false, kid, getpid(), NULL, 0);
	wl_t("\n  ],\n  \"regions\": [");
	bool first = true;
	for (unsigned r = 0; r < NANON; r++)
		truth_anon(anons[r].p, anons[r].pages, anons[r].even_only, SEED_ANON, &first);
	wl_t(",\n    {\"kind\": \"file_private\", \"pid\": %d, \"start\": \"0x%lx\", \"end\": \"0x%lx\", "
	     "\"path\": \"%s\", \"file_seed\": \"0x%llx\", \"seed\": \"0x%llx\", \"base\": \"vaddr\", "
	     "\"cow_pages\": [%d, %d]}",
	     (int)getpid(), (unsigned long)fmap, (unsigned long)(fmap + FILE_PAGES * WL_PAGE), file_path,
	     (unsigned long long)SEED_FILE, (unsigned long long)SEED_COW, cow_pages[0], cow_pages[1]);
	for (int who = 0; who < 2; who++)
		wl_t(",\n    {\"kind\": \"anon_shared\", \"pid\": %d, \"start\": \"0x%lx\", \"end\": \"0x%lx\", "
		     "\"seed\": \"0x%llx\", \"base\": \"offset\", \"touched\": \"all\", \"shared_with\": [%d, %d]}",
		     who ? (int)kid : (int)getpid(), (unsigned long)shm,
		     (unsigned long)(shm + SHM_PAGES * WL_PAGE), (unsigned long long)SEED_SHM,
		     (int)getpid(), (int)kid);
	if (big_pages)
		truth_anon(big, big_pages, false, SEED_BIG, &first);
	wl_t("\n  ]");
	wl_truth_close();
	wl_ready();
	wl_park(verify, wl_result_path, true);
}
