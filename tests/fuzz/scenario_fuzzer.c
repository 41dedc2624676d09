/* scenario_fuzzer.c - libFuzzer target for the scenario file loader.
 *
 * The input is loaded from memory with aipm_scenario_file_load_buffer (the
 * same code path as a file, after the read). A refusal must leave *out
 * NULL and a message that names the file. An accepted file must keep the
 * loader's promises (at least one scenario, names unique, the baseline in
 * range, every value in its range, every assumption about a built item),
 * and its canonical JSON must be JSON (jansson reads it), load again as a
 * scenario file (JSON is YAML) and give the same JSON and digest: the
 * round trip that makes the digest in a decision record mean the file's
 * meaning. Anything else aborts, and the sanitizers see any bad read or
 * leak in the passes (events, known keys, typed values, JSON).
 *
 * Linked with replay_main.c into replay_scenario_fuzzer, which ctest runs
 * over tests/fuzz/corpus/scenario_fuzzer/.
 */
#include "aipm/scenario.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int built(const aipm_scenario *sc, const char *item)
{
    int i;

    for (i = 0; i < sc->n_build; i++)
        if (strcmp(sc->build[i].id, item) == 0)
            return 1;
    return 0;
}

static void check(const aipm_scenario_file *f)
{
    int i, j;

    if (f->n_scenarios < 1 || f->n_scenarios > AIPM_SCENARIO_MAX_SCENARIOS ||
        f->baseline < 0 || f->baseline >= f->n_scenarios)
        abort();
    if (f->objective.kpi == NULL || f->objective.horizon_days < 1 ||
        f->objective.horizon_days > AIPM_SCENARIO_MAX_DAYS ||
        (f->objective.kind == AIPM_SCENARIO_KPI_ADOPTERS) !=
            (f->objective.feature != NULL))
        abort();
    if (!(f->risk_aversion >= 0 && f->risk_aversion <= 1) ||
        !(f->tail > 0 && f->tail <= 1))
        abort();
    if (f->has_capacity && (!(f->weeks_per_period > 0) || f->periods < 1 ||
                            f->periods > f->objective.horizon_days))
        abort();
    if (f->has_budget && !(f->budget >= 0))
        abort();
    for (i = 0; i < f->n_scenarios; i++) {
        const aipm_scenario *sc = &f->scenarios[i];

        if (sc->name == NULL || *sc->name == '\0' ||
            aipm_scenario_file_find(f, sc->name) != i)
            abort();
        for (j = 0; j < sc->n_rollouts; j++)
            if (sc->rollouts[j].feature == NULL ||
                sc->rollouts[j].ramp_days < 0 || sc->rollouts[j].start_ms < 0)
                abort();
        for (j = 0; j < sc->n_experiments; j++)
            if (sc->experiments[j].experiment == NULL ||
                sc->experiments[j].ship == NULL)
                abort();
        for (j = 0; j < sc->n_effort; j++)
            if (!built(sc, sc->effort[j].item) || !(sc->effort[j].value > 0))
                abort();
        for (j = 0; j < sc->n_value; j++)
            if (!built(sc, sc->value[j].item) || !(sc->value[j].value >= 0))
                abort();
        if (sc->has_market_growth && !(sc->market_growth > -1))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aipm_scenario_file *f = (aipm_scenario_file *)1, *again = NULL;
    aipm_error err = {0, ""};
    char sha[65], sha_again[65], *json = NULL, *json_again = NULL;
    json_t *parsed;
    json_error_t jerr;
    int rc;

    rc = aipm_scenario_file_load_buffer(&f, (const char *)data, size,
                                        "fuzz.yaml", &err);
    if (rc != AIPM_OK) {
        if (f != NULL ||
            (rc != AIPM_ENOMEM && strncmp(err.msg, "fuzz.yaml", 9) != 0))
            abort();
        return 0;
    }
    if (f == NULL)
        abort();
    check(f);
    if (aipm_scenario_file_json(&json, sha, f, &err) != AIPM_OK)
        abort();
    if ((parsed = json_loads(json, 0, &jerr)) == NULL)
        abort();
    json_decref(parsed);
    /* The JSON is a scenario file meaning the same (when it is within
     * the size limit: written-out defaults can double a file). */
    memset(&err, 0, sizeof(err));
    if (strlen(json) <= AIPM_SCENARIO_MAX_BYTES &&
        (aipm_scenario_file_load_buffer(&again, json, strlen(json), "json",
                                        &err) != AIPM_OK ||
         aipm_scenario_file_json(&json_again, sha_again, again, &err) !=
             AIPM_OK ||
         strcmp(json, json_again) != 0 || strcmp(sha, sha_again) != 0))
        abort();
    free(json_again);
    aipm_scenario_file_free(again);
    free(json);
    aipm_scenario_file_free(f);
    return 0;
}
