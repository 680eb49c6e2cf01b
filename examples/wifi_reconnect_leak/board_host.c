/* Host (x86-64 Linux) board: stdout sink, "\n" line endings. */
#include "board.h"

#include "memsleuth_agent.h"

#include <stdlib.h>
#include <unistd.h>

const char    board_name[] = "x86_64";
const uint8_t board_crlf = 0;

/* Linker-provided bounds of the executable's code (GNU ld, non-PIE). */
extern char __executable_start[], etext[];

void board_init(void)
{
    /* Traces stop at the first return address outside the firmware (e.g. into libc). */
    ms_agent_set_text_range((uintptr_t)__executable_start, (uintptr_t)etext);
}

void board_write(const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(1, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

void board_exit(int code)
{
    exit(code);
}
