#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""criu-normalize.py: a CRIU image directory -> the e2e normalized JSON.

    tools/e2e/criu-normalize.py [--vma-hash] [-o OUT] IMGDIR

Reads the images with pycriu (Debian's criu package; this script runs with
/usr/bin/python3, where pycriu is installed) and prints the normalized form
described in tools/e2e/README ("Normalized JSON"), the one
ckpt-normalize.py produces from `ckpt-user show --json --pages`, so that
compare.py can diff the two.

Page data: pagemap-PID.img lists runs (vaddr, nr_pages, flags); the bytes
of every run flagged PE_PRESENT follow each other in pages-<pages_id>.img.
Shared anonymous memory is stored once per object in
pagemap-shmem-<shmid>.img (vaddr = offset in the object).
"""
import argparse
import glob
import hashlib
import json
import base64
import bisect
import os
import quopri
import re
import struct
import sys

try:
    import pycriu.images as cimg
except ImportError:  # pyenv or venv python without Debian's dist-packages
    sys.path.append("/usr/lib/python3/dist-packages")
    import pycriu.images as cimg
import xxhash  # python3-xxhash (Debian)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import vma_digest  # noqa: E402

PAGE = 4096

# criu/include/image.h: VmaEntry.status bits
VMA_AREA_REGULAR = 1 << 0
VMA_AREA_STACK = 1 << 1
VMA_AREA_VSYSCALL = 1 << 2
VMA_AREA_VDSO = 1 << 3
VMA_AREA_HEAP = 1 << 5
VMA_FILE_PRIVATE = 1 << 6
VMA_FILE_SHARED = 1 << 7
VMA_ANON_SHARED = 1 << 8
VMA_ANON_PRIVATE = 1 << 9
VMA_AREA_SYSVIPC = 1 << 10
VMA_AREA_SOCKET = 1 << 11
VMA_AREA_VVAR = 1 << 12
VMA_AREA_AIORING = 1 << 13
VMA_AREA_MEMFD = 1 << 14
MAP_SHARED = 0x1
MAP_GROWSDOWN = 0x100

# criu/include/pagemap.h (images/pagemap.proto flags)
PE_PARENT = 1 << 0
PE_LAZY = 1 << 1
PE_PRESENT = 1 << 2

TASK_DEAD = 2
TCP_ESTABLISHED = 1
SOCK_STREAM = 1


def unix_name(n):
    """pycriu gives a unix socket's name quoted-printable (its "unix_name"
    conversion); CRIU keeps the address's trailing NUL of a path name."""
    if isinstance(n, str):
        n = quopri.decodestring(n.encode())
    if n[:1] != b"\0":
        n = n.rstrip(b"\0")
    else:
        n = b"@" + n[1:]
    return n.decode(errors="replace")


def queued(data):
    """What the normalized JSON records of a socket's unread bytes."""
    return {"queued_len": len(data), "queued_xxh3": xxhash.xxh3_64_hexdigest(data)}  # pstree/core task_state of a zombie


# The memory layout fields both images record (CRIU's MmEntry mm_<name>,
# ckpt's Memory <name>).
MM_FIELDS = ("start_code", "end_code", "start_data", "end_data", "start_brk", "brk",
             "start_stack", "arg_start", "arg_end", "env_start", "env_end")


def load(path):
    with open(path, "rb") as f:
        return cimg.load(f)


def entries(path):
    return load(path)["entries"]


class CriuImages:
    """Access to one CRIU image directory."""

    def __init__(self, d):
        self.dir = d
        if not os.path.exists(os.path.join(d, "pstree.img")):
            raise SystemExit(f"criu-normalize: {d}: no pstree.img (not a CRIU dump?)")
        self.pstree = entries(self.path("pstree.img"))
        self.files = {}
        if os.path.exists(self.path("files.img")):
            for e in entries(self.path("files.img")):
                self.files[e["id"]] = e
        self.memfd_inodes = {}
        if os.path.exists(self.path("memfd.img")):
            for e in entries(self.path("memfd.img")):
                self.memfd_inodes[e["inode_id"]] = e
        self._pages_fd = {}

    def sk_queue(self, sk_id):
        """The unread bytes CRIU stored for the unix socket @sk_id."""
        data = b""
        if os.path.exists(self.path("sk-queues.img")):
            for e in entries(self.path("sk-queues.img")):
                if e["id_for"] == sk_id:
                    data += base64.b64decode(e.get("extra", ""))
        return queued(data)

    def tcp_queue(self, ino):
        """The receive queue CRIU stored for the TCP socket inode @ino."""
        p = self.path(f"tcp-stream-{ino:x}.img")
        if not os.path.exists(p):
            return {"queued_len": None}
        e = entries(p)[0]
        return queued(base64.b64decode(e.get("extra", {}).get("inq", "")))

    def pipe_data(self):
        """[{pipe_id, size, xxh3}] of pipes-data.img and fifo-data.img."""
        out = []
        for img in ("pipes-data.img", "fifo-data.img"):
            if not os.path.exists(self.path(img)):
                continue
            for e in entries(self.path(img)):
                b = base64.b64decode(e.get("extra", ""))
                if not b:
                    continue  # an empty pipe (ckpt stores PIPE_DATA only with bytes)
                out.append({"pipe_id": e["pipe_id"], "size": len(b),
                            "xxh3": xxhash.xxh3_64_hexdigest(b)})
        return sorted(out, key=lambda x: x["pipe_id"])

    def path(self, name):
        return os.path.join(self.dir, name)

    def runs(self, pagemap):
        """[(vaddr, nr_pages, flags, pages_file, byte_offset or None)]."""
        es = entries(self.path(pagemap))
        pages_id = es[0]["pages_id"]
        pfile = self.path(f"pages-{pages_id}.img")
        off = 0
        out = []
        for e in es[1:]:
            flags = e.get("flags", PE_PRESENT)
            n = e["nr_pages"]
            if flags & PE_PRESENT and not flags & PE_PARENT:
                out.append((e["vaddr"], n, flags, pfile, off))
                off += n * PAGE
            else:
                out.append((e["vaddr"], n, flags, pfile, None))
        return out

    def read(self, pfile, off, n=PAGE):
        f = self._pages_fd.get(pfile)
        if f is None:
            f = self._pages_fd[pfile] = open(pfile, "rb")
        f.seek(off)
        b = f.read(n)
        if len(b) != n:
            raise SystemExit(f"criu-normalize: {pfile}: short read at {off}")
        return b

    def page_map(self, pagemap):
        """{vaddr: (pages_file, offset)} for every stored page."""
        m = {}
        for vaddr, n, _flags, pfile, off in self.runs(pagemap):
            if off is None:
                continue
            for i in range(n):
                m[vaddr + i * PAGE] = (pfile, off + i * PAGE)
        return m

    def page_bytes(self, pid, vaddr):
        """The stored bytes of one page of process @pid, or None."""
        if not hasattr(self, "_pm"):
            self._pm = {}
        if pid not in self._pm:
            self._pm[pid] = self.page_map(f"pagemap-{pid}.img")
        loc = self._pm[pid].get(vaddr)
        return None if loc is None else self.read(*loc)


def vma_path(ci, v, shmem_ids):
    st = v["status"]
    if st & VMA_AREA_VDSO:
        return "[vdso]", "VDSO"
    if st & VMA_AREA_VVAR:
        return "[vvar]", "VVAR"
    if st & VMA_AREA_VSYSCALL:
        return "[vsyscall]", "VSYSCALL"
    if st & VMA_AREA_HEAP:
        return "[heap]", "HEAP"
    if st & VMA_AREA_MEMFD:
        # memfd, and (CRIU 3.17 on 6.12) shared anonymous memory too: CRIU
        # takes MAP_SHARED|MAP_ANONYMOUS for a memfd named "/dev/zero".
        # files.img MEMFD entry -> memfd.img inode -> shmid, whose pages
        # are in pagemap-shmem-<shmid>.img.
        f = ci.files.get(v["shmid"], {}).get("memfd", {})
        ino = ci.memfd_inodes.get(f.get("inode_id"), {})
        v["shmid"] = ino.get("shmid", -1)
        shmem_ids.add(v["shmid"])
        return "", "ANON_SHARED"
    if st & (VMA_FILE_PRIVATE | VMA_FILE_SHARED):
        f = ci.files.get(v["shmid"])
        name = f.get("reg", {}).get("name", "?") if f else "?"
        return name, "FILE_SHARED" if st & VMA_FILE_SHARED else "FILE_PRIVATE"
    if st & (VMA_ANON_SHARED | VMA_AREA_MEMFD | VMA_AREA_SYSVIPC):
        shmem_ids.add(v["shmid"])
        return "", "ANON_SHARED"
    if st & VMA_AREA_STACK or v["flags"] & MAP_GROWSDOWN:
        return "[stack]", "STACK"
    return "", "ANON_PRIVATE"


def hexs(x):
    return "0x%x" % x


def xxh(b):
    return xxhash.xxh3_64_hexdigest(b)


def hash_stored(ci, pagemap):
    """{vaddr: XXH3-64 hex} of every stored page, read a run at a time."""
    out = {}
    for vaddr, n, _flags, pfile, off in ci.runs(pagemap):
        if off is None:
            continue
        for i in range(0, n, 256):
            k = min(256, n - i)
            b = ci.read(pfile, off + i * PAGE, k * PAGE)
            for j in range(k):
                out[vaddr + (i + j) * PAGE] = xxh(b[j * PAGE:(j + 1) * PAGE])
    return out


def page_hashes(ci, pagemap, vma_hash, vmas=None):
    """Per-page {"0xvaddr": xxh3} or, with vma_hash, per VMA."""
    stored = hash_stored(ci, pagemap)
    if not vma_hash:
        return {hexs(a): stored[a] for a in sorted(stored)}, None
    return None, vma_digest(vmas, stored)


def gp_regs(core):
    ti = core.get("thread_info", {})
    g = ti.get("gpregs", {})
    regs = {k: hexs(g[k]) for k in ("bx", "r12", "r13", "r14", "r15", "bp", "ip", "sp",
                                    "orig_ax", "ax") if k in g}
    words = ti.get("fpregs", {}).get("xmm_space", [])
    if len(words) >= 4:
        lo = words[0] | words[1] << 32
        hi = words[2] | words[3] << 32
        regs["xmm0"] = hexs(hi << 64 | lo)
    return regs


FD_TYPES = {"REG": "file", "PIPE": "pipe", "FIFO": "fifo", "UNIXSK": "unix", "INETSK": "inet",
            "EVENTFD": "eventfd", "EVENTPOLL": "epoll", "SIGNALFD": "signalfd",
            "TIMERFD": "timerfd", "INOTIFY": "inotify", "FANOTIFY": "fanotify",
            "TTY": "tty", "MEMFD": "memfd", "PACKETSK": "packet", "NETLINKSK": "netlink"}


# What the fd comparison looks at: O_ACCMODE | O_APPEND | O_DIRECTORY.
FD_FLAG_BITS = 0o3 | 0o2000 | 0o200000


def fd_list(ci, files_id):
    p = ci.path(f"fdinfo-{files_id}.img")
    if not os.path.exists(p):
        return []
    out = []
    for e in entries(p):
        f = ci.files.get(e["id"], {})
        t = FD_TYPES.get(e["type"], e["type"].lower())
        d = {"fd": e["fd"], "type": t}
        sub = next((f[k] for k in ("reg", "pipe", "fifo", "usk", "isk", "efd", "epfd", "sgfd",
                                   "tfd", "ify", "tty", "memfd") if k in f), {})
        if t == "file":
            d["path"] = sub.get("name", "")
            if (sub.get("mode", 0) & 0o170000) == 0o040000:
                d["type"] = "dir"
            d["pos"] = sub.get("pos", 0)
            d["flags"] = sub.get("flags", 0) & FD_FLAG_BITS
        elif t == "pipe":
            d["pipe_id"] = sub.get("pipe_id")
            d["flags"] = sub.get("flags", 0) & FD_FLAG_BITS
        elif t == "fifo":
            # a FIFO's open flags are in its path's REG entry (regf_id)
            d["pipe_id"] = sub.get("pipe_id")
            reg = ci.files.get(sub.get("regf_id"), {}).get("reg", {})
            d["flags"] = reg.get("flags", 0) & FD_FLAG_BITS
        elif t == "inet":
            d["proto"] = {6: "tcp", 17: "udp"}.get(sub.get("proto"), sub.get("proto"))
            d["src_port"] = sub.get("src_port")
            d["dst_port"] = sub.get("dst_port")
            d["state"] = sub.get("state")
            d["ino"] = sub.get("ino")
            if d["proto"] == "tcp" and d["state"] == TCP_ESTABLISHED:
                d.update(ci.tcp_queue(sub.get("ino")))
        elif t == "unix":
            d["name"] = unix_name(sub.get("name", b""))
            d["state"] = sub.get("state")
            d["ino"] = sub.get("ino")
            d["peer_ino"] = sub.get("peer", 0)  # UnixSkEntry.peer: the peer's inode
            if sub.get("type") == SOCK_STREAM and d["state"] == TCP_ESTABLISHED:
                d.update(ci.sk_queue(e["id"]))
        out.append(d)
    return sorted(out, key=lambda x: x["fd"])


def normalize(d, vma_hash=False):
    ci = CriuImages(d)
    procs = []
    shmem_ids = set()
    for p in ci.pstree:
        pid = p["pid"]
        core = entries(ci.path(f"core-{pid}.img"))[0]
        tc = core.get("tc", {})
        zombie = tc.get("task_state") == TASK_DEAD
        proc = {"pid": pid, "ppid": p["ppid"], "pgid": p["pgid"], "sid": p["sid"],
                "threads": sorted(p.get("threads", [pid])), "zombie": zombie,
                "comm": tc.get("comm", "")}
        if zombie:
            # CRIU records no thread list for a zombie (the field holds
            # whatever; seen: garbage): a zombie is its leader alone.
            proc["threads"] = [pid]
            proc["exit_code"] = tc.get("exit_code")
            procs.append(proc)
            continue
        tdet = []
        for tid in proc["threads"]:
            tcore = entries(ci.path(f"core-{tid}.img"))[0]
            mask = tcore.get("thread_core", {}).get("blk_sigset")
            if mask is None:
                mask = tcore.get("tc", {}).get("blk_sigset", 0)
            tdet.append({"tid": tid, "sigmask": hexs(mask), "regs": gp_regs(tcore)})
        proc["thread_state"] = tdet
        ids = entries(ci.path(f"ids-{pid}.img"))[0]
        mm = entries(ci.path(f"mm-{ids.get('vm_id', pid)}.img"))[0] \
            if os.path.exists(ci.path(f"mm-{ids.get('vm_id', pid)}.img")) \
            else entries(ci.path(f"mm-{pid}.img"))[0]
        proc["mm"] = {k: hexs(mm.get("mm_" + k, 0)) for k in MM_FIELDS}
        vmas = []
        for v in mm.get("vmas", []):
            path, kind = vma_path(ci, v, shmem_ids)
            e = {"start": hexs(v["start"]), "end": hexs(v["end"]), "prot": v["prot"],
                 "shared": bool(v["flags"] & MAP_SHARED), "path": path, "kind": kind,
                 "start_i": v["start"], "end_i": v["end"]}
            if kind == "ANON_SHARED":
                e["shmem_id"] = v["shmid"]
            vmas.append(e)
        pages, per_vma = page_hashes(ci, f"pagemap-{pid}.img", vma_hash, vmas)
        for e in vmas:
            del e["start_i"], e["end_i"]
        proc["vmas"] = vmas
        if pages is not None:
            proc["pages"] = pages
        else:
            proc["vma_pages"] = per_vma
        proc["fds"] = fd_list(ci, ids.get("files_id", pid))
        procs.append(proc)

    shared = []
    for sid in sorted(shmem_ids):
        pm = f"pagemap-shmem-{sid}.img"
        if not os.path.exists(ci.path(pm)):
            shared.append({"id": sid, "pages": {}, "note": "no pagemap-shmem image"})
            continue
        stored = hash_stored(ci, pm)
        shared.append({"id": sid, "pages": {hexs(a): stored[a] for a in sorted(stored)}})
    return {"tool": "criu", "source": os.path.abspath(d), "page_size": PAGE,
            "processes": procs, "shared_memory": shared, "pipes": ci.pipe_data()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("imgdir")
    ap.add_argument("--vma-hash", action="store_true",
                    help="one hash per VMA instead of one per page (big dumps)")
    ap.add_argument("-o", "--output")
    a = ap.parse_args()
    out = json.dumps(normalize(a.imgdir, a.vma_hash), indent=1, sort_keys=True)
    if a.output:
        with open(a.output, "w") as f:
            f.write(out + "\n")
    else:
        print(out)


if __name__ == "__main__":
    main()
