/* strmap.c - a bounded string-to-index hash map.
 *
 * Open addressing with linear probing over a power-of-two table kept at
 * most half full. A slot holds the key's index + 1 in its low 32 bits (so
 * zeroed memory is an empty table) and the high 32 bits of its hash above
 * them, so a probe that meets another key is told apart without reading
 * that key: in a map of a million ids that is the difference between one
 * cache miss a lookup and three. Hash: 64-bit FNV-1a finished with
 * MurmurHash3's fmix64 (ids that differ only in their last digits spread
 * over the low bits the table uses); plenty for keys we generate or that
 * a bounded map caps (max_keys), so a hostile input cannot grow it
 * without limit.
 */
#include "aipm/core.h"

#include <stdlib.h>
#include <string.h>

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

#define SLOT(idx, h)                                                           \
    ((uint64_t)(h) >> 32 << 32 | (uint64_t)(uint32_t)((idx) + 1))
#define SLOT_IDX(s) ((int)(uint32_t)(s)-1)
#define SLOT_TAG(s) ((s) >> 32)

void aipm_strmap_init(aipm_strmap *m, int max_keys)
{
    memset(m, 0, sizeof(*m));
    m->max_keys = max_keys > 0 ? max_keys : 1 << 20;
}

void aipm_strmap_free(aipm_strmap *m)
{
    int i;

    for (i = 0; i < m->n_keys; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->key_lens);
    free(m->slots);
    memset(m, 0, sizeof(*m));
}

uint64_t aipm_strmap_hash(const char *key, size_t len)
{
    return fnv1a(key, len);
}

void aipm_strmap_prefetch(const aipm_strmap *m, const uint64_t *h, size_t n)
{
    size_t k, mask = m->n_slots - 1;
    int stage;

    if (m->n_slots == 0)
        return;
    /* each stage over the whole batch, so its misses overlap */
    for (stage = 0; stage < 3; stage++)
        for (k = 0; k < n; k++) {
            const uint64_t *slot = &m->slots[(size_t)h[k] & mask];
            int idx;

            if (stage == 0) {
                __builtin_prefetch(slot);
                continue;
            }
            if (!*slot || SLOT_TAG(*slot) != h[k] >> 32)
                continue;
            idx = SLOT_IDX(*slot);
            if (stage == 1) {
                __builtin_prefetch(&m->keys[idx]);
                __builtin_prefetch(&m->key_lens[idx]);
            } else {
                __builtin_prefetch(m->keys[idx]);
            }
        }
}

int aipm_strmap_find(const aipm_strmap *m, const char *key, size_t len)
{
    return aipm_strmap_find_h(m, key, len, fnv1a(key, len));
}

int aipm_strmap_find_h(const aipm_strmap *m, const char *key, size_t len,
                       uint64_t h)
{
    size_t mask, i;

    if (m->n_slots == 0)
        return -1;
    mask = m->n_slots - 1;
    for (i = (size_t)h & mask; m->slots[i]; i = (i + 1) & mask) {
        int idx = SLOT_IDX(m->slots[i]);

        if (SLOT_TAG(m->slots[i]) == h >> 32 && m->key_lens[idx] == len &&
            memcmp(m->keys[idx], key, len) == 0)
            return idx;
    }
    return -1;
}

static int rehash(aipm_strmap *m, size_t n_slots)
{
    uint64_t *slots = calloc(n_slots, sizeof(*slots));
    size_t mask = n_slots - 1;
    int idx;

    if (slots == NULL)
        return AIPM_ENOMEM;
    for (idx = 0; idx < m->n_keys; idx++) {
        uint64_t h = fnv1a(m->keys[idx], m->key_lens[idx]);
        size_t i = (size_t)h & mask;

        while (slots[i])
            i = (i + 1) & mask;
        slots[i] = SLOT(idx, h);
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = n_slots;
    return AIPM_OK;
}

/* Room for cap keys in the key arrays. */
static int grow_keys(aipm_strmap *m, size_t cap)
{
    char **keys = realloc(m->keys, cap * sizeof(*keys));
    size_t *lens;

    if (keys == NULL)
        return AIPM_ENOMEM;
    m->keys = keys;
    if ((lens = realloc(m->key_lens, cap * sizeof(*lens))) == NULL)
        return AIPM_ENOMEM;
    m->key_lens = lens;
    m->cap_keys = cap;
    return AIPM_OK;
}

int aipm_strmap_reserve(aipm_strmap *m, int n)
{
    size_t slots = m->n_slots ? m->n_slots : 64;

    if (n <= m->n_keys)
        return AIPM_OK;
    while ((size_t)n * 2 > slots)
        slots *= 2;
    if (slots != m->n_slots && rehash(m, slots) != 0)
        return AIPM_ENOMEM;
    return (size_t)n > m->cap_keys ? grow_keys(m, (size_t)n) : AIPM_OK;
}

int aipm_strmap_put(aipm_strmap *m, const char *key, size_t len, int *idx,
                    int *added)
{
    return aipm_strmap_put_h(m, key, len, fnv1a(key, len), idx, added);
}

int aipm_strmap_put_h(aipm_strmap *m, const char *key, size_t len, uint64_t h,
                      int *idx, int *added)
{
    int found = aipm_strmap_find_h(m, key, len, h), n;
    size_t i, mask;

    *added = 0;
    if (found >= 0) {
        *idx = found;
        return AIPM_OK;
    }
    if (m->n_keys >= m->max_keys)
        return AIPM_EINVALID;
    if ((size_t)(m->n_keys + 1) * 2 > m->n_slots &&
        rehash(m, m->n_slots ? m->n_slots * 2 : 64) != 0)
        return AIPM_ENOMEM;
    n = m->n_keys;
    if ((size_t)n == m->cap_keys && grow_keys(m, n ? (size_t)n * 2 : 16) != 0)
        return AIPM_ENOMEM; /* the key arrays grow by doubling */
    if ((m->keys[n] = malloc(len + 1)) == NULL)
        return AIPM_ENOMEM;
    memcpy(m->keys[n], key, len);
    m->keys[n][len] = '\0';
    m->key_lens[n] = len;
    mask = m->n_slots - 1;
    for (i = (size_t)h & mask; m->slots[i]; i = (i + 1) & mask)
        ;
    m->slots[i] = SLOT(n, h);
    m->n_keys++;
    *idx = n;
    *added = 1;
    return AIPM_OK;
}
