// The uapi header must compile as C++ (ckpt-user includes it).
#include <linux/ckpt.h>
static_assert(sizeof(ckpt_task) == CKPT_TASK_SIZE_VER0, "ckpt_task");
static_assert(sizeof(ckpt_regs) == CKPT_REGS_SIZE_VER0, "ckpt_regs");
int main() { return 0; }
