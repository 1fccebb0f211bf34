// The module's errno values (and scan's err_pid/err_reason) as sentences.
// Each returns an Error carrying the ioctl's errno, so the message reads
// "scan: pid 123 is not frozen: Device or resource busy".
#pragma once

#include <linux/ckpt.h>
#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/error.h"

namespace ckpt::kmod {

Error info_error(int err, const std::string& device);
Error begin_error(int err, int root, bool root_is_pidfd);
Error end_error(int err);
Error scan_error(int err, const ckpt_scan& scan);
Error regs_error(int err, pid_t tid);

// "NOT_FROZEN" and so on, "?" when unknown.
std::string_view scan_reason_name(uint32_t reason);

}  // namespace ckpt::kmod
