/* Host board: stdout, exit(). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "board.h"

void board_init(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void board_exit(int code)
{
    fflush(stdout);
    exit(code);
}
