/* feedback.h - customer feedback linked to backlog items.
 *
 * Every feedback row gets at most one backlog item, by the first rule that
 * applies:
 *  1. corrected: a person linked it (aipm feedback link) or unlinked it
 *     (to no item) - the correction wins over everything else;
 *  2. given: the row's own item_id names an item of the backlog;
 *  3. linked: the BM25 best item for its text, when the link's confidence
 *     is at least the threshold;
 *  4. needs_review: the best item with a lower confidence (not counted as
 *     demand), or no item when no term of the text is in any item.
 * The confidence of the best of the top AIPM_LINK_TOP items is a softmax
 * over their BM25 scores and a "none of them" alternative scored
 * AIPM_LINK_NONE_SCORE: e^s1 / (e^none + sum_i e^si). It is high when one
 * item stands out, low when several match about as well or only common
 * words match.
 *
 * The links are computed from the accepted backlog and feedback on every
 * call (the newest version of each row), so they never go stale; only the
 * corrections are stored.
 */
#ifndef AIPM_FEEDBACK_H
#define AIPM_FEEDBACK_H

#include "aipm/core.h"
#include "aipm/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AIPM_LINK_TOP 5
#define AIPM_LINK_NONE_SCORE 4.0
#define AIPM_LINK_THRESHOLD 0.5

typedef enum aipm_link_status {
    AIPM_LINK_GIVEN,
    AIPM_LINK_LINKED,
    AIPM_LINK_REVIEW,
    AIPM_LINK_CORRECTED
} aipm_link_status;

/* "given", "linked", "needs_review", "corrected". */
const char *aipm_link_status_name(aipm_link_status s);

/* One feedback row's link. Strings are borrowed for the callback. */
typedef struct aipm_link {
    const char *feedback_id;
    const char *item_id;    /* the link (NULL: no item) */
    const char *model_item; /* the model's best item (NULL: none) */
    double score;      /* BM25 score of item_id for the text (NAN: not among
                          the model's top items) */
    double confidence; /* of model_item (NAN: no candidate) */
    aipm_link_status status;
    const char *account_id; /* the row's (may be NULL) */
    const char *created_at;
} aipm_link;

typedef int (*aipm_link_cb)(void *ctx, const aipm_link *l);

typedef struct aipm_link_opts {
    double threshold; /* 0: AIPM_LINK_THRESHOLD */
    aipm_progress_fn progress;
    void *progress_ctx;
} aipm_link_opts;

typedef struct aipm_link_stats {
    int64_t rows, given, linked, review, corrected;
    int64_t items; /* backlog items indexed */
} aipm_link_stats;

/* Link every feedback row, in ingest order, calling cb for each (a
 * non-zero return stops the walk and is returned). stats may be NULL. */
int aipm_feedback_links(aipm_store *st, const aipm_link_opts *o,
                        aipm_link_cb cb, void *ctx, aipm_link_stats *stats,
                        aipm_error *err);

/* A person's correction, audited: link feedback_id to item_id, or with
 * unlink, record that it is not about item_id (it is then about no item).
 * Both must exist in the accepted data. The audit checkpoint file is
 * updated when checkpoint_path is not NULL. */
int aipm_feedback_correct(aipm_store *st, const char *feedback_id,
                          const char *item_id, int unlink,
                          const char *checkpoint_path, aipm_error *err);

#ifdef __cplusplus
}
#endif
#endif
