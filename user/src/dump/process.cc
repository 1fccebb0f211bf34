// Process and thread state: what /proc tells (stat, status, the links and
// small files) and what only the module can (registers, FPU/xstate, signal
// handlers, the per-thread kernel state of CKPT_IOC_THREAD).
#include <fmt/format.h>

#include <cerrno>

#include "core/log.h"
#include "dump/context.h"
#include "proc/attrs.h"
#include "proc/fds.h"
#include "proc/pid_cgroup.h"
#include "proc/procfs.h"
#include "proc/stat.h"
#include "proc/status.h"

namespace ckpt::dump {
namespace {

void fill_creds(const proc::ProcStatus& st, image::Creds* c) {
  for (uint32_t v : {st.uid.real, st.uid.effective, st.uid.saved, st.uid.fs})
    c->add_uid(v);
  for (uint32_t v : {st.gid.real, st.gid.effective, st.gid.saved, st.gid.fs})
    c->add_gid(v);
  for (uint32_t g : st.groups)
    c->add_groups(g);
  c->set_cap_inh(st.cap_inh);
  c->set_cap_prm(st.cap_prm);
  c->set_cap_eff(st.cap_eff);
  c->set_cap_bnd(st.cap_bnd);
  c->set_cap_amb(st.cap_amb.value_or(0));
  c->set_no_new_privs(st.no_new_privs.value_or(false));
  c->set_seccomp_mode(st.seccomp.value_or(0));
}

// /proc/PID/stat of a frozen task shows the freezer's state; the state
// letter is kept for humans only.
Result<void> dump_thread(Context& ctx, pid_t pid, const ckpt_task& t, image::Thread* th) {
  pid_t tid = static_cast<pid_t>(t.pid);
  th->set_tid(t.pid);
  th->set_vtid(t.vpid);
  auto st = proc::read_task_status(pid, tid);
  if (!st)
    return std::move(st).error();
  th->set_comm(st->name);
  th->set_state(std::string(1, st->state));
  th->set_sigmask(st->sig_blk);
  th->set_sigpending(st->sig_pnd);
  fill_creds(*st, th->mutable_creds());

  auto regs = ctx.session->regs(tid, true);
  if (!regs)
    return std::move(regs).error().context(fmt::format("registers of thread {}", tid));
  th->set_gpregs(reinterpret_cast<const char*>(&regs->gp), sizeof(regs->gp));
  th->set_xstate(reinterpret_cast<const char*>(regs->xstate.data()), regs->xstate.size());
  th->set_fs_base(regs->gp.fs_base);
  th->set_gs_base(regs->gp.gs_base);

  auto k = ctx.session->thread(tid);
  if (!k)
    return std::move(k).error().context(fmt::format("kernel state of thread {}", tid));
  // The mask to restore is the one in effect outside a system call that
  // replaced it for its duration (sigsuspend, ppoll, rt_sigtimedwait...):
  // /proc's SigBlk shows the temporary one.
  if (k->state & (CKPT_THREAD_RESTORE_SIGMASK | CKPT_THREAD_SIGTIMEDWAIT))
    th->set_sigmask(k->saved_sigmask);
  else
    th->set_sigmask(k->blocked);
  th->set_sas_sp(k->sas_ss_sp);
  th->set_sas_size(k->sas_ss_size);
  th->set_sas_flags(k->sas_ss_flags);
  th->set_clear_child_tid(k->clear_child_tid);
  th->set_robust_list(k->robust_list);
  th->set_robust_list_len(k->robust_list_len);
  th->set_rseq(k->rseq);
  th->set_rseq_len(k->rseq_len);
  th->set_rseq_sig(k->rseq_sig);
  th->mutable_creds()->set_securebits(k->securebits);
  th->set_pdeath_signal(k->pdeath_signal);
  th->set_timer_slack_ns(k->timer_slack_ns);
  return {};
}

}  // namespace

Result<void> dump_process_state(Context& ctx, pid_t pid, const proc::ProcStat& stat,
                                const std::vector<ckpt_task>& threads, image::Process* proc) {
  proc->set_pid(static_cast<uint32_t>(pid));
  auto st = proc::read_status(pid);
  if (!st)
    return std::move(st).error();
  proc->set_comm(st->name);
  proc->set_umask(st->umask.value_or(0));
  fill_creds(*st, proc->mutable_creds());
  proc->set_sig_ignored(st->sig_ign);
  proc->set_sig_caught(st->sig_cgt);
  proc->set_shared_pending(st->shd_pnd);
  proc->set_exit_signal(stat.exit_signal);
  proc->set_tty_nr(stat.tty_nr);

  auto cmdline = proc::read_cmdline(pid);
  if (!cmdline)
    return std::move(cmdline).error();
  proc->set_cmdline(*cmdline);
  auto env = proc::read_environ(pid);
  if (!env)
    return std::move(env).error();
  proc->set_environ(*env);
  for (const char* link : {"exe", "cwd", "root"}) {
    auto l = proc::read_proc_link(pid, link);
    if (!l)
      return std::move(l).error();
    if (std::string_view(link) == "exe")
      proc->set_exe(*l);
    else if (std::string_view(link) == "cwd")
      proc->set_cwd(*l);
    else
      proc->set_root(*l);
  }
  auto pers = proc::read_personality(pid);
  if (!pers)
    return std::move(pers).error();
  proc->set_personality(*pers);
  auto oom = proc::read_oom_score_adj(pid);
  if (!oom)
    return std::move(oom).error();
  proc->set_oom_score_adj(*oom);
  auto lim = proc::get_rlimits(pid);
  if (!lim)
    return std::move(lim).error();
  for (const auto& l : *lim) {
    auto* r = proc->add_rlimits();
    r->set_resource(l.resource);
    r->set_cur(l.cur);
    r->set_max(l.max);
  }
  auto ns = proc::read_namespaces(pid);
  if (!ns)
    return std::move(ns).error();
  for (const auto& n : *ns) {
    auto* m = proc->add_namespaces();
    m->set_type(n.type);
    m->set_inode(n.inode);
  }
  auto cg = proc::read_proc(proc::proc_path(pid, "cgroup"));
  if (!cg)
    return std::move(cg).error();
  size_t pos = 0;
  while (pos < cg->size()) {
    size_t nl = cg->find('\n', pos);
    if (nl == std::string::npos)
      nl = cg->size();
    if (nl > pos)
      proc->add_cgroups(cg->substr(pos, nl - pos));
    pos = nl + 1;
  }

  // Signal handlers are per process (shared by the threads): the leader's.
  auto acts = ctx.session->sigactions(pid);
  if (!acts)
    return std::move(acts).error().context("signal handlers");
  for (size_t i = 0; i < acts->size(); ++i) {
    const auto& a = (*acts)[i];
    auto* s = proc->add_sigactions();
    s->set_signo(static_cast<uint32_t>(i + 1));
    s->set_handler(a.handler);
    s->set_flags(a.flags);
    s->set_restorer(a.restorer);
    s->set_mask(a.mask);
  }

  for (const auto& t : threads) {
    if (t.flags & CKPT_TASK_WORKER)
      continue;  // io_uring/vhost workers: no user state of their own
    auto r = dump_thread(ctx, pid, t, proc->add_threads());
    if (!r)
      return std::move(r).error().context(fmt::format("thread {}", t.pid));
  }
  return {};
}

}  // namespace ckpt::dump
