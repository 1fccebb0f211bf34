#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The benchmark suite, guest side: ckpt against CRIU, side by side.

    tools/bench/bench.py --out FILE.json [--quick] [--groups bw,tree,freeze,mem,redis]

Runs as root in the test VM (tools/bench.sh sets it up: cgroups, ckpt.ko,
a tmpfs for the images).  Every workload is started once, then dumped by
each tool in alternation (A B C A B C ...), one warm-up round first (not
counted), then --reps rounds.  Every sample goes to FILE.json, rewritten
after each case so that a crash keeps what was measured.  It asserts
nothing on time; a dump that fails is recorded as a failed sample.
tools/bench/report.py turns the JSON into the table and the plots.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(TOP, "build", "tools", "bench")
CKPT_USER = os.environ.get("CKPT_USER", os.path.join(TOP, "build", "user", "src", "ckpt-user"))
CG2 = os.environ.get("CKPT_CGROUP2", "/sys/fs/cgroup")
CG1 = os.environ.get("CKPT_FREEZER", "/run/ckpt-freezer")
WORK = os.environ.get("BENCH_WORK", "/run/bench-work")


def log(msg):
    print(f"# {time.strftime('%H:%M:%S')} {msg}", flush=True)


def now_us():
    return time.monotonic_ns() / 1000.0


# ---- cgroups -------------------------------------------------------------------
class Cgroup:
    def __init__(self, name, v1=False):
        self.v1 = v1
        self.path = os.path.join(CG1 if v1 else CG2, name)
        if os.path.isdir(self.path):
            self.destroy()
        os.mkdir(self.path)

    def write(self, f, s):
        with open(os.path.join(self.path, f), "w") as fh:
            fh.write(s)

    def read(self, f):
        with open(os.path.join(self.path, f)) as fh:
            return fh.read()

    def procs(self):
        return [int(x) for x in self.read("cgroup.procs").split()]

    def freeze(self, timeout=600):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.v1:
                self.write("freezer.state", "FROZEN")   # re-assert (6.1 race)
                if self.read("freezer.state").strip() == "FROZEN":
                    return
            else:
                self.write("cgroup.freeze", "1")
                if "frozen 1" in self.read("cgroup.events"):
                    return
            time.sleep(0.02)
        raise RuntimeError(f"{self.path} not frozen after {timeout} s")

    def thaw(self):
        if self.v1:
            self.write("freezer.state", "THAWED")
        else:
            self.write("cgroup.freeze", "0")

    def frozen(self):
        if self.v1:
            return self.read("freezer.state").strip() != "THAWED"
        return "frozen 1" in self.read("cgroup.events")

    def destroy(self):
        for _ in range(600):
            try:
                if self.v1:
                    self.write("freezer.state", "THAWED")
                    for p in self.procs():
                        try:
                            os.kill(p, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                else:
                    self.write("cgroup.kill", "1")
                os.rmdir(self.path)
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.1)
        log(f"cannot remove {self.path}")


# ---- workloads -----------------------------------------------------------------
class Workload:
    """A bench-wl (or any command) started in a fresh cgroup, as a session leader."""

    def __init__(self, name, argv, v1=False, ready=True, timeout=900):
        self.cg = Cgroup("bench-" + name, v1)
        self.dir = os.path.join(WORK, "wl-" + name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        readyf = os.path.join(self.dir, "ready")
        if ready:
            argv = [argv[0], readyf] + argv[1:]
        procs = os.path.join(self.cg.path, "cgroup.procs")

        def join():
            with open(procs, "w") as fh:
                fh.write(str(os.getpid()))

        self.out = open(os.path.join(self.dir, "out.log"), "w")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=join, close_fds=True)
        self.pid = self.proc.pid
        if ready:
            while not os.path.exists(readyf):
                if self.proc.poll() is not None or time.monotonic() - t0 > timeout:
                    self.stop()
                    raise RuntimeError(f"workload {argv} did not get ready: "
                                       + open(os.path.join(self.dir, "out.log")).read()[-500:])
                time.sleep(0.05)
            log(f"workload {' '.join(argv[2:])} ready in {time.monotonic() - t0:.1f} s (pid {self.pid})")

    def stop(self):
        self.cg.destroy()
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def wl(name, *args, **kw):
    return Workload(name, [os.path.join(BIN, "bench-wl")] + [str(a) for a in args], **kw)


# ---- the dumpers ---------------------------------------------------------------
def _num(d, k):
    v = d.get(k, 0)
    return int(v) if v is not None else 0


def binary_id():
    """ckpt-user's mtime and size: the binary can be rebuilt while the suite runs."""
    st = os.stat(CKPT_USER)
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(st.st_mtime))} {st.st_size}"


def dump_ckpt(w, tag):
    """ckpt-user dump, default end (thaw); a directory image (-D, as CRIU writes one: its
    default page files, one per CPU) to tmpfs. Wall clock of the command."""
    img = os.path.join(WORK, f"ckpt-{tag}.d")
    t0 = now_us()
    r = subprocess.run([CKPT_USER, "dump", "--cgroup", w.cg.path, "--pid", str(w.pid),
                        "-D", img, "--no-progress"], capture_output=True, text=True)
    wall = now_us() - t0
    s = {"tool": "ckpt", "wall_us": wall, "ok": r.returncode == 0, "binary": binary_id()}
    if r.returncode != 0:
        s["error"] = (r.stderr or r.stdout)[-400:]
    else:
        files = os.listdir(img)
        s["image_bytes"] = sum(os.path.getsize(os.path.join(img, f)) for f in files)
        s["page_files"] = sum(1 for f in files if f.startswith("pages"))
        sh = subprocess.run([CKPT_USER, "show", "--json", img], capture_output=True, text=True)
        if sh.returncode == 0:
            st = json.loads(sh.stdout).get("stats") or {}
            s.update(freezing_us=_num(st, "freezing_time_us"), frozen_us=_num(st, "frozen_time_us"),
                     memdump_us=_num(st, "memdump_time_us"), memwrite_us=_num(st, "memwrite_time_us"),
                     scan_us=_num(st, "scan_time_us"), total_us=_num(st, "total_time_us"),
                     pages_scanned=_num(st, "pages_scanned"), pages_written=_num(st, "pages_written"),
                     processes=_num(st, "processes"), threads=_num(st, "tasks"),
                     precopy_us=_num(st, "precopy_time_us"))
        else:
            s["ok"] = False
            s["error"] = "show: " + sh.stderr[-300:]
    shutil.rmtree(img, ignore_errors=True)
    if w.cg.frozen():
        s["ok"] = False
        s["error"] = s.get("error", "") + " tree still frozen after the dump"
        w.cg.thaw()
    return s


def criu_stats(d):
    path = os.path.join(d, "stats-dump")
    try:
        import pycriu
        with open(path, "rb") as fh:
            e = pycriu.images.load(fh)["entries"][0]["dump"]
    except ImportError:
        out = subprocess.run(["crit", "decode", "-i", path], capture_output=True, text=True,
                             check=True).stdout
        e = json.loads(out)["entries"][0]["dump"]
    return dict(freezing_us=int(e.get("freezing_time", 0)), frozen_us=int(e.get("frozen_time", 0)),
                memdump_us=int(e.get("memdump_time", 0)), memwrite_us=int(e.get("memwrite_time", 0)),
                pages_scanned=int(e.get("pages_scanned", 0)), pages_written=int(e.get("pages_written", 0)))


def dump_criu(w, tag, freeze_cgroup):
    """criu dump --leave-running; with or without --freeze-cgroup."""
    d = os.path.join(WORK, f"criu-{tag}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    argv = ["criu", "dump", "-t", str(w.pid), "-D", d, "--leave-running", "-o", "dump.log"]
    if freeze_cgroup:
        argv += ["--freeze-cgroup", w.cg.path]
    t0 = now_us()
    r = subprocess.run(argv, capture_output=True, text=True)
    wall = now_us() - t0
    s = {"tool": "criu-fc" if freeze_cgroup else "criu", "wall_us": wall, "ok": r.returncode == 0}
    if r.returncode != 0:
        try:
            errs = [l for l in open(os.path.join(d, "dump.log")) if "Error" in l]
        except OSError:
            errs = []
        s["error"] = ("".join(errs[-4:]) or r.stderr)[-400:]
    else:
        s["image_bytes"] = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        s.update(criu_stats(d))
    shutil.rmtree(d, ignore_errors=True)
    if w.cg.frozen():
        s["ok"] = False
        s["error"] = s.get("error", "") + " tree still frozen after the dump"
        w.cg.thaw()
    return s


TOOLS = {
    "ckpt": lambda w, tag: dump_ckpt(w, tag),
    "criu": lambda w, tag: dump_criu(w, tag, False),
    "criu-fc": lambda w, tag: dump_criu(w, tag, True),
}


def alternate(w, tools, reps, case, check=None):
    """Warm-up round, then reps rounds of A B C ...; returns the samples."""
    samples = []
    for rnd in range(reps + 1):
        for t in tools:
            s = TOOLS[t](w, f"{case}-{t}")
            s["rep"] = rnd - 1          # -1: the warm-up
            if check:
                s.update(check())
            samples.append(s)
            state = "ok" if s["ok"] else "FAILED: " + s.get("error", "").strip().replace("\n", " | ")
            log(f"  {case} {t} rep {rnd - 1}: {s['wall_us'] / 1e3:.0f} ms, "
                f"frozen {s.get('frozen_us', 0) / 1e3:.0f} ms, freezing {s.get('freezing_us', 0) / 1e3:.1f} ms {state}")
    return samples


# ---- the groups ----------------------------------------------------------------
class Suite:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.reps = 1 if args.quick else args.reps
        self.only = {c for c in args.cases.split(",") if c}
        self.res = {"kernel": platform.release(), "cpus": os.cpu_count(),
                    # vmtest hands CKPT_VM_TCG to the guest: multi = a host thread per vCPU
                    "tcg": os.environ.get("CKPT_VM_TCG", "single"), "quick": self.quick,
                    "reps": self.reps, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "criu_version": subprocess.run(["criu", "--version"], capture_output=True,
                                                   text=True).stdout.strip().splitlines()[0],
                    "mem_total_kib": int(open("/proc/meminfo").readline().split()[1]),
                    "ckpt_user": CKPT_USER, "ckpt_user_binary": binary_id(),
                    "bandwidth": {}, "cases": []}

    def save(self):
        tmp = self.args.out + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(self.res, fh, indent=1)
        os.replace(tmp, self.args.out)

    def case(self, group, name, params, fn):
        if self.only and name not in self.only:
            return
        log(f"== {group} {name} {params}")
        c = {"group": group, "case": name, "params": params, "samples": []}
        self.res["cases"].append(c)
        try:
            fn(c)
        except Exception as e:  # recorded, the suite goes on
            c["error"] = f"{type(e).__name__}: {e}"
            log(f"   {name} FAILED: {c['error']}")
        self.save()

    def bw(self):
        mib = 64 if self.quick else 1024
        reps = 3
        for what, argv in (("memcpy", ["memcpy", str(min(mib, 512)), str(reps)]),
                           ("tmpfs_write", ["write", os.path.join(WORK, "bw.dat"), str(mib), str(reps)])):
            out = subprocess.run([os.path.join(BIN, "bench-bw")] + argv, capture_output=True,
                                 text=True, check=True).stdout
            self.res["bandwidth"][what] = json.loads(out)
            log(f"{what}: {self.res['bandwidth'][what]['median_gib_s']:.3f} GiB/s")
        self.save()

    def tree(self):
        """Every shape and size: the scan ioctl against the /proc walk (bench-scan, on the
        frozen tree).  Then whole dumps for ckpt-user's scan_time and freezing_time, and
        CRIU's freezing_time, where affordable under TCG (--criu-tree-max, --dump-tree-max)."""
        sizes = [100] if self.quick else [100, 1000, 10000]
        for shape in self.args.tree_shapes.split(","):
            for n in sizes:
                def run(c, shape=shape, n=n):
                    w = wl(f"tree-{shape}-{n}", "tree", shape, n)
                    try:
                        w.cg.freeze()
                        out = subprocess.run([os.path.join(BIN, "bench-scan"), w.cg.path,
                                              str(w.pid), str(n), str(max(self.reps, 5))],
                                             capture_output=True, text=True)
                        w.cg.thaw()
                        if out.returncode != 0:
                            raise RuntimeError("bench-scan: " + out.stderr)
                        c["scan"] = json.loads(out.stdout)
                        sc = c["scan"]
                        log(f"  scan {shape}-{n}: ioctl {statistics.median(sc['ioctl_us']) / n:.2f} us/task, "
                            f"/proc {statistics.median(sc['proc_us']) / n:.2f} us/task")
                        tools = []
                        if n <= self.args.dump_tree_max:
                            tools.append("ckpt")
                        if n <= self.args.criu_tree_max:
                            tools.append("criu-fc")
                        c["note"] = (f"whole dumps: ckpt up to {self.args.dump_tree_max} tasks, "
                                     f"CRIU up to {self.args.criu_tree_max}")
                        reps = self.reps if n <= 100 else min(self.reps, self.args.big_tree_reps)
                        c["reps"] = reps
                        if tools:
                            c["samples"] = alternate(w, tools, reps, f"tree-{shape}-{n}")
                    finally:
                        w.stop()
                self.case("tree", f"{shape}-{n}", {"shape": shape, "tasks": n}, run)

    def freeze(self):
        sizes = [10] if self.quick else [10, 1000]
        for v1 in (False, True):
            for n in sizes:
                ver = "v1" if v1 else "v2"

                def run(c, n=n, v1=v1, ver=ver):
                    w = wl(f"freeze-{ver}-{n}", "tree", "fan", n, v1=v1)
                    try:
                        reps = self.reps if n <= 100 else min(self.reps, self.args.big_tree_reps)
                        c["reps"] = reps
                        c["samples"] = alternate(w, ["ckpt", "criu-fc"], reps, f"freeze-{ver}-{n}")
                    finally:
                        w.stop()
                self.case("freeze", f"{ver}-{n}", {"cgroup": ver, "tasks": n}, run)

    def mem(self):
        if self.quick:
            cases = [("mem-16", ["mem", 16], 16), ("sparse-64-10", ["sparse", 64, 10], 64),
                     ("maps-100", ["maps", 100], 0), ("dirty-16", ["dirty", 16], 16)]
        else:
            # dirty-256: every page rewritten in a loop while the tools dump
            # it, so that all of it is dirty at the freeze (the frozen copy
            # a pre-copy cannot save).
            cases = [("mem-64", ["mem", 64], 64), ("mem-256", ["mem", 256], 256),
                     ("mem-1024", ["mem", 1024], 1024), ("sparse-1024-10", ["sparse", 1024, 10], 1024),
                     ("maps-1000", ["maps", 1000], 0), ("dirty-256", ["dirty", 256], 256)]
        for name, args, mib in cases:
            def run(c, name=name, args=args):
                w = wl(name, *args)
                try:
                    c["samples"] = alternate(w, ["ckpt", "criu", "criu-fc"], self.reps, name)
                finally:
                    w.stop()
            self.case("mem", name, {"args": args, "mib": mib}, run)

    def redis(self):
        keys = 4096 if self.quick else 262144      # x 1 KiB values: ~256 MiB of data
        sock = os.path.join(WORK, "redis.sock")

        def cli(*a):
            return subprocess.run(["redis-cli", "-s", sock] + [str(x) for x in a],
                                  capture_output=True, text=True, timeout=600).stdout.strip()

        def run(c):
            w = Workload("redis", ["redis-server", "--port", "0", "--unixsocket", sock,
                                   "--save", "", "--appendonly", "no", "--daemonize", "no",
                                   "--enable-debug-command", "local", "--dir", WORK],
                         ready=False)
            try:
                for _ in range(600):
                    if cli("PING") == "PONG":
                        break
                    time.sleep(0.1)
                t0 = time.monotonic()
                r = cli("DEBUG", "POPULATE", keys, "key", 1024)
                if r != "OK":
                    raise RuntimeError(f"DEBUG POPULATE: {r}")
                probe = [0, keys // 2, keys - 1]
                want = {k: cli("GET", f"key:{k}") for k in probe}
                rss = int(open(f"/proc/{w.pid}/status").read().split("VmRSS:")[1].split()[0])
                c["params"].update(rss_kib=rss, populate_s=round(time.monotonic() - t0, 1))
                log(f"redis: {keys} keys, RSS {rss // 1024} MiB")
                n = [0]

                def check():
                    n[0] += 1
                    ok = (cli("DBSIZE") == str(keys + n[0] - 1)
                          and all(cli("GET", f"key:{k}") == v for k, v in want.items())
                          and cli("SET", f"after:{n[0]}", "x") == "OK")
                    return {"app_ok": ok}
                c["samples"] = alternate(w, ["ckpt", "criu", "criu-fc"], self.reps, "redis", check)
                c["app_ok"] = all(s.get("app_ok") for s in c["samples"])
            finally:
                w.stop()
        self.case("redis", "redis-256", {"keys": keys, "value_bytes": 1024}, run)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1")
    ap.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", "5")))
    ap.add_argument("--groups", default=os.environ.get("BENCH_GROUPS", "bw,mem,redis,freeze,tree"))
    ap.add_argument("--cases", default=os.environ.get("BENCH_CASES", ""),
                    help="comma-separated case names (e.g. mem-256,redis-256): only these")
    ap.add_argument("--criu-tree-max", type=int, default=int(os.environ.get("BENCH_CRIU_TREE_MAX", "100")))
    ap.add_argument("--tree-shapes", default=os.environ.get("BENCH_TREE_SHAPES", "fan,chain,mix"))
    ap.add_argument("--dump-tree-max", type=int, default=int(os.environ.get("BENCH_DUMP_TREE_MAX", "1000")))
    ap.add_argument("--big-tree-reps", type=int, default=int(os.environ.get("BENCH_BIG_TREE_REPS", "3")))
    args = ap.parse_args()
    s = Suite(args)
    log(f"bench on {s.res['kernel']}, {s.res['cpus']} CPUs, {s.res['criu_version']}, "
        f"{'quick' if s.quick else str(s.reps) + ' reps'}, groups {args.groups}")
    for g in args.groups.split(","):
        getattr(s, g)()
    s.res["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    s.save()
    failed = [c["case"] for c in s.res["cases"]
              if c.get("error") or any(not x["ok"] for x in c["samples"])]
    log(f"done; cases with failures: {failed or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
