// The /dev/ckpt client without the module: error sentences, ABI checks, and
// a device that is not ckpt's.
#include <gtest/gtest.h>

#include <cerrno>

#include "kmod/device.h"
#include "kmod/errors.h"
#include "kmod/session.h"

namespace ckpt::kmod {
namespace {

TEST(KmodErrors, ScanNamesThePid) {
  ckpt_scan s{};
  s.err_pid = 123;
  s.err_reason = CKPT_SCAN_ERR_NOT_FROZEN;
  Error e = scan_error(EBUSY, s);
  EXPECT_EQ(e.code(), EBUSY);
  EXPECT_EQ(e.message(), "scan: pid 123 is not frozen: Device or resource busy");
  s.err_reason = CKPT_SCAN_ERR_CGROUP;
  EXPECT_EQ(scan_error(EXDEV, s).message(),
            "scan: pid 123 is outside the session's cgroup: Invalid cross-device link");
  s.err_reason = CKPT_SCAN_ERR_PTRACED;
  EXPECT_NE(scan_error(EBUSY, s).message().find("pid 123 is traced"), std::string::npos);
  s.err_reason = CKPT_SCAN_ERR_ACCESS;
  EXPECT_NE(scan_error(EPERM, s).message().find("no ptrace access to pid 123"), std::string::npos);
  s.err_reason = CKPT_SCAN_ERR_DEAD;
  EXPECT_NE(scan_error(EAGAIN, s).message().find("pid 123 is exiting"), std::string::npos);
  s.err_pid = 0;
  EXPECT_NE(scan_error(EAGAIN, s).message().find("root task is exiting"), std::string::npos);
  s.err_reason = CKPT_SCAN_ERR_UNSTABLE;
  EXPECT_NE(scan_error(EAGAIN, s).message().find("kept changing"), std::string::npos);
  s.err_reason = 99;
  EXPECT_NE(scan_error(EIO, s).message().find("unknown reason 99"), std::string::npos);
}

TEST(KmodErrors, ScanWithoutReason) {
  ckpt_scan s{};
  EXPECT_EQ(scan_error(ENOENT, s).message(), "scan: no session on this file: No such file or directory");
  EXPECT_EQ(scan_error(ENOMEM, s).message(), "scan: Cannot allocate memory");
}

TEST(KmodErrors, Begin) {
  EXPECT_EQ(begin_error(EAGAIN, 42, false).message(),
            "begin session: the cgroup is not frozen by its own setting, or not yet fully frozen: "
            "Resource temporarily unavailable");
  EXPECT_NE(begin_error(EXDEV, 42, false).message().find("pid 42 is not in the cgroup"),
            std::string::npos);
  EXPECT_NE(begin_error(EPERM, 42, false).message().find("CAP_CHECKPOINT_RESTORE"), std::string::npos);
  EXPECT_NE(begin_error(ESRCH, 7, true).message().find("root task (pidfd)"), std::string::npos);
  EXPECT_NE(begin_error(EBUSY, 1, false).message().find("already active"), std::string::npos);
  EXPECT_EQ(begin_error(ENOMEM, 1, false).message(), "begin session: Cannot allocate memory");
}

TEST(KmodErrors, RegsAndEnd) {
  EXPECT_EQ(regs_error(ESRCH, 77).message(), "registers: no thread 77: No such process");
  EXPECT_NE(regs_error(EBUSY, 77).message().find("thread 77 is not frozen"), std::string::npos);
  EXPECT_NE(end_error(ENOENT).message().find("no session"), std::string::npos);
  EXPECT_EQ(scan_reason_name(CKPT_SCAN_ERR_DEAD), "DEAD");
  EXPECT_EQ(scan_reason_name(1000), "?");
}

TEST(KmodAbi, Check) {
  ckpt_info info{};
  info.abi_version = kAbiVersion;
  info.task_record_size = sizeof(ckpt_task);
  EXPECT_TRUE(check_abi(info));
  info.task_record_size = sizeof(ckpt_task) + 8;  // a newer module: fine
  EXPECT_TRUE(check_abi(info));
  info.task_record_size = 8;
  EXPECT_FALSE(check_abi(info));
  info.task_record_size = sizeof(ckpt_task);
  info.abi_version = kAbiVersion + 1;
  auto r = check_abi(info);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("built for ABI"), std::string::npos);
}

TEST(KmodDevice, MissingDeviceSaysLoadTheModule) {
  auto dev = Device::open("/nonexistent/ckpt");
  ASSERT_FALSE(dev);
  EXPECT_EQ(dev.error().code(), ENOENT);
  EXPECT_NE(dev.error().message().find("module is not loaded"), std::string::npos);
}

TEST(KmodDevice, NotACkptDevice) {
  auto dev = Device::open("/dev/null");
  ASSERT_TRUE(dev) << dev.error().message();
  auto info = dev->info();
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code(), ENOTTY);
  EXPECT_EQ(info.error().message(), "/dev/null is not a ckpt device (it does not know CKPT_IOC_INFO)");
  auto s = Session::begin(std::move(*dev), -1, Root::pid(1));
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), ENOTTY);
}

TEST(KmodAbi, LayoutMatchesHeader) {
  // The sizes the client relies on (the module checks them too).
  EXPECT_EQ(sizeof(ckpt_info), static_cast<size_t>(CKPT_INFO_SIZE_VER2));
  EXPECT_EQ(sizeof(ckpt_pages), static_cast<size_t>(CKPT_PAGES_SIZE_VER1));
  EXPECT_EQ(sizeof(ckpt_pages_xxh64), static_cast<size_t>(CKPT_PAGES_XXH64_SIZE));
  EXPECT_EQ(sizeof(ckpt_sigaction), 32u);
  EXPECT_EQ(sizeof(ckpt_sigactions), static_cast<size_t>(CKPT_SIGACTIONS_SIZE_VER0));
  EXPECT_EQ(sizeof(ckpt_thread), static_cast<size_t>(CKPT_THREAD_SIZE_VER0));
  EXPECT_EQ(sizeof(ckpt_task), static_cast<size_t>(CKPT_TASK_SIZE_VER0));
  EXPECT_EQ(sizeof(ckpt_scan), static_cast<size_t>(CKPT_SCAN_SIZE_VER0));
  EXPECT_EQ(sizeof(ckpt_regs), static_cast<size_t>(CKPT_REGS_SIZE_VER0));
}

}  // namespace
}  // namespace ckpt::kmod
