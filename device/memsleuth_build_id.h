/*
 * memsleuth build identity: the firmware's GNU build-id, printed as "[MSBUILD] <hex>".
 *
 * memsleuth compares it with the --elf it is given: another build of the same firmware has
 * other addresses, and symbolizing against it gives answers that look right and are not
 * (issue 10). Link with -Wl,--build-id and keep the note in the image:
 *
 *     .note.gnu.build-id : { PROVIDE(ms_build_id_note = .); KEEP(*(.note.gnu.build-id)) } > FLASH
 *
 * (hosted Linux builds find the note through the program headers; nothing to add).
 * Without a note nothing is printed and memsleuth says the ELF match is unverified.
 */
#ifndef MEMSLEUTH_BUILD_ID_H
#define MEMSLEUTH_BUILD_ID_H

#include <stddef.h>

/* The build-id bytes (the note's descriptor), or NULL (then *len = 0) when none is linked. */
const unsigned char *ms_build_id(size_t *len);

/* Write "[MSBUILD] <lowercase hex>" plus "\r\n" (crlf) or "\n" with one call of write;
 * nothing when there is no build-id. Weak, so a build that does not link
 * memsleuth_build_id.c still links: callers go through MS_BUILD_ID_PRINT. */
void ms_build_id_print(void (*write)(const char *s, size_t n), int crlf) __attribute__((weak));
#define MS_BUILD_ID_PRINT(write, crlf) \
    do { if (ms_build_id_print) ms_build_id_print((write), (crlf)); } while (0)

#endif
