# SPDX-License-Identifier: GPL-2.0
"""Helpers shared by the e2e normalizers and compare.py."""
import bisect
import hashlib


def vma_digest(vmas, pages):
    """Per-VMA form of per-page hashes (--vma-hash): [{start, pages_stored,
    hash}], hash = SHA-256 over the lines "VADDR-HEX:XXH3\n" of the VMA's
    stored pages in address order (compare.py computes the same)."""
    addrs = sorted(pages)
    out = []
    for v in vmas:
        lo, hi = int(v["start"], 16), int(v["end"], 16)
        h = hashlib.sha256()
        i, j = bisect.bisect_left(addrs, lo), bisect.bisect_left(addrs, hi)
        for a in addrs[i:j]:
            h.update(b"%x:%s\n" % (a, pages[a].encode()))
        out.append({"start": v["start"], "pages_stored": j - i,
                    "hash": h.hexdigest() if j > i else None})
    return out
