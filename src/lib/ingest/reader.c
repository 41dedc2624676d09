/* reader.c - stream a file, plain or gzip, as lines in bounded memory.
 *
 * Raw bytes are read in 256 KiB chunks and hashed (SHA-256 of the file as
 * stored), then inflated when the file starts with the gzip magic (zlib's
 * inflate with gzip framing, concatenated members allowed). Lines are
 * found with memchr in the decoded chunk and returned in place when they
 * lie wholly inside it; a line that straddles chunks is assembled in
 * `line`, which never grows past max_line: the rest of an over-long line is
 * counted and skipped, so a 50 MB line costs max_line bytes of memory.
 */
#include "ingest/ingest_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK ((size_t)256 * 1024)

struct aipm_reader {
    int fd; /* -1 when reading from memory */
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    char path[1024];
    uint64_t raw_read, raw_size;
    aipm_sha256 sha;
    int gzip, z_ready, z_ended, eof;
    z_stream z;
    unsigned char *raw;       /* raw chunk */
    unsigned char *dec;       /* decoded chunk (gzip) */
    const unsigned char *cur; /* unread decoded bytes */
    size_t cur_len;
    aipm_buf line;      /* assembly of a straddling line */
    uint64_t line_full; /* length of the line being assembled */
    int line_open;      /* a partial line is in `line` */
    int line_lent;      /* `line` was returned; clear it next call */
    uint64_t lineno;
    size_t max_line;
};

static int reader_new(aipm_reader **out, size_t max_line, aipm_error *err)
{
    aipm_reader *r = calloc(1, sizeof(*r));

    if (r == NULL || (r->raw = malloc(CHUNK)) == NULL) {
        free(r);
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    }
    r->fd = -1;
    r->max_line = max_line ? max_line : AIPM_DEFAULT_MAX_LINE;
    aipm_buf_init(&r->line, r->max_line + 2);
    aipm_sha256_init(&r->sha);
    *out = r;
    return AIPM_OK;
}

int aipm_reader__open_file(aipm_reader **out, const char *path, size_t max_line,
                           aipm_error *err)
{
    aipm_reader *r = NULL;
    struct stat sb;
    int fd, rc;

    *out = NULL;
    /* "-" is standard input: a pipe from an export, say. */
    fd = strcmp(path, "-") == 0 ? dup(0) : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return aipm_error_set(err, errno == ENOENT ? AIPM_ENOTFOUND : AIPM_EIO,
                              "%s: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
        close(fd);
        return aipm_error_set(err, AIPM_EINVALID,
                              "%s: is a directory, not a file", path);
    }
    if ((rc = reader_new(&r, max_line, err)) != 0) {
        close(fd);
        return rc;
    }
    r->fd = fd;
    r->raw_size = S_ISREG(sb.st_mode) ? (uint64_t)sb.st_size : 0;
    snprintf(r->path, sizeof(r->path), "%s",
             strcmp(path, "-") == 0 ? "(stdin)" : path);
    *out = r;
    return AIPM_OK;
}

int aipm_reader__open_mem(aipm_reader **out, const void *data, size_t len,
                          size_t max_line, aipm_error *err)
{
    int rc = reader_new(out, max_line, err);

    if (rc)
        return rc;
    (*out)->mem = data;
    (*out)->mem_len = len;
    (*out)->raw_size = len;
    snprintf((*out)->path, sizeof((*out)->path), "(memory)");
    return AIPM_OK;
}

void aipm_reader__free(aipm_reader *r)
{
    if (r == NULL)
        return;
    if (r->fd >= 0)
        close(r->fd);
    if (r->z_ready)
        inflateEnd(&r->z);
    free(r->raw);
    free(r->dec);
    aipm_buf_free(&r->line);
    free(r);
}

/* Read the next raw chunk; returns bytes read, 0 at end, -1 on error. */
static ssize_t read_raw(aipm_reader *r, aipm_error *err)
{
    ssize_t n;

    if (r->fd < 0) {
        n = (ssize_t)(r->mem_len - r->mem_pos < CHUNK ? r->mem_len - r->mem_pos
                                                      : CHUNK);
        memcpy(r->raw, r->mem + r->mem_pos, (size_t)n);
        r->mem_pos += (size_t)n;
    } else {
        do
            n = read(r->fd, r->raw, CHUNK);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            aipm_error_set(err, AIPM_EIO, "%s: %s", r->path, strerror(errno));
            return -1;
        }
    }
    if (n > 0) {
        aipm_sha256_update(&r->sha, r->raw, (size_t)n);
        r->raw_read += (uint64_t)n;
    }
    return n;
}

/* Refill r->cur with decoded bytes. Returns 1, 0 at the end, or an error. */
static int refill(aipm_reader *r, aipm_error *err)
{
    ssize_t n;

    if (!r->gzip) {
        n = read_raw(r, err);
        if (n < 0)
            return AIPM_EIO;
        if (n == 0) {
            /* The first read decides the format; an empty file ends here. */
            return 0;
        }
        if (r->raw_read == (uint64_t)n && n >= 2 && r->raw[0] == 0x1f &&
            r->raw[1] == 0x8b) {
            r->gzip = 1;
            if ((r->dec = malloc(CHUNK)) == NULL)
                return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            memset(&r->z, 0, sizeof(r->z));
            if (inflateInit2(&r->z, 15 + 16) != Z_OK)
                return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            r->z_ready = 1;
            r->z.next_in = r->raw;
            r->z.avail_in = (uInt)n;
        } else {
            r->cur = r->raw;
            r->cur_len = (size_t)n;
            return 1;
        }
    }
    for (;;) {
        int zrc;

        if (r->z.avail_in == 0 && !r->eof) {
            n = read_raw(r, err);
            if (n < 0)
                return AIPM_EIO;
            if (n == 0)
                r->eof = 1;
            r->z.next_in = r->raw;
            r->z.avail_in = (uInt)n;
        }
        if (r->z.avail_in == 0 && r->eof) {
            if (!r->z_ended)
                return aipm_error_set(
                    err, AIPM_EINVALID,
                    "%s: truncated gzip stream (it ends after %llu lines "
                    "without the gzip trailer)",
                    r->path, (unsigned long long)r->lineno);
            return 0;
        }
        if (r->z_ended) {
            /* Another gzip member follows (concatenated .gz files). */
            if (inflateReset(&r->z) != Z_OK)
                return aipm_error_set(err, AIPM_ERROR, "inflateReset failed");
            r->z_ended = 0;
        }
        r->z.next_out = r->dec;
        r->z.avail_out = (uInt)CHUNK;
        zrc = inflate(&r->z, Z_NO_FLUSH);
        if (zrc == Z_STREAM_END) {
            r->z_ended = 1;
        } else if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            return aipm_error_set(err, AIPM_EINVALID,
                                  "%s: corrupt gzip data near line %llu (%s)",
                                  r->path, (unsigned long long)r->lineno + 1,
                                  r->z.msg ? r->z.msg : "inflate error");
        }
        if (CHUNK - r->z.avail_out > 0) {
            r->cur = r->dec;
            r->cur_len = CHUNK - r->z.avail_out;
            return 1;
        }
    }
}

/* Append to the line being assembled, keeping at most max_line + 1 bytes:
 * one more than the limit, so that a line of exactly max_line bytes plus
 * the '\r' of a CRLF is judged the same wherever the chunk boundary falls. */
static void line_append(aipm_reader *r, const unsigned char *p, size_t n)
{
    size_t keep = r->max_line + 1, room = keep - r->line.len;

    r->line_full += n;
    r->line_open = 1;
    if (r->line.len < keep)
        aipm_buf_put(&r->line, p, n < room ? n : room);
}

static void finish(aipm_reader *r, aipm_line *out, const char *p, size_t n,
                   uint64_t full)
{
    if (n > 0 && p[n - 1] == '\r' && full == n) {
        n--;
        full--;
    }
    out->ptr = p;
    out->len = n;
    out->full_len = full;
    out->too_long = full > r->max_line;
    if (out->too_long) /* kept whole characters only */
        out->len = aipm_utf8_cut(p, out->len, AIPM_RAW_KEEP);
    out->lineno = ++r->lineno;
}

int aipm_reader__next(aipm_reader *r, aipm_line *out, aipm_error *err)
{
    if (r->line_lent) {
        aipm_buf_reset(&r->line);
        r->line_full = 0;
        r->line_lent = 0;
    }
    for (;;) {
        const unsigned char *nl;
        int rc;

        if (r->cur_len == 0) {
            rc = refill(r, err);
            if (rc < 0)
                return rc;
            if (rc == 0) {
                if (!r->line_open)
                    return 0;
                /* A last line without a newline. */
                r->line_open = 0;
                finish(r, out, r->line.ptr ? r->line.ptr : "", r->line.len,
                       r->line_full);
                return 1;
            }
        }
        nl = memchr(r->cur, '\n', r->cur_len);
        if (nl == NULL) {
            line_append(r, r->cur, r->cur_len);
            r->cur_len = 0;
            continue;
        }
        if (!r->line_open) {
            size_t n = (size_t)(nl - r->cur);

            finish(r, out, (const char *)r->cur, n, n);
        } else {
            line_append(r, r->cur, (size_t)(nl - r->cur));
            r->line_open = 0;
            finish(r, out, r->line.ptr ? r->line.ptr : "", r->line.len,
                   r->line_full);
            r->line_lent = 1;
        }
        r->cur_len -= (size_t)(nl - r->cur) + 1;
        r->cur = nl + 1;
        return 1;
    }
}

int aipm_reader__peek(aipm_reader *r, int *byte, aipm_error *err)
{
    size_t i;
    int rc;

    *byte = -1;
    if (r->cur_len == 0 && r->lineno == 0 && !r->line_open) {
        rc = refill(r, err);
        if (rc <= 0)
            return rc;
    }
    for (i = 0; i < r->cur_len; i++)
        if (r->cur[i] != ' ' && r->cur[i] != '\t' && r->cur[i] != '\r' &&
            r->cur[i] != '\n') {
            *byte = r->cur[i];
            break;
        }
    return AIPM_OK;
}

void aipm_reader__sha256(aipm_reader *r, char hex[65])
{
    aipm_sha256 copy = r->sha;
    uint8_t digest[32];

    aipm_sha256_final(&copy, digest);
    aipm_hex(hex, digest, 32);
}

uint64_t aipm_reader__raw_read(const aipm_reader *r)
{
    return r->raw_read;
}

uint64_t aipm_reader__raw_size(const aipm_reader *r)
{
    return r->raw_size;
}

int aipm_reader__is_gzip(const aipm_reader *r)
{
    return r->gzip;
}
