// SPDX-License-Identifier: GPL-2.0
/*
 * st-truth.c: what a scan must return, computed independently from /proc,
 * and the checks of scan records against it.
 *
 * The truth walks /proc: the threads of a process from /proc/PID/task, its
 * children from /proc/PID/task/TID/children of every thread (a child
 * forked by any thread is a child of the process), the ids from each
 * thread's stat, and the numbers in nested pid namespaces from NSpid.
 */
#include "st.h"

static void st_truth_add(struct st_truth *tr, pid_t pid, pid_t tid,
			 uint32_t depth)
{
	struct ckpt_proc_stat st;
	struct st_ttask *t;
	int n;

	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? tr->cap * 2 : 256;
		tr->t = realloc(tr->t, tr->cap * sizeof(*tr->t));
		if (!tr->t)
			st_fail("out of memory");
	}
	t = &tr->t[tr->n++];
	memset(t, 0, sizeof(*t));
	if (ckpt_proc_stat(pid, tid, &st))
		st_fail("/proc/%d/task/%d/stat: %s", pid, tid, st_errname(errno));
	n = ckpt_proc_nspid(pid, tid, t->nspid, ARRAY_SIZE(t->nspid));
	if (n < 1 || n > (int)ARRAY_SIZE(t->nspid))
		st_fail("/proc/%d/task/%d/status NSpid: %s", pid, tid,
			st_errname(errno));
	t->nns = n;
	t->tid = tid;
	t->tgid = pid;
	t->ppid = st.ppid;
	t->pgid = st.pgrp;
	t->sid = st.session;
	t->state = st.state;
	t->leader = tid == pid;
	t->depth = depth;
}

static void st_truth_visit(struct st_truth *tr, pid_t pid, uint32_t depth)
{
	pid_t *tids, *kids = NULL, *k;
	size_t ntids, nkids = 0, nk, i, j;

	if (ckpt_proc_tasks(pid, &tids, &ntids))
		st_fail("/proc/%d/task: %s", pid, st_errname(errno));
	/* The leader first (its tid is the pid), then the other threads. */
	st_truth_add(tr, pid, pid, depth);
	for (i = 0; i < ntids; i++)
		if (tids[i] != pid)
			st_truth_add(tr, pid, tids[i], depth);
	for (i = 0; i < ntids; i++) {
		if (ckpt_proc_children(pid, tids[i], &k, &nk))
			st_fail("/proc/%d/task/%d/children: %s", pid, tids[i],
				st_errname(errno));
		kids = realloc(kids, (nkids + nk + 1) * sizeof(*kids));
		if (!kids)
			st_fail("out of memory");
		for (j = 0; j < nk; j++)
			kids[nkids++] = k[j];
		free(k);
	}
	free(tids);
	for (i = 0; i < nkids; i++)
		st_truth_visit(tr, kids[i], depth + 1);
	free(kids);
}

void st_truth_collect(pid_t root, struct st_truth *tr)
{
	memset(tr, 0, sizeof(*tr));
	tr->root = root;
	st_truth_visit(tr, root, 0);
	tr->level = tr->t[0].nns - 1;
}

void st_truth_free(struct st_truth *tr)
{
	free(tr->t);
	memset(tr, 0, sizeof(*tr));
}

/* @host (a pid of this /proc) as seen in the pid ns @level levels below. */
pid_t st_map_pid(pid_t host, int level)
{
	pid_t ids[8];
	int n;

	if (!level || !host)
		return host;
	n = ckpt_proc_nspid(host, 0, ids, ARRAY_SIZE(ids));
	if (n < 1)
		st_fail("/proc/%d/status NSpid: %s", host, st_errname(errno));
	return n > level ? ids[level] : 0;
}

static int st_ttask_cmp(const void *a, const void *b)
{
	pid_t x = (*(const struct st_ttask *const *)a)->tid;
	pid_t y = (*(const struct st_ttask *const *)b)->tid;

	return (x > y) - (x < y);
}

static void st_print_rec(const char *what, const struct ckpt_task *r)
{
	st_diag("%s: pid %u tgid %u ppid %u pgid %u sid %u vpid %u vtgid %u flags %#x depth %u",
		what, r->pid, r->tgid, r->ppid, r->pgid, r->sid, r->vpid,
		r->vtgid, r->flags, r->depth);
}

static void st_print_counts(const struct ckpt_task *r, uint32_t n,
			    const struct st_truth *tr)
{
	size_t i;

	st_diag("scan: %u records, /proc: %zu tasks", n, tr->n);
	for (i = 0; i < n && i < 40; i++)
		st_print_rec("record", &r[i]);
	for (i = 0; i < tr->n && i < 40; i++)
		st_diag("proc: tid %d tgid %d ppid %d state %c depth %u",
			tr->t[i].tid, tr->t[i].tgid, tr->t[i].ppid,
			tr->t[i].state, tr->t[i].depth);
}

void st_check_records(const struct ckpt_task *r, uint32_t n,
		      const struct st_truth *tr)
{
	struct st_ttask **idx, key, *kp = &key, **hit;
	uint32_t i;
	int lv = tr->level;

	if (n != tr->n) {
		st_print_counts(r, n, tr);
		st_fail("scan has %u records, /proc shows %zu tasks", n, tr->n);
	}
	idx = malloc(tr->n * sizeof(*idx));
	if (!idx)
		st_fail("out of memory");
	for (i = 0; i < tr->n; i++) {
		idx[i] = &tr->t[i];
		idx[i]->matched = false;
	}
	qsort(idx, tr->n, sizeof(*idx), st_ttask_cmp);

	for (i = 0; i < n; i++) {
		const struct ckpt_task *x = &r[i];
		struct st_ttask *t;
		uint32_t flags;
		pid_t pid, tgid, sid;

		key.tid = (pid_t)x->vpid;
		hit = bsearch(&kp, idx, tr->n, sizeof(*idx), st_ttask_cmp);
		if (!hit) {
			st_print_rec("record", x);
			st_fail("record %u: task %u is not in the tree in /proc",
				i, x->vpid);
		}
		t = *hit;
		if (t->matched) {
			st_print_rec("record", x);
			st_fail("record %u: task %u listed twice", i, x->vpid);
		}
		t->matched = true;

		pid = t->nns > lv ? t->nspid[lv] : 0;
		tgid = st_map_pid(t->tgid, lv);
		sid = st_map_pid(t->sid, lv);
		flags = t->leader ? CKPT_TASK_LEADER : CKPT_TASK_THREAD;
		if (t->state == 'Z')
			flags |= CKPT_TASK_ZOMBIE;
		if (t->leader && sid && sid == pid)
			flags |= CKPT_TASK_SESSION_LEADER;
		if (t->nspid[t->nns - 1] == 1)
			flags |= CKPT_TASK_PIDNS_INIT;
		if (t->tid == tr->root)
			flags |= CKPT_TASK_ROOT;

		if (x->vtgid != (uint32_t)t->tgid || x->pid != (uint32_t)pid ||
		    x->tgid != (uint32_t)tgid ||
		    x->ppid != (uint32_t)st_map_pid(t->ppid, lv) ||
		    x->pgid != (uint32_t)st_map_pid(t->pgid, lv) ||
		    x->sid != (uint32_t)sid || x->depth != t->depth ||
		    x->flags != flags || x->reserved) {
			struct ckpt_task want = {
				.pid = pid, .tgid = tgid,
				.ppid = st_map_pid(t->ppid, lv),
				.pgid = st_map_pid(t->pgid, lv), .sid = sid,
				.vpid = t->tid, .vtgid = t->tgid,
				.flags = flags, .depth = t->depth,
			};

			st_print_rec("record  ", x);
			st_print_rec("expected", &want);
			st_fail("record %u (task %u) differs from /proc (state %c)",
				i, x->vpid, t->state);
		}
	}
	free(idx);
}

void st_check_order(const struct ckpt_task *r, uint32_t n)
{
	uint32_t *stack, sp = 0, cur, i;

	ST_CHECK(n > 0, "empty scan");
	ST_CHECK(r[0].flags & CKPT_TASK_ROOT, "first record is not the root");
	ST_CHECK(r[0].flags & CKPT_TASK_LEADER, "the root is not a leader");
	ST_EQ(r[0].depth, 0);
	stack = malloc(n * sizeof(*stack));
	if (!stack)
		st_fail("out of memory");
	stack[sp++] = cur = r[0].tgid;
	for (i = 1; i < n; i++) {
		const struct ckpt_task *x = &r[i];

		if (x->flags & CKPT_TASK_ROOT) {
			st_print_rec("record", x);
			st_fail("record %u: a second root", i);
		}
		if (x->flags & CKPT_TASK_THREAD) {
			/* Right after its leader and the leader's threads. */
			if (x->tgid != cur || x->depth != sp - 1) {
				st_print_rec("record", x);
				st_fail("record %u: thread %u does not follow its leader %u",
					i, x->pid, x->tgid);
			}
			continue;
		}
		/* A process: its parent must be on the current DFS path. */
		while (sp && stack[sp - 1] != x->ppid)
			sp--;
		if (!sp) {
			st_print_rec("record", x);
			st_fail("record %u: parent %u of %u is not an earlier process on the DFS path",
				i, x->ppid, x->pid);
		}
		if (x->depth != sp) {
			st_print_rec("record", x);
			st_fail("record %u: depth %u, but its parent is at depth %u",
				i, x->depth, sp - 1);
		}
		stack[sp++] = cur = x->tgid;
	}
	free(stack);
}

const struct ckpt_task *st_find_rec(const struct ckpt_task *r, uint32_t n,
				    pid_t vpid)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (r[i].vpid == (uint32_t)vpid)
			return &r[i];
	st_fail("task %d is not in the scan", vpid);
}

struct ckpt_task *st_scan_check(int fd, pid_t root, uint32_t *count)
{
	struct ckpt_task *recs;
	struct ckpt_scan s;
	struct st_truth tr;
	uint32_t n;

	if (ckpt_scan_all(fd, &recs, &n, &s)) {
		int err = errno;

		if (s.err_pid)
			st_dump_task((pid_t)s.err_pid);
		st_fail("SCAN: %s (err_pid %u, err_reason %s)",
			st_errname(err), s.err_pid,
			ckpt_scan_err_name(s.err_reason));
	}
	ST_EQ(s.err_pid, 0);
	ST_EQ(s.err_reason, CKPT_SCAN_ERR_NONE);
	st_truth_collect(root, &tr);
	st_check_records(recs, n, &tr);
	st_check_order(recs, n);
	st_truth_free(&tr);
	if (count)
		*count = n;
	return recs;
}
