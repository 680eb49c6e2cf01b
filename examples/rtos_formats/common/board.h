/* What an example needs from its board: formatted output, exit, the fault hook. */
#ifndef RTOS_BOARD_H
#define RTOS_BOARD_H

#include <stdint.h>

void board_init(void);
void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void board_exit(int code) __attribute__((noreturn));

#endif
