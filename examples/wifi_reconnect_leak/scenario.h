/* -DSCENARIO=leak|noleak|burst|frag (default leak). */
#ifndef EXAMPLE_SCENARIO_H
#define EXAMPLE_SCENARIO_H

#define SCN_ID_leak   1
#define SCN_ID_noleak 2
#define SCN_ID_burst  3
#define SCN_ID_frag   4
#define SCN_CAT_(a, b) a##b
#define SCN_CAT(a, b)  SCN_CAT_(a, b)
#define SCN_STR_(x)    #x
#define SCN_STR(x)     SCN_STR_(x)

#ifndef SCENARIO
#define SCENARIO leak
#endif
#define SCENARIO_ID   SCN_CAT(SCN_ID_, SCENARIO)
#define SCENARIO_NAME SCN_STR(SCENARIO)
#define SCENARIO_IS(name) (SCENARIO_ID == SCN_CAT(SCN_ID_, name))

#if SCENARIO_ID < 1 || SCENARIO_ID > 4
#error "SCENARIO must be leak, noleak, burst or frag"
#endif

#endif
