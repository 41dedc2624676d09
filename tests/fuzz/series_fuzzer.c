/* series_fuzzer.c - libFuzzer target for the `period,adopters` series
 * parser and the Bass fit on what it accepts.
 *
 * Every accepted series is checked (labels NUL-terminated and non-empty,
 * values finite and >= 0) and, when short enough to fit quickly, fitted
 * in both forms; a fit must give finite p > 0, q >= 0 (a series that
 * only falls has no imitation) and m > 0, or an error.
 *
 * Linked with replay_main.c into replay_series_fuzzer, which ctest runs
 * over tests/fuzz/corpus/series_fuzzer/.
 */
#include "aipm/forecast.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aipm_series s;
    aipm_error err = {0};
    int i, f;

    if (aipm_series_parse(&s, (const char *)data, size, &err) != AIPM_OK) {
        if (err.msg[0] == '\0' || s.labels != NULL || s.values != NULL)
            abort();
        return 0;
    }
    for (i = 0; i < s.n; i++)
        if (strlen(s.labels[i]) == 0 || !isfinite(s.values[i]) ||
            s.values[i] < 0)
            abort();
    for (f = 0; s.n <= 24 && f < 2; f++) {
        aipm_bass b;
        aipm_error ferr = {0};

        if (aipm_bass_fit(&b, s.values, s.n, (aipm_bass_form)f, &ferr) ==
                AIPM_OK &&
            !(b.p > 0 && b.q >= 0 && b.m > 0 && isfinite(b.p) &&
              isfinite(b.q) && isfinite(b.m)))
            abort();
    }
    aipm_series_free(&s);
    return 0;
}
