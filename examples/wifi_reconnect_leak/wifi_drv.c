/*
 * Mock "closed-source" Wi-Fi driver. On connect it allocates a connection context, an rx ring,
 * a few scan results, and creates five timers; on suspend it frees the buffers and deletes only
 * four timers: the roaming timer handle is overwritten on the next connect and never deleted
 * (SCENARIO=leak, the seed case). In every other scenario all five are deleted.
 */
#include "wifi_drv.h"

#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "scenario.h"

typedef struct {
    ktimer_t *assoc, *auth, *keepalive, *scan, *roam;
    uint8_t  *ctx;      /* connection context */
    uint8_t  *rx_ring;  /* rx descriptors */
} wifi_state_t;

static wifi_state_t g_wifi;
static uintptr_t    g_roam_caller;

static void tmr_cb(void *timer, void *arg)
{
    (void)timer;
    (void)arg;
}

/* One call site per timer, so each [MSOBJ] create line has a distinct caller. */
int wifi_connect(void)
{
    uint8_t *scan[3];
    int i;

    g_cur_task = 2;
    g_wifi.ctx = malloc(320);
    g_wifi.rx_ring = calloc(12, 128);
    for (i = 0; i < 3; i++) {
        scan[i] = malloc(48 + 16 * i);
    }
    if (!g_wifi.ctx || !g_wifi.rx_ring || !scan[0] || !scan[1] || !scan[2]) goto oom;
    memset(g_wifi.ctx, 0x5a, 320);

    if (krhino_timer_dyn_create(&g_wifi.assoc, "assoc", tmr_cb, 100, 0, NULL, 1)) goto oom;
    if (krhino_timer_dyn_create(&g_wifi.auth, "auth", tmr_cb, 200, 0, NULL, 1)) goto oom;
    if (krhino_timer_dyn_create(&g_wifi.keepalive, "keepalive", tmr_cb, 1000, 1000, NULL, 1))
        goto oom;
    if (krhino_timer_dyn_create(&g_wifi.scan, "scan", tmr_cb, 3000, 0, NULL, 0)) goto oom;
    if (krhino_timer_dyn_create(&g_wifi.roam, "roam", tmr_cb, 5000, 5000, NULL, 1)) goto oom;
    g_roam_caller = g_wifi.roam->create_caller;

    for (i = 0; i < 3; i++) free(scan[i]);   /* scan results consumed */
    g_cur_task = 1;
    return 0;

oom:
    for (i = 0; i < 3; i++) free(scan[i]);
    g_cur_task = 1;
    return -1;
}

#ifdef FLEET_HOOKS
/* examples/fleet builds only: per-device noise, warm-up, injected faults, reboots, and a
 * roam leak taken on a share of reconnects (runtime parameters, see examples/fleet). */
void fleet_cycle_hook(void);
int fleet_roam_leaks(void);
#endif

void wifi_suspend(void)
{
    g_cur_task = 2;
#ifdef FLEET_HOOKS
    fleet_cycle_hook();
#endif
    if (g_wifi.assoc) krhino_timer_dyn_del(g_wifi.assoc);
    if (g_wifi.auth) krhino_timer_dyn_del(g_wifi.auth);
    if (g_wifi.keepalive) krhino_timer_dyn_del(g_wifi.keepalive);
    if (g_wifi.scan) krhino_timer_dyn_del(g_wifi.scan);
#if !SCENARIO_IS(leak)
    if (g_wifi.roam) krhino_timer_dyn_del(g_wifi.roam);
#elif defined(FLEET_HOOKS)
    if (g_wifi.roam && !fleet_roam_leaks()) krhino_timer_dyn_del(g_wifi.roam);
#endif
    /* BUG (leak scenario): g_wifi.roam is forgotten here and overwritten on reconnect. */
    g_wifi.assoc = g_wifi.auth = g_wifi.keepalive = g_wifi.scan = g_wifi.roam = NULL;
    free(g_wifi.ctx);
    free(g_wifi.rx_ring);
    g_wifi.ctx = g_wifi.rx_ring = NULL;
    g_cur_task = 1;
}

uintptr_t wifi_drv_leaked_timer_caller(void)
{
    return g_roam_caller;
}
