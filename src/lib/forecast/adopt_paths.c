/* adopt_paths.c - a feature's adoption forecast as typed arrays, for the
 * scenario simulator (forecast.h: aipm_adoption_paths_get).
 *
 * The forecast itself is aipm_adoption_run's, which builds its document
 * as it computes (segments, their models, the daily intervals): this
 * reads that document into plain arrays, so a caller outside the module
 * does not walk JSON. */
#include "aipm/forecast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double aipm_adoption_path_probs[AIPM_ADOPTION_PATH_Q] = {0.025, 0.10, 0.5,
                                                               0.90, 0.975};

void aipm_adoption_paths_free(aipm_adoption_paths *p)
{
    int i;

    if (p == NULL)
        return;
    for (i = 0; i < p->n; i++) {
        free(p->seg[i].segment);
        free(p->seg[i].q);
    }
    free(p->seg);
    free(p->model);
    memset(p, 0, sizeof(*p));
}

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

int aipm_adoption_paths_get(aipm_adoption_paths *out, aipm_store *st,
                            const aipm_config *cfg, const char *feature,
                            const char *by, int horizon, uint64_t seed,
                            int64_t model_version, aipm_error *err)
{
    static const char *const keys[AIPM_ADOPTION_PATH_Q] = {
        "lo95", "lo80", "adopters", "hi80", "hi95"};
    aipm_adoption_opts o = {horizon, AIPM_ADOPTION_AUTO, 50, seed,
                            model_version};
    aipm_adoption *a = NULL;
    json_t *doc = NULL, *segs, *s, *reg;
    size_t i;
    int rc, d, k;

    memset(out, 0, sizeof(*out));
    if (horizon < 1)
        return aipm_error_set(err, AIPM_EINVALID,
                              "an adoption path needs a horizon of a day "
                              "or more");
    rc = aipm_adoption_open(&a, st, cfg, by, 0, NULL, err);
    if (rc == AIPM_OK)
        rc = aipm_adoption_run(&doc, a, feature, &o, err);
    aipm_adoption_free(a);
    if (rc != AIPM_OK)
        return rc;
    segs = json_object_get(doc, "segments");
    {
        const char *as_of = json_string_value(json_object_get(doc, "as_of"));
        int64_t ms = 0;

        if (as_of == NULL ||
            aipm_time_parse(&ms, as_of, strlen(as_of), 1) != AIPM_OK) {
            rc = aipm_error_set(err, AIPM_ERROR,
                                "the forecast of %s has no as_of day", feature);
            goto done;
        }
        out->as_of_day = ms / 86400000LL;
    }
    out->horizon = horizon;
    out->model = strdup(json_string_value(json_object_get(doc, "model"))
                            ? json_string_value(json_object_get(doc, "model"))
                            : "");
    reg = json_object_get(doc, "registry");
    if (json_is_true(json_object_get(reg, "used")))
        out->model_version =
            json_integer_value(json_object_get(reg, "version"));
    out->seg = calloc(json_array_size(segs) + 1, sizeof(*out->seg));
    if (out->model == NULL || out->seg == NULL) {
        rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
        goto done;
    }
    json_array_foreach(segs, i, s)
    {
        aipm_adoption_segment_path *p = &out->seg[out->n];
        const json_t *fc = json_object_get(s, "forecast");

        p->segment =
            strdup(json_string_value(json_object_get(s, "segment"))
                       ? json_string_value(json_object_get(s, "segment"))
                       : "");
        p->q = malloc((size_t)horizon * AIPM_ADOPTION_PATH_Q * sizeof(double));
        out->n++;
        if (p->segment == NULL || p->q == NULL) {
            rc = aipm_error_set(err, AIPM_ENOMEM, "out of memory");
            goto done;
        }
        p->users = num(s, "users");
        p->adopters = num(s, "adopters");
        if ((int)json_array_size(fc) < horizon) {
            rc = aipm_error_set(err, AIPM_ERROR,
                                "the forecast of %s in %s has %zu days, not "
                                "%d",
                                feature, p->segment, json_array_size(fc),
                                horizon);
            goto done;
        }
        for (d = 0; d < horizon; d++)
            for (k = 0; k < AIPM_ADOPTION_PATH_Q; k++) {
                double v = num(json_array_get(fc, (size_t)d), keys[k]);

                if (!isfinite(v)) {
                    rc = aipm_error_set(err, AIPM_ERROR,
                                        "the forecast of %s in %s has no %s "
                                        "on day %d",
                                        feature, p->segment, keys[k], d + 1);
                    goto done;
                }
                p->q[(size_t)d * AIPM_ADOPTION_PATH_Q + (size_t)k] = v;
            }
    }
done:
    json_decref(doc);
    if (rc != AIPM_OK)
        aipm_adoption_paths_free(out);
    return rc;
}
