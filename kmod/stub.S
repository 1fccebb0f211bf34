/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ckpt_return_stub: where a guard hook sends a refused call.
 *
 * hooks.c points the saved instruction pointer of a probed function's entry
 * at this stub and puts the error in %rax.  At that moment the function has
 * not touched the stack, so the top of the stack is its caller's return
 * address and a plain return hands the error to the caller, as if the
 * function itself had returned it.  The kernel's function-error-injection
 * uses the same trick (just_return_func), which these distro kernels do not
 * build in, hence a copy here.
 *
 * It is entered by the ftrace trampoline's return, never by an indirect
 * call or jump, so it carries no ENDBR.
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/unwind_hints.h>

	.text
SYM_CODE_START(ckpt_return_stub)
	UNWIND_HINT_FUNC
	ANNOTATE_NOENDBR
	RET
SYM_CODE_END(ckpt_return_stub)
