/* Cortex-M fault state handed to an example's fault printer. */
#ifndef RTOS_BOARD_CM_H
#define RTOS_BOARD_CM_H

#include <stdint.h>

typedef struct {
    uint32_t basic[8];    /* r0 r1 r2 r3 r12 lr pc xpsr, as stacked */
    uint32_t callee[8];   /* r4 .. r11 */
    uint32_t exc_return, psp, cfsr, bfar, mmfar;
} cm_frame_t;

void fault_report(const cm_frame_t *f);

#endif
