"""Fault registers into words: Cortex-M (v6/v7/v8-M), ARMv7-A, Xtensa, RISC-V, AliOS kstat.

Pure functions over the register dict a crash dump printed. Each decoder returns plain data
(``dict``) with the bits that were set, their meaning, the fault address when the hardware
says it is valid, and a one-line ``summary`` with a ``category`` the analysis can act on.
"""

from __future__ import annotations

from typing import Any

# ------------------------------------------------------------------------------------------
# Cortex-M

#: (bit in CFSR, name, sub-register, meaning)
CFSR_BITS: list[tuple[int, str, str, str]] = [
    (0, "IACCVIOL", "MMFSR", "instruction fetch from a no-execute / MPU-protected region"),
    (1, "DACCVIOL", "MMFSR", "data access violates the MPU (or no-access region)"),
    (3, "MUNSTKERR", "MMFSR", "MPU fault while unstacking on exception return"),
    (4, "MSTKERR", "MMFSR", "MPU fault while stacking on exception entry (stack overflow into a "
                            "guard region?)"),
    (5, "MLSPERR", "MMFSR", "MPU fault during lazy FPU state preservation"),
    (7, "MMARVALID", "MMFSR", "MMFAR holds the faulting address"),
    (8, "IBUSERR", "BFSR", "bus error on instruction fetch"),
    (9, "PRECISERR", "BFSR", "precise data bus error: the faulting instruction is at PC"),
    (10, "IMPRECISERR", "BFSR", "imprecise data bus error: a buffered write failed; PC is "
                                "after the faulting store"),
    (11, "UNSTKERR", "BFSR", "bus fault while unstacking on exception return"),
    (12, "STKERR", "BFSR", "bus fault while stacking on exception entry (stack overflow / "
                           "bad SP?)"),
    (13, "LSPERR", "BFSR", "bus fault during lazy FPU state preservation"),
    (15, "BFARVALID", "BFSR", "BFAR holds the faulting address"),
    (16, "UNDEFINSTR", "UFSR", "undefined instruction"),
    (17, "INVSTATE", "UFSR", "invalid state: executed with the Thumb bit clear (a call "
                             "through an even address / bad function pointer)"),
    (18, "INVPC", "UFSR", "invalid PC on exception return (bad EXC_RETURN or stacked frame)"),
    (19, "NOCP", "UFSR", "coprocessor (FPU) instruction with the coprocessor disabled"),
    (20, "STKOF", "UFSR", "stack overflow: SP went below the stack limit register (v8-M)"),
    (24, "UNALIGNED", "UFSR", "unaligned access with CCR.UNALIGN_TRP set (or LDM/STRD)"),
    (25, "DIVBYZERO", "UFSR", "integer divide by zero (CCR.DIV_0_TRP set)"),
]
HFSR_BITS: list[tuple[int, str, str]] = [
    (1, "VECTTBL", "bus fault reading the vector table"),
    (30, "FORCED", "a configurable fault escalated to HardFault (its handler is disabled or "
                   "it faulted at too high a priority)"),
    (31, "DEBUGEVT", "debug event (BKPT without debugger)"),
]
EXC_NAMES = {
    1: "Reset", 2: "NMI", 3: "HardFault", 4: "MemManage", 5: "BusFault", 6: "UsageFault",
    7: "SecureFault", 11: "SVCall", 12: "DebugMon", 14: "PendSV", 15: "SysTick",
}


def exc_name(num: int) -> str:
    if num >= 16:
        return f"IRQ{num - 16}"
    return EXC_NAMES.get(num, f"exception {num}")


def is_exc_return(value: int) -> bool:
    """0xFFFFFFxx on Cortex-M is an EXC_RETURN (or v8-M FNC_RETURN), not a code address."""
    return value >= 0xFFFFFF00 or 0xFEFFFF00 <= value <= 0xFEFFFFFF


def decode_exc_return(value: int) -> dict[str, Any]:
    """Which stack the frame was pushed on, whether it has FPU state, and the mode."""
    thread = bool(value & 0x8)
    psp = bool(value & 0x4)
    fpu = not (value & 0x10)
    text = (f"return to {'thread' if thread else 'handler'} mode, frame on "
            f"{'PSP' if psp else 'MSP'}, {'extended (FPU)' if fpu else 'basic'} frame")
    return {"value": value, "thread_mode": thread, "stack": "PSP" if psp else "MSP",
            "fpu_frame": fpu, "text": text}


def decode_cortex_m(regs: dict[str, int]) -> dict[str, Any]:
    """CFSR/HFSR/MMFAR/BFAR/EXC_RETURN/EXC_NUM → bits, fault address and a summary."""
    out: dict[str, Any] = {"arch": "cortex-m", "bits": [], "fault_address": None,
                           "fault_address_source": None}
    has_cfsr = "CFSR" in regs
    out["profile"] = "armv7m/armv8m" if has_cfsr else "armv6m"
    exc_num = regs.get("EXC_NUM")
    if exc_num is not None:
        out["exc_num"] = exc_num
        out["exc_name"] = exc_name(exc_num)
    exc_ret = regs.get("EXC_RET")
    if exc_ret is not None and is_exc_return(exc_ret):
        out["exc_return"] = decode_exc_return(exc_ret)
    cfsr = regs.get("CFSR", 0)
    hfsr = regs.get("HFSR", 0)
    names: set[str] = set()
    for bit, name, sub, text in CFSR_BITS:
        if cfsr & (1 << bit):
            out["bits"].append({"register": sub, "name": name, "text": text})
            names.add(name)
    for bit, name, text in HFSR_BITS:
        if hfsr & (1 << bit):
            out["bits"].append({"register": "HFSR", "name": name, "text": text})
            names.add(name)
    if "BFARVALID" in names and "BFAR" in regs:
        out["fault_address"], out["fault_address_source"] = regs["BFAR"], "BFAR"
    elif "MMARVALID" in names and "MMFAR" in regs:
        out["fault_address"], out["fault_address_source"] = regs["MMFAR"], "MMFAR"
    out["bit_names"] = sorted(names)
    out["category"], out["summary"] = _cortex_m_summary(names, out, regs)
    return out


def _cortex_m_summary(names: set[str], out: dict[str, Any], regs: dict[str, int]
                      ) -> tuple[str, str]:
    addr = out["fault_address"]
    where = f" at {_addr_words(addr)}" if addr is not None else ""
    if "STKOF" in names:
        return "stack_overflow", "stack overflow (SP below the stack limit)"
    if names & {"MSTKERR", "STKERR"}:
        return "stack_overflow", ("fault while pushing the exception frame: the stack pointer "
                                  "ran out of its stack (stack overflow)" + where)
    if names & {"MUNSTKERR", "UNSTKERR", "INVPC"}:
        return "corrupt_stack", "corrupted exception return (stack or EXC_RETURN overwritten)"
    if "INVSTATE" in names:
        pc = regs.get("PC")
        extra = f" (PC 0x{pc:08X} is even)" if pc is not None and not pc & 1 else ""
        return "invalid_state", ("called an address without the Thumb bit: bad function "
                                 "pointer / corrupted return address" + extra)
    if "UNDEFINSTR" in names:
        return "undefined_instruction", "undefined instruction (jumped into data or garbage?)"
    if "DIVBYZERO" in names:
        return "divide_by_zero", "integer divide by zero"
    if "UNALIGNED" in names:
        return "unaligned", "unaligned memory access" + where
    if "NOCP" in names:
        return "no_coprocessor", "FPU instruction with the FPU disabled"
    if "IACCVIOL" in names:
        return "mpu_violation", "instruction fetch from a non-executable region (MPU)" + where
    if "DACCVIOL" in names:
        return _null_or("mpu_violation", "memory access violation (MPU)", addr)
    if "PRECISERR" in names:
        return _null_or("bus_fault", "precise bus fault on a data access", addr)
    if "IMPRECISERR" in names:
        return "bus_fault", ("imprecise bus fault: a buffered write went to a bad address; "
                             "the store is shortly before PC")
    if "IBUSERR" in names:
        return "bus_fault", "bus fault on instruction fetch (jumped to a bad address)"
    if "VECTTBL" in names:
        return "vector_table", "bus fault reading the vector table"
    if "DEBUGEVT" in names:
        return "debug_event", "debug event / breakpoint without a debugger"
    if "HFSR" not in regs and out.get("exc_name") == "HardFault":
        return "hard_fault", "HardFault (ARMv6-M has no fault status registers)"
    return "unknown", f"{out.get('exc_name', 'exception')} with no fault status bits set"


def _null_or(category: str, text: str, addr: int | None) -> tuple[str, str]:
    if addr is not None and addr < NULL_PAGE:
        return "null_pointer", f"NULL pointer dereference ({_addr_words(addr)}): {text}"
    if addr is not None:
        return category, f"{text} at {_addr_words(addr)}"
    return category, text


NULL_PAGE = 0x1000


def _addr_words(addr: int) -> str:
    if addr < NULL_PAGE:
        return f"NULL + 0x{addr:X}" if addr else "NULL"
    return f"0x{addr:08X}"


# ------------------------------------------------------------------------------------------
# ARMv7-A

_FS_SHORT = {
    0b00001: "alignment fault",
    0b00100: "fault on instruction cache maintenance",
    0b01100: "synchronous external abort on translation table walk (1st level)",
    0b01110: "synchronous external abort on translation table walk (2nd level)",
    0b11100: "parity error on translation table walk (1st level)",
    0b11110: "parity error on translation table walk (2nd level)",
    0b00101: "translation fault (section): unmapped address",
    0b00111: "translation fault (page): unmapped address",
    0b00011: "access flag fault (section)",
    0b00110: "access flag fault (page)",
    0b01001: "domain fault (section)",
    0b01011: "domain fault (page)",
    0b01101: "permission fault (section)",
    0b01111: "permission fault (page)",
    0b00010: "debug event",
    0b01000: "synchronous external abort",
    0b10100: "lockdown abort",
    0b11010: "coprocessor abort",
    0b11001: "synchronous parity error on memory access",
    0b10110: "asynchronous external abort",
    0b11000: "asynchronous parity error on memory access",
}


def _fs_long(status: int) -> str:
    level = status & 3
    kinds = {0b0001: "translation fault", 0b0010: "access flag fault", 0b0011: "permission fault",
             0b0101: "synchronous external abort on translation table walk"}
    if status >> 2 in kinds:
        return f"{kinds[status >> 2]} (level {level})"
    return {0b010000: "synchronous external abort", 0b010001: "asynchronous external abort",
            0b011000: "synchronous parity error", 0b011001: "asynchronous parity error",
            0b100001: "alignment fault", 0b100010: "debug event",
            0b110000: "TLB conflict abort"}.get(status, f"fault status 0x{status:02X}")


def decode_fsr(value: int) -> dict[str, Any]:
    """DFSR/IFSR: short- or long-descriptor fault status."""
    if value & (1 << 9):  # LPAE
        status = value & 0x3F
        text = _fs_long(status)
        fmt = "long"
    else:
        status = ((value >> 6) & 0x10) | (value & 0xF)
        text = _FS_SHORT.get(status, f"fault status 0x{status:02X}")
        fmt = "short"
    return {"value": value, "status": status, "format": fmt, "text": text,
            "write": bool(value & (1 << 11)), "external": bool(value & (1 << 12))}


def decode_armv7a(exception_type: str | None, regs: dict[str, int], fault: dict[str, int]
                  ) -> dict[str, Any]:
    """Exception Type + DFSR/DFAR (data abort) or IFSR/IFAR (prefetch abort)."""
    et = (exception_type or "Unknown").strip()
    out: dict[str, Any] = {"arch": "armv7-a", "exception_type": et, "bits": [],
                           "fault_address": None, "fault_address_source": None}
    low = et.lower()
    if low.startswith("data abort") and "DFSR" in fault:
        d = decode_fsr(fault["DFSR"])
        out["dfsr"] = d
        if "DFAR" in fault:
            out["fault_address"], out["fault_address_source"] = fault["DFAR"], "DFAR"
        access = "write" if d["write"] else "read"
        cat = "alignment" if "alignment" in d["text"] else "data_abort"
        cat, text = _null_or(cat, f"data abort on {access}: {d['text']}", out["fault_address"])
        out["category"], out["summary"] = cat, text
    elif low.startswith("prefetch abort"):
        if "IFSR" in fault:
            out["ifsr"] = decode_fsr(fault["IFSR"])
        if "IFAR" in fault:
            out["fault_address"], out["fault_address_source"] = fault["IFAR"], "IFAR"
        why = out["ifsr"]["text"] if "ifsr" in out else "instruction fetch abort"
        out["category"] = "prefetch_abort"
        out["summary"] = f"prefetch abort (jumped to a bad address): {why}"
    elif low.startswith("undefined"):
        out["category"], out["summary"] = ("undefined_instruction",
                                           "undefined instruction (jumped into data/garbage, or "
                                           "an instruction the core does not have)")
    elif low.startswith("swi"):
        out["category"], out["summary"] = "swi", "unexpected software interrupt (SWI/SVC)"
    elif "fiq" in low:
        out["category"], out["summary"] = "fiq", "stopped by another core (its crash)"
    else:
        out["category"], out["summary"] = "unknown", f"exception: {et}"
    cpsr = regs.get("CPSR")
    if cpsr is not None:
        modes = {0x10: "usr", 0x11: "fiq", 0x12: "irq", 0x13: "svc", 0x16: "mon", 0x17: "abt",
                 0x1A: "hyp", 0x1B: "und", 0x1F: "sys"}
        out["cpsr_mode"] = modes.get(cpsr & 0x1F, f"0x{cpsr & 0x1F:02X}")
        out["thumb"] = bool(cpsr & 0x20)
    return out


# ------------------------------------------------------------------------------------------
# Xtensa

EXCCAUSE = {
    0: ("IllegalInstruction", "illegal instruction"),
    1: ("Syscall", "SYSCALL instruction"),
    2: ("InstructionFetchError", "error fetching an instruction"),
    3: ("LoadStoreError", "load/store error (e.g. byte access to IRAM / bad region)"),
    4: ("Level1Interrupt", "level-1 interrupt"),
    5: ("Alloca", "MOVSP / register window underflow"),
    6: ("IntegerDivideByZero", "integer divide by zero"),
    8: ("Privileged", "privileged instruction"),
    9: ("LoadStoreAlignment", "unaligned load/store"),
    12: ("InstrPIFDataError", "PIF data error on instruction fetch"),
    13: ("LoadStorePIFDataError", "PIF data error on load/store"),
    14: ("InstrPIFAddrError", "PIF address error on instruction fetch"),
    15: ("LoadStorePIFAddrError", "PIF address error on load/store"),
    16: ("InstTLBMiss", "instruction TLB miss"),
    17: ("InstTLBMultiHit", "instruction TLB multi-hit"),
    18: ("InstFetchPrivilege", "instruction fetch privilege violation"),
    20: ("InstFetchProhibited", "instruction fetch from a prohibited region (bad function "
                                "pointer)"),
    24: ("LoadStoreTLBMiss", "load/store TLB miss"),
    25: ("LoadStoreTLBMultiHit", "load/store TLB multi-hit"),
    26: ("LoadStorePrivilege", "load/store privilege violation"),
    28: ("LoadProhibited", "load from a prohibited address"),
    29: ("StoreProhibited", "store to a prohibited address"),
}


def decode_xtensa(regs: dict[str, int]) -> dict[str, Any]:
    cause = regs.get("EXCCAUSE")
    vaddr = regs.get("EXCVADDR")
    out: dict[str, Any] = {"arch": "xtensa", "bits": [], "fault_address": None,
                           "fault_address_source": None}
    if cause is None:
        out["category"], out["summary"] = "unknown", "no EXCCAUSE printed"
        return out
    if 32 <= cause <= 39:
        name, text = f"Coprocessor{cause - 32}Disabled", f"coprocessor {cause - 32} disabled"
    else:
        name, text = EXCCAUSE.get(cause, (f"EXCCAUSE {cause}", f"exception cause {cause}"))
    out["exccause"] = {"value": cause, "name": name, "text": text}
    memory = cause in (2, 3, 9, 12, 13, 14, 15, 16, 20, 24, 25, 26, 28, 29)
    if vaddr is not None and memory:
        out["fault_address"], out["fault_address_source"] = vaddr, "EXCVADDR"
    cat = {0: "undefined_instruction", 6: "divide_by_zero", 9: "unaligned",
           20: "bad_function_pointer", 28: "bad_load", 29: "bad_store",
           3: "bad_load"}.get(cause, "exception")
    out["category"], out["summary"] = (_null_or(cat, f"{name}: {text}", out["fault_address"])
                                       if memory else (cat, f"{name}: {text}"))
    return out


# ------------------------------------------------------------------------------------------
# RISC-V

MCAUSE_EXC = {
    0: ("instruction address misaligned", "bad_function_pointer"),
    1: ("instruction access fault", "bad_function_pointer"),
    2: ("illegal instruction", "undefined_instruction"),
    3: ("breakpoint", "debug_event"),
    4: ("load address misaligned", "unaligned"),
    5: ("load access fault", "bad_load"),
    6: ("store/AMO address misaligned", "unaligned"),
    7: ("store/AMO access fault", "bad_store"),
    8: ("environment call from U-mode", "ecall"),
    9: ("environment call from S-mode", "ecall"),
    11: ("environment call from M-mode", "ecall"),
    12: ("instruction page fault", "bad_function_pointer"),
    13: ("load page fault", "bad_load"),
    15: ("store/AMO page fault", "bad_store"),
}
MCAUSE_IRQ = {1: "supervisor software interrupt", 3: "machine software interrupt",
              5: "supervisor timer interrupt", 7: "machine timer interrupt",
              9: "supervisor external interrupt", 11: "machine external interrupt"}


def decode_riscv(regs: dict[str, int]) -> dict[str, Any]:
    """mcause (interrupt bit = MSB of XLEN; RV32 or RV64 told by the value) and mtval."""
    mcause = regs.get("MCAUSE")
    out: dict[str, Any] = {"arch": "riscv", "bits": [], "fault_address": None,
                           "fault_address_source": None}
    if mcause is None:
        out["category"], out["summary"] = "unknown", "no MCAUSE printed"
        return out
    xlen = 64 if mcause >> 32 else 32
    interrupt = bool(mcause >> (xlen - 1))
    code = mcause & ((1 << (xlen - 1)) - 1)
    out["mcause"] = {"value": mcause, "interrupt": interrupt, "code": code}
    for name in ("MTVAL", "MBADADDR"):
        if name in regs:
            out["fault_address"], out["fault_address_source"] = regs[name], name
    if interrupt:
        text = MCAUSE_IRQ.get(code, f"interrupt {code}")
        out["mcause"]["text"] = text
        out["category"], out["summary"] = "interrupt", f"unexpected {text}"
        return out
    text, cat = MCAUSE_EXC.get(code, (f"exception {code}", "exception"))
    out["mcause"]["text"] = text
    if code in (4, 5, 6, 7, 13, 15) and out["fault_address"] is not None:
        out["category"], out["summary"] = _null_or(cat, text, out["fault_address"])
    else:
        out["category"], out["summary"] = cat, text
    return out


# ------------------------------------------------------------------------------------------
# AliOS kstat_t (kernel/rhino/include/k_err.h)

KSTAT = {
    1: ("RHINO_SYS_FATAL_ERR", "fatal system error"),
    2: ("RHINO_SYS_SP_ERR", "stack pointer error"),
    5: ("RHINO_INV_PARAM", "invalid parameter"),
    6: ("RHINO_NULL_PTR", "NULL pointer argument"),
    100: ("RHINO_MM_POOL_SIZE_ERR", "memory pool size error"),
    101: ("RHINO_MM_ALLOC_SIZE_ERR", "allocation size error"),
    102: ("RHINO_MM_FREE_ADDR_ERR", "free of an address that is not a heap block"),
    103: ("RHINO_MM_CORRUPT_ERR", "heap corrupted (block header / dye overwritten)"),
    105: ("RHINO_NO_MEM", "out of memory"),
    1000: ("RHINO_NOT_CALLED_BY_INTRPT", "API called from an interrupt that must not be"),
    1200: ("RHINO_TASK_STACK_OVF", "task stack overflow"),
    1201: ("RHINO_INTRPT_STACK_OVF", "interrupt stack overflow"),
}
KSTAT_CATEGORY = {1: "fatal_error", 2: "corrupt_stack", 103: "heap_corruption",
                  102: "bad_free", 105: "out_of_memory", 1000: "api_misuse",
                  1200: "stack_overflow", 1201: "stack_overflow"}


def decode_errno(errno: int) -> dict[str, Any]:
    name, text = KSTAT.get(errno, (f"kstat {errno}", f"kernel error {errno}"))
    return {"value": errno, "name": name, "text": text,
            "category": KSTAT_CATEGORY.get(errno, "fatal_error")}


# ------------------------------------------------------------------------------------------
# Poison / dye values seen in registers and fault addresses

POISON = {
    0xABABABAB: ("AliOS free-block dye", "use_after_free"),
    0xFEFEFEFE: ("AliOS used-block dye (a block header read as data)", "heap_overflow"),
    0xDEADBEAF: ("AliOS stack fill / overflow magic (RHINO_TASK_STACK_OVF_MAGIC)",
                 "uninitialised_stack"),
    0xDEADBEEF: ("0xDEADBEEF fill (freed or uninitialised memory)", "use_after_free"),
    0xCECECECE: ("ESP-style heap poison (uninitialised malloc memory)", "uninitialised_heap"),
    0xFEEEFEEE: ("free-fill pattern", "use_after_free"),
    0xBAADF00D: ("uninitialised-allocation fill", "uninitialised_heap"),
    0xA5A5A5A5: ("stack fill pattern (FreeRTOS-style)", "uninitialised_stack"),
}


def poison_of(value: int) -> tuple[int, str, str] | None:
    """Is ``value`` a fill pattern, or a small offset from one (pattern used as a pointer)?"""
    for pat, (text, cat) in POISON.items():
        if 0 <= value - pat < 0x100 or 0 <= pat - value < 0x10:
            return pat, text, cat
    return None


# ------------------------------------------------------------------------------------------
# What other RTOS printers say in words (Zephyr's fault.c lines, ESP-IDF's panic reasons)

#: (substring, category), first match wins; matched case-insensitively against the printer's
#: own reason lines (CrashDump.reason). Used when no fault register tells the cause.
PRINTED_CAUSES: tuple[tuple[str, str], ...] = (
    ("stack overflow", "stack_overflow"),
    ("stack check fail", "stack_overflow"),
    ("stack canary", "stack_overflow"),
    ("stack smashing", "stack_overflow"),
    ("zephyr fatal error 2:", "stack_overflow"),
    ("division by zero", "divide_by_zero"),
    ("integerdividebyzero", "divide_by_zero"),
    ("undefined instruction", "undefined_instruction"),
    ("illegalinstruction", "undefined_instruction"),
    ("illegal instruction", "undefined_instruction"),
    ("illegal use of the epsr", "invalid_state"),
    ("illegal load of exc_return", "invalid_state"),
    ("instrfetchprohibited", "bad_function_pointer"),
    ("instruction access", "bad_function_pointer"),
    ("instruction address misaligned", "bad_function_pointer"),
    ("data access violation", "mpu_violation"),
    ("unaligned", "unaligned"),
    ("loadstorealignment", "unaligned"),
    ("data bus error", "bus_fault"),
    ("bus fault", "bus_fault"),
    ("loadprohibited", "bad_load"),
    ("load access fault", "bad_load"),
    ("storeprohibited", "bad_store"),
    ("store/amo access fault", "bad_store"),
    ("store access fault", "bad_store"),
    ("wdt timeout", "watchdog"),
    ("watchdog", "watchdog"),
    ("kernel oops", "fatal_error"),
    ("kernel panic", "fatal_error"),
    ("abort() was called", "abort"),
    ("assert", "assertion"),
)


def decode_printed(reason: list[str], regs: dict[str, int]) -> dict[str, Any] | None:
    """Category, summary and fault address from the printer's own words; None if no match.

    The fault address comes from the address the printer named next to the cause (Zephyr's
    ``MMFAR Address:`` / ``BFAR Address:``)."""
    if not reason:
        return None
    text = " | ".join(reason)
    low = text.lower()
    category = next((cat for needle, cat in PRINTED_CAUSES if needle in low), None)
    if category is None:
        return None
    # 'BUS FAULT: Precise data bus error; BFAR Address: 0x60000010; ZEPHYR FATAL ERROR 0: ...'
    text = reason[0] + (": " + "; ".join(reason[1:]) if len(reason) > 1 else "")
    out: dict[str, Any] = {"category": category, "summary": text, "fault_address": None,
                           "fault_address_source": None}
    for reg in ("MMFAR", "BFAR"):
        if reg in regs and reg.lower() in low:
            out["fault_address"], out["fault_address_source"] = regs[reg], reg
            if category in ("mpu_violation", "bus_fault", "bad_load", "bad_store"):
                category, summary = _null_or(category, text, regs[reg])
                out["category"], out["summary"] = category, summary
            break
    return out
