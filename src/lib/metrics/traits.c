/* traits.c - a breakdown by a trait that none of its units has.
 *
 * The breakdowns (experiment analyze --by, the adoption forecasts and
 * models --by) give a unit without the trait the level "(none)"; for a
 * misspelled trait every unit is "(none)", one segment that answers a
 * question nobody asked under the name of the one asked. The analyses
 * count their units that have the trait and, when none has, call
 * aipm_metrics_trait_unheld for the error: it asks the store whether any
 * accepted identify or group event carries the trait at all (the same
 * reads as the forecasts' segments, for every user at any time) and, when
 * none does, names the traits that the learned schema knows ("$identify"
 * and "$group", ingest/events.c), so a typo can be fixed from the message.
 */
#include "aipm/metrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KNOWN 64   /* trait names collected for the message */
#define KNOWN_TEXT 200 /* bytes of the message that list them */
#define NAME_BYTES 64  /* a longer name is cut */

typedef struct known {
    char names[MAX_KNOWN][NAME_BYTES];
    int n;
    const char *skip; /* the trait asked for */
} known;

static int on_value(void *ctx, const char *user_id, const char *value)
{
    (void)user_id;
    (void)value;
    *(int *)ctx = 1;
    return 0;
}

static int on_schema(void *ctx, const char *event, const char *property,
                     const char *type, int version)
{
    known *k = ctx;
    int i;

    (void)type;
    (void)version;
    if ((strcmp(event, "$identify") != 0 && strcmp(event, "$group") != 0) ||
        strcmp(property, k->skip) == 0 || k->n == MAX_KNOWN)
        return 0;
    for (i = 0; i < k->n; i++)
        if (strncmp(k->names[i], property, NAME_BYTES - 1) == 0)
            return 0;
    snprintf(k->names[k->n++], NAME_BYTES, "%s", property);
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* "known: a, b, c" (alphabetical, cut to KNOWN_TEXT bytes with ", ..."),
 * or "none is in the accepted data". */
static int known_text(char *out, size_t cap, aipm_store *st, const char *trait,
                      aipm_error *err)
{
    known *k = calloc(1, sizeof(*k));
    size_t n;
    int i, rc;

    if (k == NULL)
        return aipm_error_set(err, AIPM_ENOMEM, "out of memory");
    k->skip = trait;
    if ((rc = aipm_store_schema_load(st, on_schema, k, err)) != AIPM_OK) {
        free(k);
        return rc;
    }
    qsort(k->names, (size_t)k->n, NAME_BYTES, cmp_name);
    n = (size_t)snprintf(out, cap, "%s",
                         k->n ? "known:" : "none is in the accepted data");
    for (i = 0; i < k->n && n < cap; i++) {
        size_t len = strlen(k->names[i]);

        if (n + len + 8 > KNOWN_TEXT || n + len + 8 > cap) {
            snprintf(out + n, cap - n, ", ...");
            break;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s %s", i ? "," : "",
                              k->names[i]);
    }
    free(k);
    return AIPM_OK;
}

int aipm_metrics_trait_unheld(aipm_store *st, const char *who,
                              const char *trait, const char *units,
                              aipm_error *err)
{
    char list[KNOWN_TEXT + 8];
    int found = 0, rc;

    if ((rc = aipm_store_user_traits(st, trait, INT64_MAX, on_value, &found,
                                     err)) != AIPM_OK ||
        (!found &&
         (rc = aipm_store_account_traits(st, trait, INT64_MAX, on_value, &found,
                                         err)) != AIPM_OK))
        return rc;
    if (found)
        return units == NULL
                   ? AIPM_OK
                   : aipm_error_set(err, AIPM_EINVALID,
                                    "%s%sno %s has the trait '%.200s', though "
                                    "accepted identify or group events "
                                    "carry it: a breakdown by it would be "
                                    "one segment, (none)",
                                    who ? who : "", who ? ": " : "", units,
                                    trait);
    if ((rc = known_text(list, sizeof(list), st, trait, err)) != AIPM_OK)
        return rc;
    return aipm_error_set(err, AIPM_EINVALID,
                          "%s%sno user or account has the trait '%.200s' "
                          "(traits come from identify and group events; %s)",
                          who ? who : "", who ? ": " : "", trait, list);
}
