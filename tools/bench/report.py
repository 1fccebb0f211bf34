#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The benchmark's report: Markdown tables and gnuplot PNGs from bench.json.

    tools/bench/report.py --md OUT.md --plot-dir DIR KVER/bench.json...

Medians over the counted repetitions (the warm-up, rep -1, is left out) of
successful samples.  A ratio ckpt/CRIU is computed pair by pair (round i of
ckpt with round i of CRIU, same workload, same VM run), then the median of
those ratios is reported: < 1 means ckpt is faster.  Plots (gnuplot,
pngcairo or png): DIR/bench-memory.png (dump time against memory size) and
DIR/bench-tasks.png (microseconds per task against task count).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def counted(c, tool):
    return {s["rep"]: s for s in c["samples"] if s["tool"] == tool and s["rep"] >= 0 and s["ok"]}


def metric(c, tool, key):
    return med([s.get(key) for s in counted(c, tool).values()])


def pair_ratio(c, a, b, fa, fb=None):
    """median over rounds i of fa(sample_a_i) / fb(sample_b_i)."""
    fb = fb or fa
    sa, sb = counted(c, a), counted(c, b)
    r = [fa(sa[i]) / fb(sb[i]) for i in sa if i in sb and fb(sb[i])]
    return med(r), len(r)


def fmt_ms(us):
    return "–" if us is None else (f"{us / 1e3:.1f}" if us < 1e5 else f"{us / 1e3:.0f}")


def fmt_r(r):
    return "–" if r[0] is None else f"{r[0]:.2f}"


def n_fail(c):
    return sum(1 for s in c["samples"] if s["rep"] >= 0 and not s["ok"])


def mib_s(s):
    return s.get("pages_written", 0) * 4096 / 2**20 / (s["wall_us"] / 1e6)


def report(runs, plot_dir):
    out = []
    w = out.append
    for run in runs:
        k = run["kernel"]
        bw = run.get("bandwidth", {})
        memcpy = bw.get("memcpy", {}).get("median_gib_s")
        tmpfs = bw.get("tmpfs_write", {}).get("median_gib_s")
        w(f"### Kernel {k}{' (quick mode)' if run.get('quick') else ''}\n")
        tcg = {"multi": "a host thread per vCPU", "single": "all on one host thread"}.get(
            run.get("tcg", "single"), run.get("tcg"))
        w(f"{run['cpus']} vCPUs ({tcg}), {run['mem_total_kib'] // 1024} MiB, {run['criu_version']}, "
          f"{run['reps']} counted repetitions after one warm-up, started {run['started']}.  "
          f"memcpy: **{memcpy:.2f} GiB/s**; tmpfs write: **{tmpfs:.2f} GiB/s** (medians).\n"
          if memcpy and tmpfs else "bandwidth not measured\n")
        cases = run["cases"]
        errs = [c for c in cases if c.get("error")]
        for c in errs:
            w(f"- case {c['group']} {c['case']} FAILED: `{c['error'][:300]}`\n")

        tree = [c for c in cases if c["group"] == "tree" and not c.get("error")]
        if tree:
            w("\n**Tree collection**, µs per task (medians).  *ioctl*: CKPT_IOC_SCAN (size + fill); "
              "*/proc*: a userspace /proc walk; *dump scan*: ckpt-user dump's scan_time; "
              "*ckpt freeze+scan*: its freezing_time + scan_time; *CRIU*: CRIU's freezing_time "
              "(`--freeze-cgroup`: freeze, seize every thread, walk /proc).  Ratios < 1: ckpt is faster.\n")
            w("| tree | tasks | ioctl | /proc | /proc ÷ ioctl | dump scan | ckpt freeze+scan | CRIU freezing | "
              "CRIU ÷ ioctl | ckpt freeze+scan ÷ CRIU (pairwise) |")
            w("|---|---|---|---|---|---|---|---|---|---|")
            for c in tree:
                n = c["params"]["tasks"]
                sc = c.get("scan", {})
                mi, mp = med(sc.get("ioctl_us", [])), med(sc.get("proc_us", []))
                ds = metric(c, "ckpt", "scan_us")
                fs = pair_ratio(c, "ckpt", "ckpt", lambda s: s["freezing_us"] + s["scan_us"], lambda s: 1)[0]
                cf = metric(c, "criu-fc", "freezing_us")
                r = pair_ratio(c, "ckpt", "criu-fc", lambda s: s["freezing_us"] + s["scan_us"],
                               lambda s: s["freezing_us"])
                f = lambda x: "–" if x is None else f"{x / n:.2f}"
                w(f"| {c['params']['shape']} | {n:,} | {f(mi)} | {f(mp)} | "
                  f"{(mp / mi if mi and mp else 0):.1f}× | {f(ds)} | {f(fs)} | "
                  f"{f(cf) if cf is not None else 'not run'} | "
                  f"{f'{cf / mi:.0f}×' if cf and mi else '–'} | {fmt_r(r)} |")
            w("")

        fr = [c for c in cases if c["group"] == "freeze" and not c.get("error")]
        if fr:
            w("\n**Freeze latency**, ms (medians): from the request to the tree held.  ckpt: "
              "freezing_time of ckpt-user dump; CRIU: freezing_time of `criu dump --freeze-cgroup` "
              "(which also seizes every task and walks /proc).\n")
            w("| cgroup | tasks | ckpt | CRIU | ckpt ÷ CRIU (pairwise) | failed samples |")
            w("|---|---|---|---|---|---|")
            for c in fr:
                r = pair_ratio(c, "ckpt", "criu-fc", lambda s: s["freezing_us"])
                w(f"| {c['params']['cgroup']} | {c['params']['tasks']:,} | "
                  f"{fmt_ms(metric(c, 'ckpt', 'freezing_us'))} | {fmt_ms(metric(c, 'criu-fc', 'freezing_us'))} | "
                  f"{fmt_r(r)} | {n_fail(c)} |")
            w("")

        mem = [c for c in cases if c["group"] in ("mem", "redis") and not c.get("error")]
        if mem:
            w("\n**Memory dump** (one process; images to tmpfs), medians.  *dump*: wall clock of the "
              "command, ms; *frozen*: the tool's frozen_time, ms; *MiB/s*: pages written × 4 KiB ÷ "
              "dump wall time; *% memcpy*: that throughput ÷ the memcpy bandwidth.  CRIU: default "
              "options (ptrace freezing); CRIU-fc: `--freeze-cgroup`.  Ratios ckpt/CRIU pair by pair.\n")
            w("| case | ckpt dump | CRIU dump | CRIU-fc dump | dump ÷ CRIU | dump ÷ CRIU-fc | "
              "ckpt frozen | CRIU frozen | CRIU-fc frozen | frozen ÷ CRIU | frozen ÷ CRIU-fc | "
              "ckpt MiB/s (% memcpy) | CRIU MiB/s | failed |")
            w("|" + "---|" * 14)
            for c in mem:
                def thr(t):
                    v = med([mib_s(s) for s in counted(c, t).values()])
                    return v
                tc = thr("ckpt")
                pct = f" ({tc / (memcpy * 1024) * 100:.0f}%)" if tc and memcpy else ""
                tcr = thr("criu")
                w(f"| {c['case']} | {fmt_ms(metric(c, 'ckpt', 'wall_us'))} | {fmt_ms(metric(c, 'criu', 'wall_us'))} | "
                  f"{fmt_ms(metric(c, 'criu-fc', 'wall_us'))} | "
                  f"{fmt_r(pair_ratio(c, 'ckpt', 'criu', lambda s: s['wall_us']))} | "
                  f"{fmt_r(pair_ratio(c, 'ckpt', 'criu-fc', lambda s: s['wall_us']))} | "
                  f"{fmt_ms(metric(c, 'ckpt', 'frozen_us'))} | {fmt_ms(metric(c, 'criu', 'frozen_us'))} | "
                  f"{fmt_ms(metric(c, 'criu-fc', 'frozen_us'))} | "
                  f"{fmt_r(pair_ratio(c, 'ckpt', 'criu', lambda s: s['frozen_us']))} | "
                  f"{fmt_r(pair_ratio(c, 'ckpt', 'criu-fc', lambda s: s['frozen_us']))} | "
                  f"{'–' if tc is None else f'{tc:.0f}'}{pct} | {'–' if tcr is None else f'{tcr:.0f}'} | "
                  f"{n_fail(c)} |")
            w("")
            red = [c for c in mem if c["group"] == "redis"]
            for c in red:
                w(f"redis-server: {c['params'].get('keys')} keys of {c['params'].get('value_bytes')} bytes, "
                  f"RSS {c['params'].get('rss_kib', 0) // 1024} MiB; after every dump DBSIZE and GET of "
                  f"known keys answered correctly and a SET worked: **{'yes' if c.get('app_ok') else 'NO'}**.\n")
            w("ckpt's breakdown (medians, ms): ")
            for c in mem:
                w(f"- {c['case']}: freezing {fmt_ms(metric(c, 'ckpt', 'freezing_us'))}, scan "
                  f"{fmt_ms(metric(c, 'ckpt', 'scan_us'))}, memdump {fmt_ms(metric(c, 'ckpt', 'memdump_us'))}, "
                  f"memwrite {fmt_ms(metric(c, 'ckpt', 'memwrite_us'))}, frozen {fmt_ms(metric(c, 'ckpt', 'frozen_us'))}, "
                  f"total {fmt_ms(metric(c, 'ckpt', 'total_us'))}, pages written {metric(c, 'ckpt', 'pages_written')}; "
                  f"CRIU: freezing {fmt_ms(metric(c, 'criu', 'freezing_us'))}, memdump "
                  f"{fmt_ms(metric(c, 'criu', 'memdump_us'))}, memwrite {fmt_ms(metric(c, 'criu', 'memwrite_us'))}, "
                  f"pages written {metric(c, 'criu', 'pages_written')}")
            w("")
        fails = [(c["case"], s["tool"], s.get("error", "")[:200]) for c in cases for s in c["samples"] if not s["ok"]]
        if fails:
            w("Failed samples (first of each case/tool):\n")
            seen = set()
            for case, tool, e in fails:
                if (case, tool) in seen:
                    continue
                seen.add((case, tool))
                w(f"- {case} / {tool}: `{' '.join(e.split())}`")
            w("")
    plots(runs, plot_dir)
    return "\n".join(out) + "\n"


def plots(runs, plot_dir):
    gp = shutil.which("gnuplot")
    if not gp:
        print("report: gnuplot not installed, no plots", file=sys.stderr)
        return
    # gnuplot's data and script go to the build tree, not beside the PNGs
    dat = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "bench", "plot-data")
    os.makedirs(dat, exist_ok=True)
    mem_lines, task_lines = [], []
    for run in runs:
        k = run["kernel"].split("-")[0]
        mcs = sorted([c for c in run["cases"] if c["group"] == "mem" and c["case"].startswith("mem-")
                      and not c.get("error")], key=lambda c: c["params"]["mib"])
        for tool, title in (("ckpt", "ckpt"), ("criu", "CRIU"), ("criu-fc", "CRIU --freeze-cgroup")):
            f = os.path.join(dat, f"mem-{k}-{tool}.dat")
            with open(f, "w") as fh:
                for c in mcs:
                    v = metric(c, tool, "wall_us")
                    if v:
                        fh.write(f"{c['params']['mib']} {v / 1e6:.4f}\n")
            mem_lines.append(f"'{f}' using 1:2 with linespoints title '{title} ({k})'")
        tcs = [c for c in run["cases"] if c["group"] == "tree" and not c.get("error")]
        for shape in ("fan", "chain", "mix"):
            cs = sorted([c for c in tcs if c["params"]["shape"] == shape], key=lambda c: c["params"]["tasks"])
            series = {
                "ioctl": lambda c: med(c.get("scan", {}).get("ioctl_us", [])),
                "proc": lambda c: med(c.get("scan", {}).get("proc_us", [])),
                "ckpt": lambda c: pair_ratio(c, "ckpt", "ckpt", lambda s: s["freezing_us"] + s["scan_us"],
                                             lambda s: 1)[0],
                "criu": lambda c: metric(c, "criu-fc", "freezing_us"),
            }
            titles = {"ioctl": "scan ioctl", "proc": "/proc walk", "ckpt": "ckpt freeze+scan",
                      "criu": "CRIU freezing_time"}
            for key, fn in series.items():
                f = os.path.join(dat, f"tasks-{k}-{shape}-{key}.dat")
                rows = [(c["params"]["tasks"], fn(c)) for c in cs]
                rows = [(n, v) for n, v in rows if v]
                with open(f, "w") as fh:
                    for n, v in rows:
                        fh.write(f"{n} {v / n:.4f}\n")
                if rows:
                    task_lines.append(f"'{f}' using 1:2 with linespoints title '{titles[key]}, {shape} ({k})'")
    term = "pngcairo size 1000,650 font ',10'"
    script = f"""set terminal {term}
set grid
set termoption noenhanced
"""
    if mem_lines:
        script += f"""set output '{os.path.join(plot_dir, "bench-memory.png")}'
set title 'Dump time against dirty anonymous memory (QEMU TCG: compare the tools, not the seconds)'
set key left top
set xlabel 'MiB of dirty anonymous memory'
set ylabel 'dump wall time, s (median)'
set logscale xy
plot {", ".join(mem_lines)}
"""
    if task_lines:
        script += f"""set output '{os.path.join(plot_dir, "bench-tasks.png")}'
set title 'Tree collection: microseconds per task (QEMU TCG: compare the methods, not the values)'
set xlabel 'tasks in the tree'
set ylabel 'us per task (median)'
set logscale xy
set key outside right
plot {", ".join(task_lines)}
"""
    with open(os.path.join(dat, "plot.gp"), "w") as fh:
        fh.write(script)
    r = subprocess.run([gp, os.path.join(dat, "plot.gp")], capture_output=True, text=True)
    if r.returncode != 0 and "pngcairo" in r.stderr:
        script = script.replace(term, "png size 1000,650")
        with open(os.path.join(dat, "plot.gp"), "w") as fh:
            fh.write(script)
        r = subprocess.run([gp, os.path.join(dat, "plot.gp")], capture_output=True, text=True)
    if r.returncode != 0:
        print("report: gnuplot failed: " + r.stderr, file=sys.stderr)
    else:
        print("report: plots " + " ".join(os.path.join(plot_dir, f"bench-{n}.png") for n, l in
                                          (("memory", mem_lines), ("tasks", task_lines)) if l))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--md", required=True)
    ap.add_argument("--plot-dir", required=True)
    ap.add_argument("json", nargs="+")
    a = ap.parse_args()
    runs = [json.load(open(j)) for j in a.json]
    md = report(runs, a.plot_dir)
    with open(a.md, "w") as fh:
        fh.write("<!-- generated by tools/bench/report.py from " + ", ".join(a.json) + " -->\n\n" + md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
