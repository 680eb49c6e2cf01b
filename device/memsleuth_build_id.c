/* memsleuth build identity: see memsleuth_build_id.h. */
#include "memsleuth_build_id.h"

#include <stdint.h>

#define NT_GNU_BUILD_ID 3u

/* Set by the linker script at the start of .note.gnu.build-id (weak: absent = no note). */
extern const unsigned char ms_build_id_note[] __attribute__((weak));

static const unsigned char *note_desc(const unsigned char *p, const unsigned char *end,
                                      size_t *len)
{
    while (p && p + 12 <= end) {
        uint32_t namesz, descsz, type;
        const unsigned char *name, *desc;
        __builtin_memcpy(&namesz, p, 4);
        __builtin_memcpy(&descsz, p + 4, 4);
        __builtin_memcpy(&type, p + 8, 4);
        name = p + 12;
        desc = name + ((namesz + 3u) & ~3u);
        if (desc + descsz > end) return NULL;
        if (type == NT_GNU_BUILD_ID && namesz == 4 && name[0] == 'G' && name[1] == 'N' &&
            name[2] == 'U' && name[3] == 0 && descsz > 0 && descsz <= 64) {
            *len = descsz;
            return desc;
        }
        p = desc + ((descsz + 3u) & ~3u);
    }
    return NULL;
}

#if defined(__linux__) && !defined(MS_BUILD_ID_NO_PHDR)
#include <link.h>
extern const ElfW(Ehdr) __ehdr_start __attribute__((weak));

static const unsigned char *from_phdrs(size_t *len)
{
    const ElfW(Ehdr) *eh = &__ehdr_start;
    if (!eh) return NULL;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const unsigned char *)eh + eh->e_phoff);
    uintptr_t bias = 0;
    for (int i = 0; i < eh->e_phnum; i++)   /* load bias: PIE images are moved */
        if (ph[i].p_type == PT_PHDR) bias = (uintptr_t)ph - ph[i].p_vaddr;
    if (!bias)
        for (int i = 0; i < eh->e_phnum; i++)
            if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
                bias = (uintptr_t)eh - ph[i].p_vaddr;
                break;
            }
    for (int i = 0; i < eh->e_phnum; i++) {
        if (ph[i].p_type != PT_NOTE) continue;
        const unsigned char *p = (const unsigned char *)(bias + ph[i].p_vaddr);
        const unsigned char *d = note_desc(p, p + ph[i].p_memsz, len);
        if (d) return d;
    }
    return NULL;
}
#else
static const unsigned char *from_phdrs(size_t *len)
{
    (void)len;
    return NULL;
}
#endif

const unsigned char *ms_build_id(size_t *len)
{
    const unsigned char *d = NULL;
    *len = 0;
    if (ms_build_id_note) d = note_desc(ms_build_id_note, ms_build_id_note + 16 + 64 + 12, len);
    if (!d) d = from_phdrs(len);
    if (!d) *len = 0;
    return d;
}

void ms_build_id_print(void (*write)(const char *s, size_t n), int crlf)
{
    static const char hex[] = "0123456789abcdef";
    char line[10 + 2 * 64 + 2];
    size_t len, n = 0;
    const unsigned char *id = ms_build_id(&len);
    if (!id || !write) return;
    for (const char *s = "[MSBUILD] "; *s; s++) line[n++] = *s;
    for (size_t i = 0; i < len; i++) {
        line[n++] = hex[id[i] >> 4];
        line[n++] = hex[id[i] & 15u];
    }
    if (crlf) line[n++] = '\r';
    line[n++] = '\n';
    write(line, n);
}
