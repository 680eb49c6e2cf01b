#ifndef EXAMPLE_BOARD_H
#define EXAMPLE_BOARD_H
#include <stddef.h>
#include <stdint.h>
void board_init(void);
void board_write(const char *s, size_t n);
void board_exit(int code) __attribute__((noreturn));
extern const char    board_name[];
extern const uint8_t board_crlf;   /* 1: "\r\n" line endings like AliOS */
#endif
