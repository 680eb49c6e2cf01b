/*
 * memsleuth agent port: backtrace for ARMv7-M / ARMv7E-M (Cortex-M3/M4/M7), Thumb-2 code.
 *
 * GCC on Thumb has no usable frame-pointer chain (r7 points at the bottom of the locals, at an
 * offset only the prologue knows) and __builtin_return_address(n > 0) returns 0, so this port
 * does what the AliOS armv7m backtrace does: prologue analysis.
 *
 * For a frame with a known pc (a return address into function F) and the sp F had at that pc:
 *   1. scan backwards from pc for F's `push {..., lr}` (16-bit PUSH or 32-bit STMDB sp!);
 *   2. decode the next few instructions for further sp decrements: 16-bit `sub sp, #imm`,
 *      32-bit `sub.w`/`subw sp, sp, #imm`, `vpush`, another `push`;
 *   3. the saved lr is at sp + decrements + 4 * (pushed registers - 1); the caller's sp is
 *      sp + decrements + 4 * pushed registers.
 * Works for gcc -O0, -Og, -O1, -O2, -Os code that saves lr in its prologue (every non-leaf
 * function). Stops at the first frame it cannot decode (no push found within MS_CM_SCAN_MAX
 * bytes, an even or EXC_RETURN "return address", or sp leaving the stack window), so a trace
 * may be shorter than requested but never contains a made-up address from a wrong frame size
 * unless the code does unusual things (alloca/VLA, hand-written asm, literal data between the
 * prologue and pc that happens to decode as a push).
 */
#include "memsleuth_agent.h"

#if defined(__thumb2__) || defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)

#define MS_CM_SCAN_MAX   4096u   /* bytes scanned backwards for the prologue */
#define MS_CM_STACK_MAX  0x10000u /* a frame chain never spans more than this */

#define is_code(a) ms_agent_is_code((uintptr_t)(a))

static unsigned popcount16(unsigned v)
{
    unsigned n = 0;
    for (; v; v &= v - 1u) n++;
    return n;
}

static int is_32bit(uint16_t hw)
{
    return (hw & 0xF800u) == 0xE800u || (hw & 0xF000u) == 0xF000u;
}

/* ThumbExpandImm for `sub.w sp, sp, #const`. */
static uint32_t thumb_expand_imm(uint32_t imm12)
{
    if ((imm12 >> 10) == 0) {
        uint32_t b = imm12 & 0xFFu;
        switch ((imm12 >> 8) & 3u) {
        case 0: return b;
        case 1: return (b << 16) | b;
        case 2: return (b << 24) | (b << 8);
        default: return (b << 24) | (b << 16) | (b << 8) | b;
        }
    }
    uint32_t unrot = 0x80u | (imm12 & 0x7Fu), rot = imm12 >> 7;
    return (unrot >> rot) | (unrot << (32u - rot));
}

/* Unwind one frame. Returns 0 and sets *ret (the caller's return address) and *sp_out. */
static int unwind(uintptr_t pc, uintptr_t sp, uintptr_t *ret, uintptr_t *sp_out)
{
    const uint16_t *p = (const uint16_t *)(pc & ~(uintptr_t)1u);
    uintptr_t lo = (uintptr_t)p > MS_CM_SCAN_MAX ? (uintptr_t)p - MS_CM_SCAN_MAX : 0u;
    const uint16_t *lim = (const uint16_t *)lo;
    const uint16_t *push = 0;
    unsigned nregs = 0;

    if (!is_code(pc)) return -1;
    for (const uint16_t *q = p - 1; q >= lim && is_code((uintptr_t)q); q--) {
        uint16_t hw = q[0];
        if ((hw & 0xFF00u) == 0xB500u) {                       /* push {rlist, lr} */
            push = q + 1;
            nregs = popcount16(hw & 0xFFu) + 1u;
            break;
        }
        if (hw == 0xE92Du && q + 1 < p) {                      /* stmdb sp!, {rlist} */
            uint16_t h2 = q[1];
            if ((h2 & 0x4000u) && !(h2 & 0xA000u)) {           /* lr in, sp/pc out */
                push = q + 2;
                nregs = popcount16(h2 & 0x5FFFu);
                break;
            }
        }
    }
    if (!push) return -1;

    uint32_t frame = 0;
    const uint16_t *q = push;
    for (int n = 0; n < 4 && q < p; n++) {
        uint16_t hw = q[0];
        if ((hw & 0xFF80u) == 0xB080u) {                       /* sub sp, #imm7*4 */
            frame += (hw & 0x7Fu) << 2;
        } else if ((hw & 0xFE00u) == 0xB400u) {                /* push {rlist[, lr]} */
            frame += 4u * (popcount16(hw & 0xFFu) + ((hw >> 8) & 1u));
        } else if (is_32bit(hw)) {
            uint16_t h2 = q[1];
            uint32_t imm12 = ((hw & 0x0400u) << 1) | ((h2 & 0x7000u) >> 4) | (h2 & 0xFFu);
            if ((hw & 0xFBFFu) == 0xF1ADu && (h2 & 0x8F00u) == 0x0D00u) {
                frame += thumb_expand_imm(imm12);              /* sub.w sp, sp, #const */
            } else if ((hw & 0xFBFFu) == 0xF2ADu && (h2 & 0x8F00u) == 0x0D00u) {
                frame += imm12;                                /* subw sp, sp, #imm12 */
            } else if ((hw & 0xFFBFu) == 0xED2Du && (h2 & 0x0E00u) == 0x0A00u) {
                frame += (h2 & 0xFFu) << 2;                    /* vpush {s/d regs} */
            }
            q++;
        }
        q++;
    }

    uintptr_t slot = sp + frame + 4u * (nregs - 1u);
    uintptr_t r = *(const uint32_t *)slot;
    if (!(r & 1u) || (r & 0xFFFFFF00u) == 0xFFFFFF00u || !is_code(r)) return -1;
    *ret = r;
    *sp_out = sp + frame + 4u * nregs;
    return 0;
}

int ms_cm_unwind(uintptr_t *out, int depth, uintptr_t sp, uintptr_t lr);

/*
 * Entry: a naked shim captures the caller's (the agent API entry's) sp and lr before any
 * prologue of ours can move sp, then tail-calls the C unwinder.
 */
__asm__(
    "    .syntax unified\n"
    "    .thumb\n"
    "    .text\n"
    "    .global ms_port_backtrace\n"
    "    .type ms_port_backtrace, %function\n"
    "    .thumb_func\n"
    "ms_port_backtrace:\n"
    "    mov r2, sp\n"
    "    mov r3, lr\n"
    "    b.w ms_cm_unwind\n"
    "    .size ms_port_backtrace, . - ms_port_backtrace\n");

int ms_cm_unwind(uintptr_t *out, int depth, uintptr_t sp, uintptr_t lr)
{
    uintptr_t pc = lr, ret, nsp, sp0 = sp;
    int n = 0, skip = 1;  /* frame of the API entry yields the owner: already recorded */

    while (n < depth) {
        if (unwind(pc, sp, &ret, &nsp)) break;
        if (skip) skip--;
        else out[n++] = ret;
        if (nsp <= sp || nsp - sp0 > MS_CM_STACK_MAX) break;
        pc = ret;
        sp = nsp;
    }
    return n;
}

#endif
