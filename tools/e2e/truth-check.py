#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""truth-check.py: check a normalized dump against a workload's truth file.

    tools/e2e/truth-check.py [--sample N] TRUTH.json NORMALIZED.json

NORMALIZED comes from criu-normalize.py or ckpt-normalize.py (per-page
hashes).  Checked: every process of the truth with its ppid (not the
root's: see compare.py E1), pgid, sid and thread list; thread registers
and signal masks; for memory regions, that each written page is stored
with the expected bytes (recomputed from the pattern: wl-common.h),
untouched pages are not stored, a COWed page of a private file mapping is
stored, and shared anonymous memory is one object with the pattern by
offset; for the files workload, fd offsets and flags; buffered pipe and
FIFO bytes (size and XXH3-64 of the pattern the workload wrote, when the
dump has them: "pipes"); sockets: type, state, ports, the socketpair's
peers (each end's peer inode is the other's inode) and unread bytes.  Prints "ok: ..."
or "FAIL: ..." per check and "truth-check: N ok, N failed"; exit status 1
on any failure.  Regions of more than --sample pages (default 512) are
checked on a sample of pages plus the count of stored pages.
"""
import argparse
import json
import random
import struct
import sys

import xxhash  # python3-xxhash (Debian)

PAGE = 4096
M64 = (1 << 64) - 1


def pat_page(a, seed):
    return xxhash.xxh3_64_hexdigest(struct.pack("<512Q", *[((a + 8 * i) * 0x9E3779B97F4A7C15 & M64) ^ seed
                                                 for i in range(512)]))


# The byte patterns the workloads write (the "data" strings of their truth).
PATTERNS = {
    "i*7+3 mod 256": lambda n: bytes((i * 7 + 3) & 255 for i in range(n)),
    "'A'+i%26": lambda n: bytes(65 + i % 26 for i in range(n)),
    "i*13+1 mod 256": lambda n: bytes((i * 13 + 1) & 255 for i in range(n)),
    "i*31+7 mod 256": lambda n: bytes((i * 31 + 7) & 255 for i in range(n)),
}
TCP_STATES = {"established": 1, "listen": 10}


class R:
    ok = 0
    bad = 0

    def check(self, cond, msg):
        if cond:
            self.ok += 1
        else:
            self.bad += 1
            print("FAIL: " + msg)
        return cond


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("truth")
    ap.add_argument("dump")
    ap.add_argument("--sample", type=int, default=512)
    a = ap.parse_args()
    t = json.load(open(a.truth))
    d = json.load(open(a.dump))
    r = R()
    procs = {p["pid"]: p for p in d["processes"]}
    root = t["root_pid"]
    for tp in t.get("processes", []):
        p = procs.get(tp["pid"])
        if not r.check(p is not None, f"pid {tp['pid']} missing from the dump"):
            continue
        for k in ("pgid", "sid") + (("ppid",) if tp["pid"] != root else ()):
            r.check(p[k] == tp[k], f"pid {tp['pid']}: {k} {p[k]}, truth {tp[k]}")
        r.check(sorted(p["threads"]) == sorted(tp["threads"]),
                f"pid {tp['pid']}: threads {p['threads']}, truth {tp['threads']}")
        if tp.get("zombie"):
            r.check(p.get("zombie"), f"pid {tp['pid']}: not recorded as a zombie")
    r.check(len(d["processes"]) == len(t.get("processes", [])),
            f"{len(d['processes'])} processes dumped, truth has {len(t.get('processes', []))}")

    for tt in t.get("threads", []):
        st = next((s for p in d["processes"] for s in p.get("thread_state", [])
                   if s["tid"] == tt["tid"]), None)
        if not r.check(st is not None, f"thread {tt['tid']}: no state in the dump"):
            continue
        r.check(int(st["sigmask"], 16) == int(tt["sigmask"], 16),
                f"thread {tt['tid']}: sigmask {st['sigmask']}, truth {tt['sigmask']}")
        names = {"rbx": "bx"}
        for k, v in tt.get("regs", {}).items():
            got = st["regs"].get(names.get(k, k))
            r.check(got is not None and int(got, 16) == int(v, 16),
                    f"thread {tt['tid']}: {k} {got}, truth {v}")
        if "orig_ax" in tt:
            got = st["regs"].get("orig_ax")
            r.check(got is not None and int(got, 16) == tt["orig_ax"],
                    f"thread {tt['tid']}: orig_ax {got}, truth {tt['orig_ax']}")

    shm_objs = {}
    for reg in t.get("regions", []):
        p = procs.get(reg["pid"])
        if p is None:
            continue
        start, end = int(reg["start"], 16), int(reg["end"], 16)
        where = f"pid {reg['pid']} {reg['kind']} {reg['start']}"
        v = next((v for v in p["vmas"] if int(v["start"], 16) == start), None)
        if not r.check(v is not None and int(v["end"], 16) == end,
                       f"{where}: no VMA {reg['start']}-{reg['end']} ({v and v['end']})"):
            continue
        seed = int(reg["seed"], 16)
        npages = (end - start) // PAGE
        if reg["kind"] == "anon_private":
            r.check(not v["shared"] and v["path"] == "", f"{where}: VMA is {v}")
            pages = p.get("pages", {})
            touched = range(npages) if reg["touched"] == "all" else reg["touched"]
            touched = list(touched)
            if len(touched) > a.sample:
                stored = sum(1 for i in touched if "0x%x" % (start + i * PAGE) in pages)
                r.check(stored == len(touched), f"{where}: {stored} of {len(touched)} pages stored")
                touched = random.Random(1).sample(touched, a.sample)
            bad = [i for i in touched
                   if pages.get("0x%x" % (start + i * PAGE)) != pat_page(start + i * PAGE, seed)]
            r.check(not bad, f"{where}: {len(bad)} pages wrong or missing (first index {bad[:1]})")
            extra = [i for i in reg.get("untouched", []) if "0x%x" % (start + i * PAGE) in pages]
            r.check(not extra, f"{where}: untouched pages stored: {extra[:5]}")
        elif reg["kind"] == "file_private":
            r.check(not v["shared"] and v["path"] == reg["path"], f"{where}: VMA is {v}")
            pages = p.get("pages", {})
            fseed = int(reg["file_seed"], 16)
            for i in range(npages):
                key = "0x%x" % (start + i * PAGE)
                if i in reg["cow_pages"]:
                    r.check(pages.get(key) == pat_page(start + i * PAGE, seed),
                            f"{where}: COWed page {i} wrong or not stored")
                elif key in pages:  # storing a clean file page is allowed, not required
                    r.check(pages[key] == pat_page(i * PAGE, fseed),
                            f"{where}: clean file page {i} stored with wrong bytes")
        elif reg["kind"] == "anon_shared":
            r.check(v["shared"], f"{where}: VMA not shared: {v}")
            r.check("shmem_id" in v, f"{where}: VMA has no shared-memory object")
            shm_objs.setdefault(reg["start"], set()).add(v.get("shmem_id"))
            obj = next((s for s in d.get("shared_memory", []) if s["id"] == v.get("shmem_id")), None)
            if r.check(obj is not None, f"{where}: shared-memory object {v.get('shmem_id')} missing"):
                pages = obj.get("pages", {})
                bad = [i for i in range(npages)
                       if pages.get("0x%x" % (i * PAGE)) != pat_page(i * PAGE, seed)]
                r.check(not bad, f"{where}: shared pages wrong or missing: {bad[:5]}")
    for start, ids in shm_objs.items():
        r.check(len(ids) == 1, f"shared region {start}: mapped through {len(ids)} objects {ids} "
                "(must be stored once)")

    for tf in t.get("fds", []):
        p = procs.get(root, {})
        f = next((f for f in p.get("fds", []) if f["fd"] == tf["fd"]), None)
        if not r.check(f is not None, f"fd {tf['fd']} ({tf['what']}) missing"):
            continue
        r.check(f.get("path") == tf["path"], f"fd {tf['fd']}: path {f.get('path')}, truth {tf['path']}")
        if tf["what"] != "dir":
            r.check(f.get("pos") == tf["pos"], f"fd {tf['fd']}: pos {f.get('pos')}, truth {tf['pos']}")
        want = int(tf["flags"], 8) & (0o3 | 0o2000 | 0o200000)
        r.check(f.get("flags") == want, f"fd {tf['fd']}: flags {oct(f.get('flags') or 0)}, truth {oct(want)}")

    rootp = procs.get(root, {})
    fds = {f["fd"]: f for f in rootp.get("fds", [])}
    pipes = {p["pipe_id"]: p for p in d.get("pipes", [])}
    for tp in t.get("pipes", []):
        where = f"{'fifo ' + tp['path'] if tp.get('fifo') else 'pipe'} inode {tp['inode']}"
        for k in ("read_fd", "write_fd", "fd"):
            if k in tp:
                f = fds.get(tp[k], {})
                r.check(f.get("type") in ("pipe", "fifo") and f.get("pipe_id") == tp["inode"],
                        f"{where}: fd {tp[k]} is {f}")
        p = pipes.get(tp["inode"])
        if not r.check(p is not None, f"{where}: buffered bytes not in the dump"):
            continue
        want = PATTERNS[tp["data"]](tp["bytes"])
        r.check(p["size"] == len(want) and p["xxh3"] == xxhash.xxh3_64_hexdigest(want),
                f"{where}: {p['size']} bytes ({p['xxh3']}), truth {len(want)} "
                f"({xxhash.xxh3_64_hexdigest(want)})")

    for ts in t.get("sockets", []):
        f = fds.get(ts["fd"])
        where = f"socket fd {ts['fd']}"
        if not r.check(f is not None and f.get("type") == ts["family"],
                       f"{where}: {f}, truth {ts['family']}"):
            continue
        if "proto" in ts:
            r.check(f.get("proto") == ts["proto"], f"{where}: proto {f.get('proto')}, truth {ts['proto']}")
        if "state" in ts:
            r.check(f.get("state") == TCP_STATES[ts["state"]],
                    f"{where}: state {f.get('state')}, truth {ts['state']}")
        for k, key in (("src", "src_port"), ("dst", "dst_port")):
            if k in ts:
                port = int(ts[k].rsplit(":", 1)[1])
                r.check(f.get(key) == port, f"{where}: {key} {f.get(key)}, truth {port}")
        if "name" in ts:
            r.check(f.get("name") == ts["name"], f"{where}: name {f.get('name')!r}, truth {ts['name']!r}")
        if "pair_fd" in ts:
            peer = fds.get(ts["pair_fd"], {})
            r.check(f.get("peer_ino") and f.get("peer_ino") == peer.get("ino"),
                    f"{where}: peer inode {f.get('peer_ino')}, fd {ts['pair_fd']} has inode "
                    f"{peer.get('ino')}")
        if "rqueue" in ts:
            n = ts["rqueue"]
            want = PATTERNS[ts["data"]](n) if n else b""
            r.check(f.get("queued_len") == n and f.get("queued_xxh3") == xxhash.xxh3_64_hexdigest(want),
                    f"{where}: unread bytes {f.get('queued_len')} ({f.get('queued_xxh3')}), truth {n} "
                    f"({xxhash.xxh3_64_hexdigest(want)})")

    print(f"truth-check: {r.ok} ok, {r.bad} failed")
    sys.exit(1 if r.bad else 0)


if __name__ == "__main__":
    main()
