#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""test-compare.py: self-test of ckpt-normalize.py and compare.py on a CRIU dump.

    tools/e2e/test-compare.py CRIU-IMGDIR

Builds what `ckpt-user show --json --pages` prints (ckpt_image.proto in
the JSON mapping with proto field names, page_stats runs with one XXH3-64
per page) for the same tree from the CRIU images, and checks that
compare.py finds no difference against criu-normalize's output, per page
and per VMA (--vma-hash), then that it does find planted ones (a changed
page, a missing VMA, a wrong register, a wrong pgid, a wrong brk).  Prints
"test-compare: N passed, N failed".
"""
import base64
import copy
import importlib.util
import io
import json
import os
import struct
import sys

import xxhash  # python3-xxhash (Debian)
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))


def mod(name, file):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, file))
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


cn = mod("criu_normalize", "criu-normalize.py")
kn = mod("ckpt_normalize", "ckpt-normalize.py")
cmp = mod("compare", "compare.py")
PAGE = 4096


def fake_show(imgdir):
    """ckpt-user show --json --pages, as it would look, from CRIU images."""
    ci = cn.CriuImages(imgdir)
    norm = cn.normalize(imgdir)
    tasks, procs, pstats = [], [], []
    for p in norm["processes"]:
        for tid in p["threads"]:
            tasks.append({"pid": tid, "tgid": p["pid"], "ppid": p["ppid"], "pgid": p["pgid"],
                          "sid": p["sid"]})
        if p["zombie"]:
            procs.append({"pid": p["pid"], "zombie": True})
            continue
        threads = []
        for t in p["thread_state"]:
            vals = dict.fromkeys(kn.GPREGS, 0)
            vals.update({k: int(v, 16) for k, v in t["regs"].items() if k in vals})
            gp = struct.pack("<27Q", *[vals[k] for k in kn.GPREGS])
            x = int(t["regs"].get("xmm0", "0x0"), 16)
            xs = bytes(160) + struct.pack("<QQ", x & (2**64 - 1), x >> 64) + bytes(512 - 176)
            threads.append({"tid": t["tid"], "gpregs": base64.b64encode(gp).decode(),
                            "xstate": base64.b64encode(xs).decode(), "sigmask": str(int(t["sigmask"], 16))})
        vmas = []
        for v in p["vmas"]:
            e = {"start": str(int(v["start"], 16)), "end": str(int(v["end"], 16)), "prot": v["prot"],
                 "path": v["path"], "kind": v["kind"]}
            if v["shared"]:
                e["shared"] = True
            if "shmem_id" in v:
                e["shmem_id"] = str(v["shmem_id"])
            vmas.append(e)
        runs = []
        for vaddr, n, _f, pfile, off in ci.runs(f"pagemap-{p['pid']}.img"):
            if off is None:
                continue
            data = [ci.read(pfile, off + i * PAGE) for i in range(n)]
            runs.append({"vaddr": str(vaddr), "nr_pages": n, "section": 3, "offset": off,
                         "page_xxh3": [xxhash.xxh3_64_hexdigest(b) for b in data]})
        pstats.append({"pid": p["pid"], "runs": runs})
        fds = []
        for f in p["fds"]:
            e = {"fd": f["fd"], "flags": f.get("flags", 0)}
            if f["type"] in ("file", "dir"):
                e["pos"] = str(f.get("pos", 0))
                e["file"] = {"path": f.get("path", ""), "directory": f["type"] == "dir"}
            elif f["type"] in ("pipe", "fifo"):
                e["pipe"] = {"inode": str(f.get("pipe_id") or 0), "fifo": f["type"] == "fifo"}
            elif f["type"] == "unix":
                e["unix_socket"] = {"name": f.get("name", ""), "state": f.get("state") or 0,
                                    "inode": f.get("ino"), "peer_inode": f.get("peer_ino")}
            elif f["type"] == "inet":
                e["inet_socket"] = {"protocol": {"tcp": 6, "udp": 17}.get(f.get("proto"), 0),
                                    "src_port": f.get("src_port") or 0,
                                    "dst_port": f.get("dst_port") or 0,
                                    "state": f.get("state") or 0, "inode": f.get("ino")}
            fds.append(e)
        procs.append({"pid": p["pid"], "threads": threads,
                      "memory": dict({k: str(int(v, 16)) for k, v in p["mm"].items()},
                                     vmas=vmas), "fds": fds})
    shm, sstats = [], []
    for s in norm["shared_memory"]:
        shm.append({"id": str(s["id"])})
        sstats.append({"id": s["id"], "runs": [
            {"vaddr": int(k, 16), "nr_pages": 1, "page_xxh3": [h]} for k, h in s["pages"].items()]})
    pipes = [{"inode": p["pipe_id"], "size": p["size"], "xxh3": p["xxh3"]} for p in norm["pipes"]]
    return {"info": {"page_size": PAGE}, "tree": {"tasks": tasks}, "processes": procs,
            "shared_memory": shm, "page_stats": pstats, "shared_memory_page_stats": sstats,
            "pipes": pipes}, norm


def run_compare(a, b):
    out = io.StringIO()
    with redirect_stdout(out):
        r = cmp.compare(a, b)
    return r.diffs, out.getvalue()


def main():
    d = sys.argv[1]
    ok = bad = 0

    def check(cond, msg, detail=""):
        nonlocal ok, bad
        if cond:
            ok += 1
            print("ok - " + msg)
        else:
            bad += 1
            print("FAIL - " + msg)
            print(detail[-2000:])

    show, norm = fake_show(d)
    for vma in (False, True):
        crit = cn.normalize(d, vma) if vma else norm
        ck = kn.normalize(json.loads(json.dumps(show)))
        n, out = run_compare(crit, ck)
        shape = "per-VMA" if vma else "per-page"
        check(n == 0, f"{shape}: identical trees compare equal", out)
        # planted differences
        p = next(x for x in ck["processes"] if not x["zombie"])
        bad_ck = copy.deepcopy(ck)
        bp = next(x for x in bad_ck["processes"] if x["pid"] == p["pid"])
        bp["pgid"] += 1
        bp["vmas"].pop(0)
        bp["thread_state"][0]["regs"]["r12"] = "0x1234"
        bp["mm"]["brk"] = hex(int(bp["mm"]["brk"], 16) + 0x1000)
        # a page of a big anonymous VMA (not the one removed)
        big = max(bp["vmas"], key=lambda v: sum(1 for k in bp["pages"]
                                                if int(v["start"], 16) <= int(k, 16) < int(v["end"], 16)))
        key = next(k for k in sorted(bp["pages"])
                   if int(big["start"], 16) <= int(k, 16) < int(big["end"], 16))
        bp["pages"][key] = "0" * 16
        n, out = run_compare(crit, bad_ck)
        # removed VMA: one VMA diff (+ its pages, per page or per VMA, if it had any)
        check(n >= 5, f"{shape}: the planted differences found ({n} >= 5)", out)
        for what in ("pgid", "r12", "mm: brk", key if not vma else big["start"]):
            check(what in out, f"{shape}: planted difference {what} reported", out)
    print(f"test-compare: {ok} passed, {bad} failed")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
