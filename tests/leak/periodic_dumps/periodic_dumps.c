/* A host program that prints the device agent's block dump (`dumpsys mm_info`'s format, with
 * its heap statistics table) after every round of work, and nothing else: no cycle markers,
 * no overview of its own. Rounds: argv[2] (default 14). argv[1] "leak" keeps one 48-byte
 * block per round; anything else frees everything it takes. Built and run by
 * tests/leak/test_dump_curve.py. */
#include <stdio.h>
#include <stdlib.h>

#include "memsleuth_agent.h"

static void write_out(const char *s, size_t n) { fwrite(s, 1, n, stdout); }

static unsigned char arena[64 * 1024];
static void *kept[256];

__attribute__((noinline)) static void *keep_one(void)
{
    return ms_malloc(48);   /* LEAK_SITE */
}

int main(int argc, char **argv)
{
    int leak = argc > 1 && argv[1][0] == 'l';
    int rounds = argc > 2 ? atoi(argv[2]) : 14;
    ms_agent_config_t cfg;
    ms_agent_config_default(&cfg);
    if (ms_agent_init(write_out, arena, sizeof arena, &cfg) != 0 || rounds > 256)
        return 2;
    void *base = ms_malloc(300);
    for (int i = 0; i < rounds; i++) {
        void *tmp = ms_malloc(200 + 8 * (i % 3));
        if (leak)
            kept[i] = keep_one();
        ms_free(tmp);
        ms_heap_dump();
    }
    ms_free(base);
    return 0;
}
