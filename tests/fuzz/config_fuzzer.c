/* config_fuzzer.c - libFuzzer target for the aipm.yaml loader.
 *
 * The input is loaded from memory with aipm_config_load_buffer (the same
 * code path as a file, after the read). A refusal must leave *out NULL and
 * a message that names the file; an accepted configuration must keep the
 * loader's promises: keys present, one positive weight per variation
 * summing to 1, metrics and guardrails of experiments and KPIs that
 * resolve. Anything else aborts, and the sanitizers see any bad read or
 * leak in the three passes (events, known keys, typed values).
 *
 * Linked with replay_main.c into replay_config_fuzzer, which ctest runs
 * over tests/fuzz/corpus/config_fuzzer/.
 */
#include "aipm/config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const aipm_config *cfg)
{
    int i, j;

    for (i = 0; i < cfg->n_catalog; i++)
        if (cfg->catalog[i].key == NULL || cfg->catalog[i].n_events < 1)
            abort();
    for (i = 0; i < cfg->n_kpis; i++)
        if (aipm_config_metric(cfg, cfg->kpis[i].metric) == NULL)
            abort();
    for (i = 0; i < cfg->n_experiments; i++) {
        const aipm_experiment_def *e = &cfg->experiments[i];
        double total = 0;

        if (e->key == NULL || e->n_variations < 2 || e->weights == NULL)
            abort();
        for (j = 0; j < e->n_variations; j++) {
            if (!(e->weights[j] > 0))
                abort();
            total += e->weights[j];
        }
        if (fabs(total - 1) > 1e-6)
            abort();
        for (j = 0; j < e->n_metrics; j++)
            if (aipm_config_metric(cfg, e->metrics[j]) == NULL)
                abort();
        for (j = 0; j < e->n_guardrails; j++)
            if (aipm_config_metric(cfg, e->guardrails[j]) == NULL)
                abort();
    }
    if (!(cfg->data.max_quarantine_share >= 0 &&
          cfg->data.max_quarantine_share <= 1))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aipm_config *cfg = (aipm_config *)1;
    aipm_error err = {0, ""};
    int rc;

    rc = aipm_config_load_buffer(&cfg, (const char *)data, size, "fuzz.yaml",
                                 &err);
    if (rc != AIPM_OK) {
        if (cfg != NULL ||
            (rc != AIPM_ENOMEM && strncmp(err.msg, "fuzz.yaml", 9) != 0))
            abort();
        return 0;
    }
    if (cfg == NULL)
        abort();
    check(cfg);
    aipm_config_free(cfg);
    return 0;
}
