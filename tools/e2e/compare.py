#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""compare.py: diff two normalized dumps of the same frozen tree (CRIU vs ckpt).

    tools/e2e/compare.py [--criu-dir DIR] CRIU.json CKPT.json

Both files are the normalized JSON of tools/e2e/README (criu-normalize.py,
ckpt-normalize.py).  Every difference is printed as "DIFF: ..."; where the
tools legitimately differ, the line is "EXCEPTION Ex: ..." instead, Ex
naming one of the documented exceptions below (also in tools/e2e/README).
The last line is "compare: N differences, N exceptions"; the exit status
is 0 only with no difference (2 for bad input).

Pages are compared by their XXH3-64 hashes, page by page, or VMA by VMA
when either side has the per-VMA form (--vma-hash: the big case); a
per-page side is then folded into the same per-VMA form.  Also compared:
buffered pipe bytes (size and hash per pipe inode), and for sockets the
inode, peer inode, ports, state and unread bytes (size and hash).

Documented exceptions:
  E1 root-ppid  CRIU stores ppid 0 for the root of the dumped tree (its
                parent is outside the dump); ckpt stores the real parent.
  E2 vsyscall   CRIU leaves [vsyscall] out of its VMA list (a fixed kernel
                page, never restored); ckpt lists it (kind VSYSCALL).
  E3 vdso-vvar  CRIU dumps the pages of [vdso] (its restorer compares them
                with the new vdso); ckpt stores no vdso/vvar page (a
                restore maps its own).  Pages in VDSO/VVAR VMAs are not
                compared.
  E4 file-priv  Pages of a private file mapping stored by one tool only.
                CRIU stores only the pages pagemap reports as anonymous
                (COWed) plus, on some kernels, pages it cannot tell apart;
                ckpt's policy may store fewer or more (a page that is still
                the file's can be read from the file).  Pages both store
                must be equal.
  E5 zero-page  A page one tool stored as 4096 zero bytes and the other did
                not store: CRIU skips pages mapped to the shared zero page
                (read, never written), which read back as zeros anyway.
  E6 ax/ip      rax and rip of a thread stopped in a syscall: each tool
                records the syscall's -ERESTART* return and the syscall
                instruction's address as the kernel left them when it read
                the registers; CRIU reads them after its own seize.  Only
                a difference between "-ERESTART*/rewound" forms is
                excused; any other is a DIFF.
  E7 shm-path   The path of a shared anonymous VMA: ckpt keeps the name
                maps shows ("/dev/zero"), CRIU none (6.1) or a memfd name
                (6.12), which criu-normalize drops.
"""
import argparse
import json
import os
import sys

import xxhash  # python3-xxhash (Debian)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import vma_digest  # noqa: E402

PAGE = 4096
ZERO_HASH = xxhash.xxh3_64_hexdigest(bytes(PAGE))
ERESTART = {(1 << 64) - n for n in (512, 513, 514, 516)} | {(1 << 64) - 4}  # and -EINTR


class Report:
    def __init__(self):
        self.diffs = 0
        self.exc = 0

    def diff(self, msg):
        self.diffs += 1
        print("DIFF: " + msg)

    def excuse(self, tag, msg):
        self.exc += 1
        print(f"EXCEPTION {tag}: {msg}")


def vma_of(vmas, addr):
    for v in vmas:
        if int(v["start"], 16) <= addr < int(v["end"], 16):
            return v
    return None


def cmp_fields(r, what, a, b, keys):
    for k in keys:
        if a.get(k) != b.get(k):
            r.diff(f"{what}: {k} criu={a.get(k)!r} ckpt={b.get(k)!r}")


def cmp_pages(r, where, vmas, pa, pb):
    """Per-page maps {"0xaddr": sha}; @vmas (CRIU's) classify the address."""
    for key in sorted(set(pa) | set(pb), key=lambda k: int(k, 16)):
        ha, hb = pa.get(key), pb.get(key)
        if ha == hb:
            continue
        v = vma_of(vmas, int(key, 16)) if vmas is not None else None
        kind = v["kind"] if v else "?"
        if kind in ("VDSO", "VVAR"):
            r.excuse("E3", f"{where}: page {key} in {kind} (criu {'stored' if ha else 'absent'}, "
                     f"ckpt {'stored' if hb else 'absent'})")
        elif ha and hb:
            r.diff(f"{where}: page {key} ({kind} {v['path'] if v else ''}) differs")
        elif kind == "FILE_PRIVATE":
            r.excuse("E4", f"{where}: page {key} of {v['path']} stored by "
                     f"{'criu' if ha else 'ckpt'} only")
        elif (ha or hb) == ZERO_HASH:
            r.excuse("E5", f"{where}: zero page {key} stored by {'criu' if ha else 'ckpt'} only")
        else:
            r.diff(f"{where}: page {key} ({kind}) stored by {'criu' if ha else 'ckpt'} only")


def cmp_vma_pages(r, where, vmas, a, b):
    """Per-VMA forms [{start, pages_stored, hash}]; @vmas (CRIU's) give the kind."""
    da = {v["start"]: v for v in a}
    db = {v["start"]: v for v in b}
    kinds = {v["start"]: v for v in vmas}
    for s in sorted(set(da) | set(db), key=lambda k: int(k, 16)):
        va, vb = da.get(s, {}), db.get(s, {})
        if va.get("hash") == vb.get("hash"):
            continue
        v = kinds.get(s, {})
        kind = v.get("kind", "?")
        msg = (f"{where}: VMA {s} ({kind} {v.get('path', '')}): criu {va.get('pages_stored')} "
               f"pages, ckpt {vb.get('pages_stored')} pages, hashes differ")
        if kind in ("VDSO", "VVAR"):
            r.excuse("E3", msg)
        elif kind == "FILE_PRIVATE" and va.get("pages_stored") != vb.get("pages_stored"):
            # per VMA, the pages both store cannot be told apart (the
            # per-page cases check them)
            r.excuse("E4", msg)
        elif kind == "VSYSCALL" or (not va and vb.get("pages_stored", 0) == 0):
            r.excuse("E2", msg)
        else:
            r.diff(msg)


def cmp_threads(r, where, ta, tb):
    a = {t["tid"]: t for t in ta}
    b = {t["tid"]: t for t in tb}
    for tid in sorted(set(a) | set(b)):
        if tid not in a or tid not in b:
            r.diff(f"{where}: thread {tid} only in {'criu' if tid in a else 'ckpt'}")
            continue
        if a[tid]["sigmask"] != b[tid]["sigmask"]:
            r.diff(f"{where} tid {tid}: sigmask criu={a[tid]['sigmask']} ckpt={b[tid]['sigmask']}")
        ra, rb = a[tid].get("regs", {}), b[tid].get("regs", {})
        for k in sorted(set(ra) | set(rb)):
            if ra.get(k) == rb.get(k):
                continue
            va = int(ra[k], 16) if k in ra else None
            vb = int(rb[k], 16) if k in rb else None
            if k == "ax" and (va in ERESTART or vb in ERESTART):
                r.excuse("E6", f"{where} tid {tid}: ax criu={ra.get(k)} ckpt={rb.get(k)}")
            elif k == "ip" and va is not None and vb is not None and abs(va - vb) == 2:
                r.excuse("E6", f"{where} tid {tid}: ip criu={ra[k]} ckpt={rb[k]} (syscall rewound)")
            else:
                r.diff(f"{where} tid {tid}: {k} criu={ra.get(k)} ckpt={rb.get(k)}")


def cmp_vmas(r, where, va, vb):
    a = {v["start"]: v for v in va}
    b = {v["start"]: v for v in vb}
    for s in sorted(set(a) | set(b), key=lambda k: int(k, 16)):
        if s not in a:
            if b[s]["kind"] == "VSYSCALL" or b[s]["path"] == "[vsyscall]":
                r.excuse("E2", f"{where}: [vsyscall] at {s} listed by ckpt only")
            else:
                r.diff(f"{where}: VMA {s}-{b[s]['end']} {b[s]['path']!r} only in ckpt")
            continue
        if s not in b:
            r.diff(f"{where}: VMA {s}-{a[s]['end']} {a[s]['path']!r} only in criu")
            continue
        keys = ("end", "prot", "shared", "path", "kind")
        if a[s]["kind"] == b[s]["kind"] == "ANON_SHARED" and a[s]["path"] != b[s]["path"]:
            r.excuse("E7", f"{where}: VMA {s} ANON_SHARED path criu={a[s]['path']!r} "
                     f"ckpt={b[s]['path']!r}")
            keys = ("end", "prot", "shared", "kind")
        cmp_fields(r, f"{where} VMA {s}", a[s], b[s], keys)


def cmp_fds(r, where, fa, fb):
    a = {f["fd"]: f for f in fa}
    b = {f["fd"]: f for f in fb}
    for fd in sorted(set(a) | set(b)):
        if fd not in a or fd not in b:
            r.diff(f"{where}: fd {fd} only in {'criu' if fd in a else 'ckpt'}")
            continue
        keys = [k for k in ("type", "path", "pos", "flags", "pipe_id", "proto", "src_port",
                            "dst_port", "name", "state", "ino", "peer_ino", "queued_len",
                            "queued_xxh3") if k in a[fd] or k in b[fd]]
        cmp_fields(r, f"{where} fd {fd}", a[fd], b[fd], keys)


def compare(ca, cb):
    r = Report()
    pa = {p["pid"]: p for p in ca["processes"]}
    pb = {p["pid"]: p for p in cb["processes"]}
    pids = set(pa) | set(pb)
    shm_pairs = {}
    for pid in sorted(pids):
        where = f"pid {pid}"
        if pid not in pa or pid not in pb:
            r.diff(f"{where}: only in {'criu' if pid in pa else 'ckpt'}")
            continue
        a, b = pa[pid], pb[pid]
        for k in ("ppid", "pgid", "sid", "threads", "zombie"):
            if a.get(k) == b.get(k):
                continue
            if k == "ppid" and a.get(k) == 0 and a["pid"] and b.get(k) not in pids:
                r.excuse("E1", f"{where}: root ppid criu=0 ckpt={b.get(k)}")
            else:
                r.diff(f"{where}: {k} criu={a.get(k)!r} ckpt={b.get(k)!r}")
        if a.get("zombie") or b.get("zombie"):
            continue
        # The memory layout (code, data, heap break, stack, argv/env areas).
        cmp_fields(r, f"{where}: mm", a.get("mm", {}), b.get("mm", {}),
                   sorted(set(a.get("mm", {})) | set(b.get("mm", {}))))
        cmp_threads(r, where, a.get("thread_state", []), b.get("thread_state", []))
        cmp_vmas(r, where, a.get("vmas", []), b.get("vmas", []))
        if "pages" in a and "pages" in b:
            cmp_pages(r, where, a["vmas"], a["pages"], b["pages"])
        elif "vma_pages" in a or "vma_pages" in b:
            fold = [v for v in a["vmas"]] + [v for v in b["vmas"] if v["start"] not in
                                              {x["start"] for x in a["vmas"]}]

            def per_vma(x):
                if "vma_pages" in x:
                    return x["vma_pages"]
                return vma_digest(fold, {int(k, 16): h for k, h in x.get("pages", {}).items()})
            cmp_vma_pages(r, where, a["vmas"], per_vma(a), per_vma(b))
        else:
            r.diff(f"{where}: no page hashes (criu {'pages' in a}, ckpt {'pages' in b})")
        cmp_fds(r, where, a.get("fds", []), b.get("fds", []))
        # shared memory objects: paired through the VMAs that map them
        vb = {v["start"]: v for v in b.get("vmas", [])}
        for v in a.get("vmas", []):
            if "shmem_id" in v:
                other = vb.get(v["start"], {}).get("shmem_id")
                if other is None:
                    r.diff(f"{where}: shared VMA {v['start']} has no shared-memory object in ckpt")
                else:
                    shm_pairs.setdefault(v["shmem_id"], set()).add(other)
    sa = {s["id"]: s for s in ca.get("shared_memory", [])}
    sb = {s["id"]: s for s in cb.get("shared_memory", [])}
    for ida, idbs in sorted(shm_pairs.items()):
        if len(idbs) != 1:
            r.diff(f"shared memory: one CRIU object ({ida}) is {len(idbs)} ckpt objects {sorted(idbs)}")
            continue
        idb = next(iter(idbs))
        if ida not in sa or idb not in sb:
            r.diff(f"shared memory {ida}/{idb}: object missing (criu {ida in sa}, ckpt {idb in sb})")
            continue
        if "pages" in sb[idb]:
            cmp_pages(r, f"shared memory {idb}", None, sa[ida].get("pages", {}), sb[idb]["pages"])
        else:
            r.diff(f"shared memory {idb}: per-run hashes not comparable for shared memory yet")
    pipa = {p["pipe_id"]: p for p in ca.get("pipes", [])}
    pipb = {p["pipe_id"]: p for p in cb.get("pipes", [])}
    for pid_ in sorted(set(pipa) | set(pipb)):
        x, y = pipa.get(pid_, {}), pipb.get(pid_, {})
        if (x.get("size"), x.get("xxh3")) != (y.get("size"), y.get("xxh3")):
            r.diff(f"pipe {pid_}: buffered bytes criu {x.get('size')} ({x.get('xxh3')}) "
                   f"ckpt {y.get('size')} ({y.get('xxh3')})")
    paired_b = set().union(*shm_pairs.values()) if shm_pairs else set()
    for idb in sorted(set(sb) - paired_b):
        r.diff(f"shared memory {idb}: in ckpt, mapped by no VMA CRIU knows")
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("criu_json")
    ap.add_argument("ckpt_json")
    a = ap.parse_args()
    try:
        ca = json.load(open(a.criu_json))
        cb = json.load(open(a.ckpt_json))
    except (OSError, ValueError) as e:
        print(f"compare: {e}", file=sys.stderr)
        sys.exit(2)
    r = compare(ca, cb)
    print(f"compare: {r.diffs} differences, {r.exc} exceptions")
    sys.exit(1 if r.diffs else 0)


if __name__ == "__main__":
    main()
