/* replay_main.c - run a fuzz target over a corpus directory, without
 * libFuzzer, so ctest replays every seed and past crash as a regression
 * test in the normal and the ASan+UBSan builds.
 *
 * Usage: replay_<target> DIR. Every regular file in DIR (not recursive,
 * hidden files skipped) is read whole and passed to LLVMFuzzerTestOneInput
 * in byte order of the names, so runs are deterministic. A target reports
 * failure by crashing or aborting; a sanitizer report aborts the process
 * too. Exit status 0 after "N passed, 0 failed"; 1 for a usage or I/O
 * error, or an empty corpus (a test that checks nothing should not pass).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Read path whole into *out (malloc'd, exactly *len bytes; at least one
 * byte is allocated so an empty file still has a valid pointer). */
static int slurp(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *grown;
    size_t cap = 0, n = 0, got;

    if (f == NULL)
        return -1;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            if ((grown = realloc(buf, cap)) == NULL)
                goto fail;
            buf = grown;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    /* Shrink to the exact size so ASan sees reads past the input. */
    if ((grown = realloc(buf, n ? n : 1)) != NULL)
        buf = grown;
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    fclose(f);
    return -1;
}

int main(int argc, char **argv)
{
    DIR *dir;
    struct dirent *de;
    char **names = NULL, **grown;
    size_t n_names = 0, cap = 0, i, passed = 0;
    int status = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 1;
    }
    if ((dir = opendir(argv[1])) == NULL) {
        fprintf(stderr, "%s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    while ((de = readdir(dir)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (n_names == cap) {
            cap = cap ? cap * 2 : 64;
            if ((grown = realloc(names, cap * sizeof(*names))) == NULL)
                goto oom;
            names = grown;
        }
        if ((names[n_names] = strdup(de->d_name)) == NULL)
            goto oom;
        n_names++;
    }
    closedir(dir);
    dir = NULL;
    if (n_names > 0)
        qsort(names, n_names, sizeof(*names), by_name);

    for (i = 0; i < n_names; i++) {
        size_t plen = strlen(argv[1]) + strlen(names[i]) + 2;
        char *path = malloc(plen);
        struct stat sb;
        uint8_t *data = NULL;
        size_t len = 0;

        if (path == NULL)
            goto oom;
        snprintf(path, plen, "%s/%s", argv[1], names[i]);
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(path);
            continue;
        }
        if (slurp(path, &data, &len) != 0) {
            fprintf(stderr, "%s: %s\n", path, strerror(errno));
            free(path);
            goto done;
        }
        fprintf(stderr, "replay %s (%zu bytes)\n", names[i], len);
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        free(path);
        passed++;
    }
    printf("%zu passed, 0 failed\n", passed);
    if (passed == 0)
        fprintf(stderr, "%s: no corpus files\n", argv[1]);
    else
        status = 0;
    goto done;
oom:
    fprintf(stderr, "out of memory\n");
done:
    if (dir != NULL)
        closedir(dir);
    for (i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    return status;
}
