#ifndef EXAMPLE_WIFI_DRV_H
#define EXAMPLE_WIFI_DRV_H
#include <stdint.h>
/* The vendor's "closed-source" driver interface (hal_wifi_suspend_station / netmgr reconnect). */
int  wifi_connect(void);   /* 0 = ok, -1 = out of memory */
void wifi_suspend(void);
/* Example-only introspection for the facts printed at exit. */
uintptr_t wifi_drv_leaked_timer_caller(void);
#endif
