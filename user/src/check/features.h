// Kernel features the dump uses, each probed by trying it on ourselves
// (like CRIU's kerndat): a syscall that returns ENOSYS, a /proc file that is
// not there, bits that stay zero.
#pragma once

#include "check/item.h"

namespace ckpt::check {

Item probe_pidfd_open();        // pidfd_open(2), Linux 5.3
Item probe_pidfd_getfd();       // pidfd_getfd(2), Linux 5.6: fds without a parasite
Item probe_process_vm_readv();  // batched reads of another process's memory
Item probe_pagemap();           // /proc/PID/pagemap: present bits and PFNs
Item probe_soft_dirty();        // pagemap bit 55 (CONFIG_MEM_SOFT_DIRTY); optional
Item probe_proc_children();     // /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)
Item probe_clone3();            // clone3(2) and its set_tid (Linux 5.5), for restore
Item probe_sock_diag();         // NETLINK_SOCK_DIAG sockets

}  // namespace ckpt::check
