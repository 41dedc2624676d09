/* core.h - errors, hashing, time, buffers and progress output for libaipm.
 *
 * Every fallible function in libaipm returns an int: AIPM_OK (0) or one of
 * the negative codes below, and fills a caller-owned aipm_error (which may be
 * NULL) once, at the innermost failure, with a one-line impersonal message.
 * Callers pass the code up without rewriting the message.
 */
#ifndef AIPM_CORE_H
#define AIPM_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    AIPM_OK = 0,
    AIPM_ERROR = -1,     /* internal error: a bug or an unexpected failure */
    AIPM_ENOMEM = -2,    /* out of memory */
    AIPM_EINVALID = -3,  /* bad input or bad usage */
    AIPM_ENOTFOUND = -4, /* a named thing does not exist */
    AIPM_EEXISTS = -5,   /* a thing to create already exists */
    AIPM_EIO = -6,       /* a file or store could not be read or written */
    AIPM_EBLOCKED = -7   /* a gate or policy said no */
};

typedef struct aipm_error {
    int code;
    char msg[512];
} aipm_error;

/* Fill err (if non-NULL and still empty) with code and a printf-style
 * message; returns code so callers can write `return aipm_error_set(...)`. */
int aipm_error_set(aipm_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clear err for reuse. */
void aipm_error_clear(aipm_error *err);

/* The assertion of STYLE.md: aborts in debug builds, returns AIPM_ERROR with
 * a message in release builds. Use inside functions that take `err`. */
#ifdef NDEBUG
#define AIPM_ASSERT(cond, err)                                                 \
    do {                                                                       \
        if (!(cond))                                                           \
            return aipm_error_set((err), AIPM_ERROR,                           \
                                  "internal error: %s (%s:%d)", #cond,         \
                                  __FILE__, __LINE__);                         \
    } while (0)
#else
#include <assert.h>
#define AIPM_ASSERT(cond, err) assert(cond)
#endif

/* ---- hashing (SHA-256 through OpenSSL libcrypto) ---- */

typedef struct aipm_sha256 {
    _Alignas(8) unsigned char state[128]; /* SHA256_CTX, kept opaque; a
                                            plain struct, safe to copy */
} aipm_sha256;

void aipm_sha256_init(aipm_sha256 *h);
void aipm_sha256_update(aipm_sha256 *h, const void *data, size_t len);
void aipm_sha256_final(aipm_sha256 *h, uint8_t out[32]);
void aipm_sha256_oneshot(uint8_t out[32], const void *data, size_t len);

/* Lower-case hex of n bytes into out, which must hold 2n+1 chars. */
void aipm_hex(char *out, const uint8_t *in, size_t n);

/* A random (version 4) UUID, 36 chars plus NUL. */
void aipm_uuid4(char out[37]);

/* ---- time ---- */

/* Parse an RFC 3339 date-time with a mandatory offset ("Z" or +hh:mm),
 * optional fraction, into milliseconds since the Unix epoch (UTC). Also
 * accepts a plain date YYYY-MM-DD (midnight UTC) when allow_date is set.
 * Returns AIPM_OK or AIPM_EINVALID. Does not touch err-less state. */
int aipm_time_parse(int64_t *out_ms, const char *s, size_t len, int allow_date);

/* ms moved by a number of calendar years (Feb 29 becomes Feb 28 in a
 * year without it); the time of day is kept. */
int64_t aipm_time_add_years(int64_t ms, int years);

/* Format ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (25 bytes). */
void aipm_time_format(char out[32], int64_t ms);

/* Current time in ms; the environment variable AIPM_NOW (RFC 3339) overrides
 * it so tests and demos are reproducible. */
int64_t aipm_now_ms(void);

/* A monotonic clock in ms, for measuring durations (never overridden). */
int64_t aipm_clock_ms(void);

/* ---- growable byte buffer with a maximum size (curl's dynbuf) ---- */

typedef struct aipm_buf {
    char *ptr;
    size_t len;
    size_t cap;
    size_t max; /* appends past this fail with AIPM_EINVALID */
} aipm_buf;

void aipm_buf_init(aipm_buf *b, size_t max);
void aipm_buf_free(aipm_buf *b);
void aipm_buf_reset(aipm_buf *b);
int aipm_buf_put(aipm_buf *b, const void *data, size_t len);
int aipm_buf_puts(aipm_buf *b, const char *s);
int aipm_buf_printf(aipm_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Grow by n bytes and return a pointer to them (uninitialised), or NULL
 * when that would pass the maximum or memory runs out. */
char *aipm_buf_append(aipm_buf *b, size_t n);
/* Append s as a JSON string literal (with quotes and escapes). */
int aipm_buf_put_json_str(aipm_buf *b, const char *s, size_t len);
/* NUL-terminated view of the contents (the buffer keeps a NUL after len). */
const char *aipm_buf_cstr(aipm_buf *b);

/* Grow the array *ptrp (a pointer to the array pointer) of elements of
 * elem bytes so that it holds at least need, doubling; new elements are
 * zeroed. Returns AIPM_OK or AIPM_ENOMEM (the array is then unchanged). */
int aipm_grow(void *ptrp, size_t *cap, size_t need, size_t elem);

/* ---- UTF-8 ---- */

/* 1 when s[0..len) is valid UTF-8 (no overlongs, no surrogates), else 0. */
int aipm_utf8_valid(const char *s, size_t len);
/* The longest prefix of s[0..len) of at most max bytes that does not end
 * inside a multi-byte UTF-8 character: a cut backs up over at most 3
 * continuation bytes, so kept text stays valid where the whole was. */
size_t aipm_utf8_cut(const char *s, size_t len, size_t max);

/* ---- numbers ---- */

/* 1 when s is a plain decimal: optional sign, digits with an optional
 * fraction (at least one digit in all), optional exponent; no hex, inf,
 * nan or spaces (strtod alone takes them). Else 0. */
int aipm_decimal_valid(const char *s);
/* Parse a plain decimal into *out. Underflow rounds toward 0 and is
 * accepted (1e-310 is a number); AIPM_EINVALID when s is not a plain
 * decimal or overflows a double. */
int aipm_decimal_parse(const char *s, double *out);

/* ---- string -> dense index map (open addressing, bounded) ---- */

/* Maps byte strings to dense indexes 0, 1, 2, ... in insertion order, so
 * callers keep their per-key data in plain arrays. At most max_keys keys. */
typedef struct aipm_strmap {
    char **keys; /* by index */
    size_t *key_lens;
    size_t cap_keys; /* room in keys and key_lens */
    uint64_t *slots; /* index + 1 | the hash's high 32 bits << 32; 0 = empty */
    size_t n_slots;
    int n_keys;
    int max_keys;
} aipm_strmap;

void aipm_strmap_init(aipm_strmap *m, int max_keys);
void aipm_strmap_free(aipm_strmap *m);
/* Find key; when absent add it. *idx receives its index, *added whether it
 * was new. Returns AIPM_EINVALID when the map is full (nothing added), or
 * AIPM_ENOMEM. */
int aipm_strmap_put(aipm_strmap *m, const char *key, size_t len, int *idx,
                    int *added);
/* Index of key or -1. */
int aipm_strmap_find(const aipm_strmap *m, const char *key, size_t len);

/* For batches of lookups: the key's hash, the same calls given it, and a
 * prefetch of what the lookups of hashes h[0..n) will read: their slots,
 * then the keys' entries, then the keys' bytes, each stage over the whole
 * batch, which hides the cache misses of a big map behind each other. */
uint64_t aipm_strmap_hash(const char *key, size_t len);
void aipm_strmap_prefetch(const aipm_strmap *m, const uint64_t *h, size_t n);
int aipm_strmap_find_h(const aipm_strmap *m, const char *key, size_t len,
                       uint64_t h);
int aipm_strmap_put_h(aipm_strmap *m, const char *key, size_t len, uint64_t h,
                      int *idx, int *added);
/* Room for n keys in all, so that adding them never rehashes (a map
 * loaded from a known count). AIPM_OK or AIPM_ENOMEM. */
int aipm_strmap_reserve(aipm_strmap *m, int n);

/* ---- files: the one way aipm writes a file (core/file.c) ---- */

/* Write data to path safely: a new temporary file beside it (O_CREAT |
 * O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & ~umask; use 0600 for anything
 * holding user data), fsync, rename over path, fsync the folder. Never
 * writes through a symbolic link; a path that is a folder, FIFO, socket or
 * device is refused (AIPM_EINVALID). AIPM_EIO when the write fails. */
int aipm_file_write(const char *path, const void *data, size_t len,
                    unsigned mode, aipm_error *err);

/* The same in steps, for files written piece by piece: open the temporary
 * file (its name into tmp, tmp_cap bytes), write to *fd, then
 * aipm_file_tmp_commit (fsync, rename, fsync the folder; fd stays open, the
 * caller closes it; on failure the temporary file is removed) or
 * aipm_file_tmp_abort (closes fd and removes the temporary file). */
int aipm_file_tmp_open(int *fd, char *tmp, size_t tmp_cap, const char *path,
                       unsigned mode, aipm_error *err);
int aipm_file_tmp_commit(int fd, const char *tmp, const char *path,
                         aipm_error *err);
void aipm_file_tmp_abort(int fd, const char *tmp);

/* The same as a stdio stream: _open gives o->f (a new temporary file
 * beside path), _commit flushes it, fsyncs, renames it over path and
 * closes it; _abort closes it and removes the temporary file. On a
 * failed _commit the temporary file is removed and o is closed. */
typedef struct aipm_file_out {
    FILE *f;
    int fd;
    char path[4200];
    char tmp[4240];
} aipm_file_out;
int aipm_file_out_open(aipm_file_out *o, const char *path, unsigned mode,
                       aipm_error *err);
int aipm_file_out_commit(aipm_file_out *o, aipm_error *err);
void aipm_file_out_abort(aipm_file_out *o);

/* AIPM_OK when path is absent, a regular file or a link (which a rename
 * replaces); AIPM_EINVALID naming what it is (a folder, a FIFO...). */
int aipm_file_check_dest(const char *path, aipm_error *err);

/* Read a regular file of at most max bytes whole into *out (malloc'd,
 * NUL-terminated, *len bytes; the caller frees). Opens with O_NONBLOCK |
 * O_NOFOLLOW: a FIFO, folder or link is refused (AIPM_EINVALID), never
 * waited on. AIPM_ENOTFOUND when it does not exist, AIPM_EIO otherwise. */
int aipm_file_read(char **out, size_t *len, const char *path, size_t max,
                   aipm_error *err);

/* ---- logging and progress (the front-end installs the sink) ---- */

typedef void (*aipm_progress_fn)(void *ctx, uint64_t done, uint64_t total);

#ifdef __cplusplus
}
#endif
#endif
