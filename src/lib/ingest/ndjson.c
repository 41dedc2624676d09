/* ndjson.c - one line of Segment-spec JSON to a validated event.
 *
 * YAJL's event (SAX) parser walks the line once: top-level string fields are
 * copied into a scratch buffer (as offsets, since the buffer may move), the
 * properties/traits object is kept as the byte range it occupies in the line
 * (no re-serialisation), and the JSON type of each property is noted for
 * schema inference. YAJL's handle cannot be reset, so one is made per
 * line, from a bump arena (yajl_alloc_funcs) that is rewound after each
 * line: malloc and free drop out of the profile. Allocations that do not
 * fit the arena fall back to malloc and are freed individually.
 *
 * Checks run in the contract's order (DESIGN.md section 4): malformed_json,
 * missing_field, unsupported_type, bad_value, bad_timestamp; the line's
 * UTF-8 and length were checked by the caller.
 */
#include "ingest/ingest_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

const char *const aipm_jtype_names[AIPM_J_COUNT] = {
    "null", "boolean", "number", "string", "object", "array"};

enum field {
    F_NONE = -1,
    F_TYPE,
    F_MESSAGE_ID,
    F_USER_ID,
    F_ANONYMOUS_ID,
    F_TIMESTAMP,
    F_EVENT,
    F_GROUP_ID,
    F_N_STRING, /* fields above are strings */
    F_PROPERTIES = F_N_STRING,
    F_TRAITS,
    F_OTHER
};

static const char *const field_names[] = {
    "type",  "messageId", "userId",     "anonymousId", "timestamp",
    "event", "groupId",   "properties", "traits"};

#define ARENA_SIZE ((size_t)64 * 1024)
#define ARENA_ALIGN 16

/* Header before each allocation: its size, and whether it came from
 * malloc (1) or the arena (0). 16 bytes keeps the payload aligned. */
typedef struct arena_hdr {
    size_t size;
    size_t heap;
} arena_hdr;

typedef struct arena {
    unsigned char *base;
    size_t top;
} arena;

/* Under AddressSanitizer or a fuzzing build every allocation is a real
 * malloc, so overflows inside YAJL's buffers are still seen (STYLE.md's
 * arena debug switch). */
#if defined(__SANITIZE_ADDRESS__) ||                                           \
    defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
#define ARENA_ALWAYS_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ALWAYS_MALLOC 1
#endif
#endif
#ifndef ARENA_ALWAYS_MALLOC
#define ARENA_ALWAYS_MALLOC 0
#endif

static void *arena_malloc(void *ctx, size_t size)
{
    arena *a = ctx;
    size_t need;
    arena_hdr *h;

    if (size > SIZE_MAX / 2)
        return NULL;
    need = sizeof(arena_hdr) +
           ((size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1));
    if (ARENA_ALWAYS_MALLOC || size > ARENA_SIZE ||
        a->top + need > ARENA_SIZE) {
        h = malloc(sizeof(arena_hdr) + size);
        if (h == NULL)
            return NULL;
        h->heap = 1;
    } else {
        h = (arena_hdr *)(void *)(a->base + a->top);
        a->top += need;
        h->heap = 0;
    }
    h->size = size;
    return h + 1;
}

static void arena_free(void *ctx, void *ptr)
{
    arena_hdr *h;

    (void)ctx;
    if (ptr == NULL)
        return;
    h = (arena_hdr *)ptr - 1;
    if (h->heap)
        free(h);
}

static void *arena_realloc(void *ctx, void *ptr, size_t size)
{
    arena_hdr *h;
    void *fresh;

    if (ptr == NULL)
        return arena_malloc(ctx, size);
    h = (arena_hdr *)ptr - 1;
    if (size > SIZE_MAX / 2)
        return NULL;
    if (h->heap) {
        arena_hdr *n = realloc(h, sizeof(arena_hdr) + size);

        if (n == NULL)
            return NULL;
        n->size = size;
        return n + 1;
    }
    if (size <= h->size)
        return ptr;
    if ((fresh = arena_malloc(ctx, size)) == NULL)
        return NULL;
    memcpy(fresh, ptr, h->size);
    return fresh;
}

struct aipm_event_parser {
    aipm_buf scratch;
    arena arena;
    yajl_alloc_funcs alloc;
    const char *line;
    int depth;
    int root_seen;
    enum field cur; /* the top-level key whose value comes next */
    /* per string field: offset into scratch + 1 (0 = absent) */
    size_t off[F_N_STRING];
    int present[F_OTHER]; /* 1 present, -1 present with the wrong type */
    const char *nul_in;   /* a field or key holding a \u0000, or NULL */
    int in_payload;       /* inside properties (1) or traits (2) */
    size_t payload_start, payload_end;
    int payload_field; /* F_PROPERTIES or F_TRAITS, whichever seen */
    int prop_open;     /* a property key awaits its value */
    size_t prop_key_off[AIPM_MAX_PROPS];
    aipm_jtype prop_type[AIPM_MAX_PROPS];
    int n_props, props_truncated;
    yajl_handle h;
    char detail[160];
};

int aipm_event_parser__new(aipm_event_parser **out, aipm_error *err)
{
    aipm_event_parser *p = calloc(1, sizeof(*p));

    if (p == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    aipm_buf_init(&p->scratch, (size_t)1 << 31);
    if ((p->arena.base = malloc(ARENA_SIZE)) == NULL) {
        free(p);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    p->alloc.malloc = arena_malloc;
    p->alloc.realloc = arena_realloc;
    p->alloc.free = arena_free;
    p->alloc.ctx = &p->arena;
    *out = p;
    return AIPM_OK;
}

void aipm_event_parser__free(aipm_event_parser *p)
{
    if (p == NULL)
        return;
    aipm_buf_free(&p->scratch);
    free(p->arena.base);
    free(p);
}

static enum field field_of(const unsigned char *k, size_t n)
{
    int i;

    for (i = 0; i <= F_TRAITS; i++)
        if (strlen(field_names[i]) == n && memcmp(field_names[i], k, n) == 0)
            return (enum field)i;
    return F_OTHER;
}

/* A value of JSON type t arrived. Returns 1 to continue parsing. */
static int value(aipm_event_parser *p, aipm_jtype t, const unsigned char *s,
                 size_t n)
{
    if (p->depth == 0) {
        p->root_seen = -1; /* a scalar root: not an object */
        return 0;
    }
    if (p->depth == 1) {
        enum field f = p->cur;

        p->cur = F_NONE;
        if (f == F_NONE || f == F_OTHER || t == AIPM_J_NULL)
            return 1; /* null counts as absent */
        if (f < F_N_STRING && t == AIPM_J_STRING) {
            /* Fields are C strings: a decoded NUL would cut them short
             * and make "a\u0000b" and "a\u0000c" the same messageId. */
            if (memchr(s, 0, n) && p->nul_in == NULL)
                p->nul_in = field_names[f];
            p->off[f] = p->scratch.len + 1;
            if (aipm_buf_put(&p->scratch, s, n) != 0 ||
                aipm_buf_put(&p->scratch, "", 1) != 0)
                return 0;
            p->present[f] = 1;
        } else {
            p->present[f] = -1; /* wrong JSON type for this field */
        }
        return 1;
    }
    if (p->in_payload && p->depth == 2 && p->prop_open) {
        p->prop_type[p->n_props - 1] = t;
        p->prop_open = 0;
    }
    return 1;
}

static int cb_null(void *ctx)
{
    return value(ctx, AIPM_J_NULL, NULL, 0);
}

static int cb_boolean(void *ctx, int b)
{
    (void)b;
    return value(ctx, AIPM_J_BOOLEAN, NULL, 0);
}

static int cb_number(void *ctx, const char *s, size_t n)
{
    return value(ctx, AIPM_J_NUMBER, (const unsigned char *)s, n);
}

static int cb_string(void *ctx, const unsigned char *s, size_t n)
{
    return value(ctx, AIPM_J_STRING, s, n);
}

static int cb_start_map(void *ctx)
{
    aipm_event_parser *p = ctx;

    if (p->depth == 0) {
        p->root_seen = 1;
    } else if (p->depth == 1) {
        enum field f = p->cur;

        if (f == F_PROPERTIES || f == F_TRAITS) {
            p->present[f] = 1;
            /* YAJL has consumed the '{': the object starts one byte back. */
            p->payload_start = yajl_get_bytes_consumed(p->h) - 1;
            p->in_payload = f == F_PROPERTIES ? 1 : 2;
            p->payload_field = f;
            p->n_props = 0;
            p->props_truncated = 0;
        } else if (f != F_NONE && f != F_OTHER) {
            p->present[f] = -1;
        }
        p->cur = F_NONE;
    } else if (p->in_payload && p->depth == 2 && p->prop_open) {
        p->prop_type[p->n_props - 1] = AIPM_J_OBJECT;
        p->prop_open = 0;
    }
    p->depth++;
    return 1;
}

static int cb_map_key(void *ctx, const unsigned char *k, size_t n)
{
    aipm_event_parser *p = ctx;

    if (p->depth == 1) {
        p->cur = field_of(k, n);
    } else if (p->in_payload && p->depth == 2) {
        if (memchr(k, 0, n) && p->nul_in == NULL)
            p->nul_in = "a property key";
        if (p->n_props == AIPM_MAX_PROPS) {
            p->props_truncated = 1;
            p->prop_open = 0;
            return 1;
        }
        p->prop_key_off[p->n_props] = p->scratch.len;
        if (aipm_buf_put(&p->scratch, k, n) != 0 ||
            aipm_buf_put(&p->scratch, "", 1) != 0)
            return 0;
        p->prop_type[p->n_props] = AIPM_J_NULL;
        p->n_props++;
        p->prop_open = 1;
    }
    return 1;
}

static int cb_end_map(void *ctx)
{
    aipm_event_parser *p = ctx;

    p->depth--;
    if (p->depth == 1 && p->in_payload) {
        p->payload_end = yajl_get_bytes_consumed(p->h);
        p->in_payload = 0;
    }
    return 1;
}

static int cb_start_array(void *ctx)
{
    aipm_event_parser *p = ctx;

    if (p->depth == 0) {
        p->root_seen = -1;
        return 0;
    }
    if (p->depth == 1) {
        if (p->cur != F_NONE && p->cur != F_OTHER)
            p->present[p->cur] = -1;
        p->cur = F_NONE;
    } else if (p->in_payload && p->depth == 2 && p->prop_open) {
        p->prop_type[p->n_props - 1] = AIPM_J_ARRAY;
        p->prop_open = 0;
    }
    p->depth++;
    return 1;
}

static int cb_end_array(void *ctx)
{
    ((aipm_event_parser *)ctx)->depth--;
    return 1;
}

static const yajl_callbacks callbacks = {
    cb_null,    cb_boolean,     NULL,         NULL,
    cb_number,  cb_string,      cb_start_map, cb_map_key,
    cb_end_map, cb_start_array, cb_end_array};

static const char *str(aipm_event_parser *p, enum field f)
{
    return p->off[f] ? p->scratch.ptr + p->off[f] - 1 : NULL;
}

static const char *reject(aipm_event_parser *p, const char **detail,
                          const char *reason, const char *what,
                          const char *field)
{
    snprintf(p->detail, sizeof(p->detail), "%s%s", what, field ? field : "");
    *detail = p->detail;
    return reason;
}

const char *aipm_event_parser__parse(aipm_event_parser *p, const char *line,
                                     size_t len, int64_t min_ms, int64_t max_ms,
                                     aipm_event *ev, const char **detail)
{
    static const enum field string_fields[] = {F_MESSAGE_ID,   F_USER_ID,
                                               F_ANONYMOUS_ID, F_TIMESTAMP,
                                               F_EVENT,        F_GROUP_ID};
    yajl_status st;
    const char *type;
    int i, is_track, is_group;

    aipm_buf_reset(&p->scratch);
    memset(p->off, 0, sizeof(p->off));
    memset(p->present, 0, sizeof(p->present));
    p->line = line;
    p->depth = 0;
    p->root_seen = 0;
    p->cur = F_NONE;
    p->in_payload = 0;
    p->payload_start = p->payload_end = 0;
    p->payload_field = F_NONE;
    p->prop_open = 0;
    p->n_props = 0;
    p->props_truncated = 0;
    p->nul_in = NULL;
    *detail = "";

    p->arena.top = 0;
    p->h = yajl_alloc(&callbacks, &p->alloc, p);
    if (p->h == NULL)
        return reject(p, detail, "malformed_json", "out of memory", NULL);
    /* The caller validated UTF-8 for the whole line already. */
    yajl_config(p->h, yajl_dont_validate_strings, 1);
    st = yajl_parse(p->h, (const unsigned char *)line, len);
    if (st == yajl_status_ok)
        st = yajl_complete_parse(p->h);
    if (st != yajl_status_ok) {
        const char *why = p->root_seen < 0 ? "not a JSON object"
                          : len == 0       ? "empty"
                                           : "invalid JSON";

        if (st == yajl_status_error && p->root_seen >= 0) {
            unsigned char *msg =
                yajl_get_error(p->h, 0, (const unsigned char *)line, len);

            char *c;

            snprintf(p->detail, sizeof(p->detail), "invalid JSON: %s",
                     msg ? (const char *)msg : "parse error");
            /* YAJL's messages end in newlines; keep the detail one line. */
            for (c = p->detail; *c; c++)
                if (*c == '\n' || *c == '\r')
                    *c = ' ';
            while (c > p->detail && c[-1] == ' ')
                *--c = '\0';
            if (msg)
                yajl_free_error(p->h, msg);
            yajl_free(p->h);
            *detail = p->detail;
            return "malformed_json";
        }
        yajl_free(p->h);
        return reject(p, detail, "malformed_json", why, NULL);
    }
    yajl_free(p->h);
    p->h = NULL;
    if (p->root_seen != 1)
        return reject(p, detail, "malformed_json", "not a JSON object", NULL);

    /* missing_field, then unsupported_type, then bad_value. */
    if (!p->present[F_TYPE])
        return reject(p, detail, "missing_field", "missing ", "type");
    type = str(p, F_TYPE);
    if (p->present[F_TYPE] < 0)
        return reject(p, detail, "bad_value", "not a string: ", "type");
    is_track = strcmp(type, "track") == 0;
    is_group = strcmp(type, "group") == 0;
    if (!p->present[F_MESSAGE_ID])
        return reject(p, detail, "missing_field", "missing ", "messageId");
    if (!p->present[F_USER_ID] && !p->present[F_ANONYMOUS_ID])
        return reject(p, detail, "missing_field",
                      "missing userId and anonymousId", NULL);
    if (!p->present[F_TIMESTAMP])
        return reject(p, detail, "missing_field", "missing ", "timestamp");
    if (is_track && !p->present[F_EVENT])
        return reject(p, detail, "missing_field", "track without ", "event");
    if (is_group && !p->present[F_GROUP_ID])
        return reject(p, detail, "missing_field", "group without ", "groupId");
    if (!is_track && !is_group && strcmp(type, "identify") != 0) {
        snprintf(p->detail, sizeof(p->detail), "type '%.100s'", type);
        *detail = p->detail;
        return "unsupported_type";
    }
    for (i = 0; i < (int)(sizeof(string_fields) / sizeof(string_fields[0]));
         i++)
        if (p->present[string_fields[i]] < 0)
            return reject(p, detail, "bad_value",
                          "not a string: ", field_names[string_fields[i]]);
    if (p->present[F_PROPERTIES] < 0)
        return reject(p, detail, "bad_value", "not an object: ", "properties");
    if (p->present[F_TRAITS] < 0)
        return reject(p, detail, "bad_value", "not an object: ", "traits");
    if (p->nul_in)
        return reject(p, detail, "bad_value", "a \\u0000 character in ",
                      p->nul_in);
    if (str(p, F_MESSAGE_ID)[0] == '\0')
        return reject(p, detail, "missing_field", "empty ", "messageId");

    ev->timestamp = str(p, F_TIMESTAMP);
    if (aipm_time_parse(&ev->ts_ms, ev->timestamp, strlen(ev->timestamp), 0) !=
        AIPM_OK) {
        snprintf(p->detail, sizeof(p->detail),
                 "timestamp '%.60s' is not RFC 3339 with an offset",
                 ev->timestamp);
        *detail = p->detail;
        return "bad_timestamp";
    }
    if (ev->ts_ms < min_ms || ev->ts_ms > max_ms) {
        snprintf(p->detail, sizeof(p->detail),
                 "timestamp '%.60s' is outside [now - 20 years, now + 1 day]",
                 ev->timestamp);
        *detail = p->detail;
        return "bad_timestamp";
    }

    ev->type = type;
    ev->message_id = str(p, F_MESSAGE_ID);
    ev->user_id = str(p, F_USER_ID);
    ev->anonymous_id = str(p, F_ANONYMOUS_ID);
    ev->event = is_track ? str(p, F_EVENT) : NULL;
    ev->group_id = is_group ? str(p, F_GROUP_ID) : NULL;
    /* Track events carry properties, identify/group carry traits. */
    if ((is_track && p->payload_field == F_PROPERTIES) ||
        (!is_track && p->payload_field == F_TRAITS)) {
        ev->payload = line + p->payload_start;
        ev->payload_len = p->payload_end - p->payload_start;
        ev->n_props = p->n_props;
        ev->props_truncated = p->props_truncated;
        for (i = 0; i < p->n_props; i++) {
            ev->props[i].key = p->scratch.ptr + p->prop_key_off[i];
            ev->props[i].type = p->prop_type[i];
        }
    } else {
        ev->payload = NULL;
        ev->payload_len = 0;
        ev->n_props = 0;
        ev->props_truncated = 0;
    }
    return NULL;
}
