#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""ckpt-normalize.py: `ckpt-user show --json --pages IMAGE` -> the e2e normalized JSON.

    ckpt-user show --json --pages IMAGE | tools/e2e/ckpt-normalize.py [-o OUT] [-]
    tools/e2e/ckpt-normalize.py [-o OUT] SHOW.json

The input is show's JSON: the messages of user/src/image/ckpt_image.proto
in the protobuf JSON mapping with the proto field names (snake_case),
64-bit integers as strings, bytes as base64, enums by name, and fields at
their default value left out (so every field is read with a default); plus
show's own blocks: "pipes" (PIPE_DATA: inode, size, xxh3), "page_stats"
and "shared_memory_page_stats", whose runs carry, with --pages,
"page_xxh3": one XXH3-64 hex hash per page of the run, in order.  The
output is the form criu-normalize.py produces (tools/e2e/README,
"Normalized JSON"); --vma-hash gives the per-VMA form instead of per-page
hashes (as criu-normalize.py --vma-hash).
"""
import argparse
import base64
import json
import os
import struct
import sys

import xxhash  # python3-xxhash (Debian)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import vma_digest  # noqa: E402

PAGE = 4096
GPREGS = ("r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx",
          "si", "di", "orig_ax", "ip", "cs", "flags", "sp", "ss", "fs_base", "gs_base", "ds", "es",
          "fs", "gs")
REGS_KEPT = ("bx", "r12", "r13", "r14", "r15", "bp", "ip", "sp", "orig_ax", "ax")
XMM0_OFFSET = 160  # legacy XSAVE area: 32 bytes header, 128 bytes x87 registers

FD_FLAG_BITS = 0o3 | 0o2000 | 0o200000
TCP_ESTABLISHED = 1
SOCK_STREAM = 1


# The memory layout fields both images record (see criu-normalize.py).
MM_FIELDS = ("start_code", "end_code", "start_data", "end_data", "start_brk", "brk",
             "start_stack", "arg_start", "arg_end", "env_start", "env_end")


def u64(x, default=0):
    """A uint64 of the JSON mapping (string or number) -> int."""
    if x is None:
        return default
    return int(x)


def hexs(x):
    return "0x%x" % x


def regs_of(thread):
    out = {}
    gp = thread.get("gpregs")
    if gp:
        raw = base64.b64decode(gp)
        if len(raw) >= 8 * len(GPREGS):
            vals = struct.unpack_from("<%dQ" % len(GPREGS), raw)
            full = dict(zip(GPREGS, vals))
            out = {k: hexs(full[k]) for k in REGS_KEPT}
    xs = thread.get("xstate")
    if xs:
        raw = base64.b64decode(xs)
        if len(raw) >= XMM0_OFFSET + 16:
            lo, hi = struct.unpack_from("<QQ", raw, XMM0_OFFSET)
            out["xmm0"] = hexs(hi << 64 | lo)
    return out


def runs_hashes(runs, where):
    """{"0xaddr": xxh3} from show's runs (page_stats / shared_memory_page_stats)."""
    pages = {}
    for r in runs:
        vaddr, n = u64(r.get("vaddr")), u64(r.get("nr_pages"))
        lst = r.get("page_xxh3")
        if lst is None:
            raise SystemExit(f"ckpt-normalize: {where}: run at {hexs(vaddr)} has no page_xxh3 "
                             "(was the JSON made with `show --json --pages`?)")
        if len(lst) != n:
            raise SystemExit(f"ckpt-normalize: {where}: run at {hexs(vaddr)} has {n} pages "
                             f"but {len(lst)} page hashes")
        for i, h in enumerate(lst):
            pages[hexs(vaddr + i * PAGE)] = h.lower()
    return pages


def queued(b64):
    data = base64.b64decode(b64 or "")
    return {"queued_len": len(data), "queued_xxh3": xxhash.xxh3_64_hexdigest(data)}


def fd_entry(f):
    d = {"fd": u64(f.get("fd")), "flags": u64(f.get("flags")) & FD_FLAG_BITS}
    if "file" in f:
        rf = f["file"]
        d["type"] = "dir" if rf.get("directory") else "file"
        d["path"] = rf.get("path", "")
        d["pos"] = u64(f.get("pos"))
    elif "pipe" in f:
        p = f["pipe"]
        d["type"] = "fifo" if p.get("fifo") else "pipe"
        d["pipe_id"] = u64(p.get("inode"))
    elif "unix_socket" in f:
        u = f["unix_socket"]
        d.update(type="unix", name=u.get("name", ""), state=u64(u.get("state")),
                 ino=u64(u.get("inode")), peer_ino=u64(u.get("peer_inode")))
        if u64(u.get("type")) == SOCK_STREAM and d["state"] == TCP_ESTABLISHED:
            d.update(queued(u.get("queued")))
        del d["flags"]  # CRIU keeps no open flags for sockets
    elif "inet_socket" in f:
        s = f["inet_socket"]
        d.update(type="inet", proto={6: "tcp", 17: "udp"}.get(u64(s.get("protocol")), s.get("protocol")),
                 src_port=u64(s.get("src_port")), dst_port=u64(s.get("dst_port")),
                 state=u64(s.get("state")), ino=u64(s.get("inode")))
        if d["proto"] == "tcp" and d["state"] == TCP_ESTABLISHED:
            d.update(queued(s.get("queued")))
        del d["flags"]
    else:
        kinds = [k for k in ("eventfd", "timerfd", "signalfd", "epoll", "tty") if k in f]
        d["type"] = kinds[0] if kinds else "unknown"
    return d


def normalize(show, vma_hash=False):
    tasks = show.get("tree", {}).get("tasks", [])
    byproc = {u64(p.get("pid")): p for p in show.get("processes", [])}
    runs_of = {u64(p.get("pid")): p.get("runs", []) for p in show.get("page_stats", [])}
    leaders = [t for t in tasks if u64(t.get("pid")) == u64(t.get("tgid"))]
    procs = []
    for t in leaders:
        pid = u64(t.get("pid"))
        p = byproc.get(pid) or {}
        proc = {"pid": pid, "ppid": u64(t.get("ppid")), "pgid": u64(t.get("pgid")),
                "sid": u64(t.get("sid")),
                "threads": sorted(u64(x.get("pid")) for x in tasks if u64(x.get("tgid")) == pid),
                "zombie": bool(p.get("zombie", False)), "comm": p.get("comm", "")}
        if not p:
            proc["note"] = "no PROCESS section"
        if proc["zombie"] or not p:
            procs.append(proc)
            continue
        proc["thread_state"] = [{"tid": u64(th.get("tid")), "sigmask": hexs(u64(th.get("sigmask"))),
                                 "regs": regs_of(th)} for th in p.get("threads", [])]
        mem = p.get("memory", {})
        proc["mm"] = {k: hexs(u64(mem.get(k))) for k in MM_FIELDS}
        vmas = []
        for v in mem.get("vmas", []):
            e = {"start": hexs(u64(v.get("start"))), "end": hexs(u64(v.get("end"))),
                 "prot": u64(v.get("prot")), "shared": bool(v.get("shared", False)),
                 "path": v.get("path", ""), "kind": v.get("kind", "KIND_UNSPECIFIED")}
            if "shmem_id" in v:
                e["shmem_id"] = u64(v["shmem_id"])
            vmas.append(e)
        proc["vmas"] = vmas
        if pid not in runs_of:
            raise SystemExit(f"ckpt-normalize: pid {pid}: no page_stats entry")
        pages = runs_hashes(runs_of[pid], f"pid {pid}")
        if vma_hash:
            proc["vma_pages"] = vma_digest(vmas, {int(k, 16): h for k, h in pages.items()})
        else:
            proc["pages"] = pages
        proc["fds"] = sorted((fd_entry(f) for f in p.get("fds", [])), key=lambda x: x["fd"])
        procs.append(proc)
    shared = []
    sruns = {u64(s.get("id")): s.get("runs", []) for s in show.get("shared_memory_page_stats", [])}
    for s in show.get("shared_memory", []):
        sid = u64(s.get("id"))
        e = {"id": sid, "size": u64(s.get("size"))}
        e["pages"] = runs_hashes(sruns.get(sid, []), f"shared memory {sid}")
        shared.append(e)
    pipes = sorted(({"pipe_id": u64(p.get("inode")), "size": u64(p.get("size")),
                     "xxh3": p.get("xxh3")} for p in show.get("pipes", [])),
                   key=lambda x: x["pipe_id"])
    info = show.get("info", {})
    return {"tool": "ckpt", "source": info.get("command_line", ""),
            "page_size": u64(info.get("page_size"), PAGE), "processes": procs,
            "shared_memory": shared, "pipes": pipes}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input", nargs="?", default="-")
    ap.add_argument("-o", "--output")
    ap.add_argument("--vma-hash", action="store_true",
                    help="one hash per VMA instead of one per page (big dumps)")
    a = ap.parse_args()
    src = sys.stdin if a.input == "-" else open(a.input)
    out = json.dumps(normalize(json.load(src), a.vma_hash), indent=1, sort_keys=True)
    if a.output:
        with open(a.output, "w") as f:
            f.write(out + "\n")
    else:
        print(out)


if __name__ == "__main__":
    main()
