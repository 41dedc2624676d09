/* file.c - the one way aipm writes a file, and reads a small one.
 *
 * Every file aipm writes (the audit checkpoint, the graph snapshot,
 * aipm.yaml, the demo's outputs) goes to a new temporary file beside its
 * destination, opened O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC with a
 * private mode (0600 unless the caller asks otherwise), is fsync'ed, then
 * renamed over the destination, and the folder is fsync'ed so that the
 * rename itself survives a crash. So:
 *   - nothing is ever written through a symbolic link or into a file that
 *     was there before (a link planted at the temporary name is removed,
 *     not followed: O_EXCL refuses it, we unlink the name and try once
 *     more, still with O_EXCL);
 *   - a reader sees the old file or the new one, whole, never half;
 *   - a destination that is a folder, a FIFO, a socket or a device is
 *     refused with a message, so a planted FIFO can never hang a command.
 * The temporary name carries the process id, so two processes writing the
 * same file never share one.
 *
 * Reading (aipm_file_read) opens with O_NONBLOCK | O_NOFOLLOW and accepts
 * only a regular file, then reads it whole into memory: callers validate
 * and use the same bytes even if the file changes under them.
 */
#include "aipm/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a non-regular file is, for messages. */
static const char *kind(mode_t m)
{
    return S_ISDIR(m)    ? "a folder"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket"
           : S_ISCHR(m)  ? "a device"
           : S_ISBLK(m)  ? "a device"
           : S_ISLNK(m)  ? "a symbolic link"
                         : "not a regular file";
}

int aipm_file_check_dest(const char *path, aipm_error *err)
{
    struct stat sb;

    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return AIPM_OK;
        return aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", path,
                              strerror(errno));
    }
    if (S_ISREG(sb.st_mode) || S_ISLNK(sb.st_mode))
        return AIPM_OK; /* replaced by the rename; a link is not followed */
    return aipm_error_set(err, AIPM_EINVALID,
                          "%s is %s, not a file aipm can write; move it away "
                          "and run the command again",
                          path, kind(sb.st_mode));
}

int aipm_file_tmp_open(int *fd_out, char *tmp, size_t tmp_cap, const char *path,
                       unsigned mode, aipm_error *err)
{
    int fd = -1, attempt, rc;

    *fd_out = -1;
    if ((rc = aipm_file_check_dest(path, err)) != 0)
        return rc;
    if ((size_t)snprintf(tmp, tmp_cap, "%s.tmp.%ld", path, (long)getpid()) >=
        tmp_cap)
        return aipm_error_set(err, AIPM_EINVALID, "path too long: %s", path);
    for (attempt = 0; attempt < 2; attempt++) {
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  (mode_t)mode);
        if (fd >= 0 || errno != EEXIST)
            break;
        /* A leftover of a killed run with our pid, or something planted:
         * remove the name (a link is removed, never followed). */
        if (unlink(tmp) != 0 && errno != ENOENT)
            break;
    }
    if (fd < 0)
        return aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", tmp,
                              strerror(errno));
    *fd_out = fd;
    return AIPM_OK;
}

static void fsync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4200];
    int fd;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if ((size_t)(slash - path) < sizeof(dir))
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
    else
        return;
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        return;
    (void)fsync(fd); /* some file systems refuse it on folders: harmless */
    close(fd);
}

int aipm_file_tmp_commit(int fd, const char *tmp, const char *path,
                         aipm_error *err)
{
    int rc;

    if (fsync(fd) != 0) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s%s", path,
                            strerror(errno),
                            errno == ENOSPC ? " (the disk is full)" : "");
        unlink(tmp);
        return rc;
    }
    if ((rc = aipm_file_check_dest(path, err)) != 0) {
        unlink(tmp);
        return rc;
    }
    if (rename(tmp, path) != 0) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", path,
                            strerror(errno));
        unlink(tmp);
        return rc;
    }
    fsync_dir(path);
    return AIPM_OK;
}

void aipm_file_tmp_abort(int fd, const char *tmp)
{
    if (fd >= 0)
        close(fd);
    if (tmp && *tmp)
        unlink(tmp);
}

int aipm_file_write(const char *path, const void *data, size_t len,
                    unsigned mode, aipm_error *err)
{
    char tmp[4200];
    const char *p = data;
    int fd, rc;

    if ((rc = aipm_file_tmp_open(&fd, tmp, sizeof(tmp), path, mode, err)) != 0)
        return rc;
    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s%s", path,
                                n < 0 ? strerror(errno) : "short write",
                                n < 0 && errno == ENOSPC ? " (the disk is full)"
                                                         : "");
            aipm_file_tmp_abort(fd, tmp);
            return rc;
        }
        p += n;
        len -= (size_t)n;
    }
    rc = aipm_file_tmp_commit(fd, tmp, path, err);
    close(fd);
    return rc;
}

int aipm_file_read(char **out, size_t *out_len, const char *path, size_t max,
                   aipm_error *err)
{
    struct stat sb;
    char *buf = NULL;
    size_t got = 0, size;
    int fd, rc = AIPM_OK;

    *out = NULL;
    *out_len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        if (errno == ENOENT)
            return aipm_error_set(err, AIPM_ENOTFOUND, "%s does not exist",
                                  path);
        if (errno == ELOOP)
            return aipm_error_set(err, AIPM_EINVALID,
                                  "%s is a symbolic link; aipm reads only "
                                  "regular files",
                                  path);
        return aipm_error_set(err, AIPM_EIO, "cannot read %s: %s", path,
                              strerror(errno));
    }
    if (fstat(fd, &sb) != 0) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot read %s: %s", path,
                            strerror(errno));
        goto done;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s is %s, not a regular file; move it away", path,
                            kind(sb.st_mode));
        goto done;
    }
    if ((uint64_t)sb.st_size > (uint64_t)max) {
        rc = aipm_error_set(err, AIPM_EINVALID,
                            "%s is too large (%lld bytes, at most %zu)", path,
                            (long long)sb.st_size, max);
        goto done;
    }
    size = (size_t)sb.st_size;
    if ((buf = malloc(size + 1)) == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    /* The size fstat gave: a file that grows meanwhile is read to that
     * size, one that shrinks gives fewer bytes (the caller validates). */
    while (got < size) {
        ssize_t n = pread(fd, buf + got, size - got, (off_t)got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = aipm_error_set(err, AIPM_EIO, "cannot read %s: %s", path,
                                strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return rc;
}

int aipm_file_out_open(aipm_file_out *o, const char *path, unsigned mode,
                       aipm_error *err)
{
    int rc;

    memset(o, 0, sizeof(*o));
    o->fd = -1;
    snprintf(o->path, sizeof(o->path), "%s", path);
    if ((rc = aipm_file_tmp_open(&o->fd, o->tmp, sizeof(o->tmp), path, mode,
                                 err)) != 0)
        return rc;
    if ((o->f = fdopen(o->fd, "w")) == NULL) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s", path,
                            strerror(errno));
        aipm_file_tmp_abort(o->fd, o->tmp);
        o->fd = -1;
        return rc;
    }
    return AIPM_OK;
}

int aipm_file_out_commit(aipm_file_out *o, aipm_error *err)
{
    int rc;

    if (o->f == NULL)
        return aipm_error_set(err, AIPM_EIO, "cannot write %s", o->path);
    if (fflush(o->f) != 0 || ferror(o->f)) {
        rc = aipm_error_set(err, AIPM_EIO, "cannot write %s: %s%s", o->path,
                            strerror(errno),
                            errno == ENOSPC ? " (the disk is full)" : "");
        aipm_file_out_abort(o);
        return rc;
    }
    rc = aipm_file_tmp_commit(o->fd, o->tmp, o->path, err);
    fclose(o->f); /* closes fd */
    o->f = NULL;
    o->fd = -1;
    return rc;
}

void aipm_file_out_abort(aipm_file_out *o)
{
    if (o->f) {
        fclose(o->f);
        unlink(o->tmp);
    } else if (o->fd >= 0) {
        aipm_file_tmp_abort(o->fd, o->tmp);
    }
    o->f = NULL;
    o->fd = -1;
}
