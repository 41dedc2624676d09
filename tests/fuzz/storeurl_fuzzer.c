/* storeurl_fuzzer.c - libFuzzer target for the store URL redactor.
 *
 * The input is taken as a store URL (cut at its first NUL) and redacted
 * into a buffer whose size the first byte picks (1..256), then into one
 * of full size. Each output must be NUL-terminated inside its buffer, and
 * the cut one must be a prefix of the full one, so the sanitizers see any
 * read past the URL or write past the buffer in the password scanner.
 *
 * Linked with replay_main.c into replay_storeurl_fuzzer, which ctest runs
 * over tests/fuzz/corpus/storeurl_fuzzer/.
 */
#include "aipm/store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cap = size ? (size_t)data[0] % 256 + 1 : 1, full_cap = 3 * size + 8;
    char *url = malloc(size + 1), *cut = malloc(cap), *full = malloc(full_cap);

    if (url == NULL || cut == NULL || full == NULL)
        goto done;
    memcpy(url, data, size);
    url[size] = '\0';
    aipm_store_url_redact(cut, cap, url);
    aipm_store_url_redact(full, full_cap, url);
    if (memchr(cut, '\0', cap) == NULL || memchr(full, '\0', full_cap) == NULL)
        abort();
    /* "***" for at least one byte: at most 3x the URL, so full is whole. */
    if (strncmp(cut, full, strlen(cut)) != 0)
        abort();
done:
    free(url);
    free(cut);
    free(full);
    return 0;
}
