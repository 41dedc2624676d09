/* feedback.h - customer feedback linked to backlog items.
 *
 * Every feedback row is linked to backlog items by the first rule that
 * applies:
 *  1. corrected: a person linked it (aipm feedback link) or unlinked it
 *     (to no item) - the correction wins over everything else;
 *  2. given: the row's own item_id names an item of the backlog;
 *  3. linked: the model's best item for its text, when the link's
 *     confidence is at least the threshold;
 *  4. needs_review: the best item with a lower confidence (not counted as
 *     demand), or no item when nothing in the text matches.
 * A message with several asks (sentences) may be linked to several items:
 * each sentence whose own best item passes the threshold adds it.
 *
 * The model (link.c) learns from the rows whose item is known (given or
 * corrected; an unlinked row is about no item): each item is scored by
 * BM25 against its title and description, separately against the text of
 * its labelled feedback (customers' own words for it), and against the
 * item-text words that customers' words were learnt to stand for, with
 * typos matched to known words within a small edit distance; a
 * conditional logit over the best candidates and a "none of them" option
 * (scored against the unlinked rows' text) turns the scores into
 * confidences, its weights fitted on the labelled rows by 5-fold
 * cross-validation. The threshold is
 * the lowest confidence at which the held-out labelled rows' links are
 * still at least 90% right; the cross-validated accuracy is reported in
 * the stats. With fewer than AIPM_LINK_MIN_LABELLED labelled rows the model
 * falls back to fixed weights (a softmax of the item-text BM25 scores
 * against a "none" score of AIPM_LINK_NONE_SCORE) and the default
 * threshold.
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
#define AIPM_LINK_MIN_LABELLED 30
#define AIPM_LINK_MAX_LABELLED 200000
#define AIPM_LINK_TARGET_PRECISION 0.9
#define AIPM_LINK_MAX_ITEMS 4 /* links of one row */
#define AIPM_LINK_CANDS 3     /* candidates shown for review */

typedef enum aipm_link_status {
    AIPM_LINK_GIVEN,
    AIPM_LINK_LINKED,
    AIPM_LINK_REVIEW,
    AIPM_LINK_CORRECTED
} aipm_link_status;

/* "given", "linked", "needs_review", "corrected". */
const char *aipm_link_status_name(aipm_link_status s);

typedef struct aipm_link_cand {
    const char *item_id;
    const char *title;
    double confidence;
} aipm_link_cand;

/* One feedback row's links. Strings are borrowed for the callback. */
typedef struct aipm_link {
    const char *feedback_id;
    const char *text;
    const char *item_id;    /* the first link (NULL: no item) */
    const char *model_item; /* the model's best item (NULL: none) */
    double score;           /* BM25 score of item_id against its item's text
                               (NAN: not among the model's candidates) */
    double confidence;      /* of model_item (NAN: no candidate) */
    aipm_link_status status;
    const char *account_id; /* the row's (may be NULL) */
    const char *created_at;
    /* Every item the row is linked to, item_id first, each once; for
     * needs_review none. item_conf: the model's confidence (NAN for a
     * given or corrected link). */
    int n_items;
    const char *items[AIPM_LINK_MAX_ITEMS];
    double item_conf[AIPM_LINK_MAX_ITEMS];
    /* The model's best items for the whole text, best first. */
    int n_cands;
    aipm_link_cand cands[AIPM_LINK_CANDS];
} aipm_link;

typedef int (*aipm_link_cb)(void *ctx, const aipm_link *l);

typedef struct aipm_link_opts {
    double threshold; /* 0: from cross-validation (or AIPM_LINK_THRESHOLD
                         with too few labelled rows) */
    aipm_progress_fn progress;
    void *progress_ctx;
    int64_t max_labelled; /* labelled rows learnt from, at most (a sample
                             of the rows whose ids hash lowest); 0:
                             AIPM_LINK_MAX_LABELLED */
} aipm_link_opts;

/* What cross-validation on the labelled rows says of the model. */
typedef struct aipm_link_eval {
    int64_t labelled;    /* rows with a known item (given or corrected) */
    int64_t learnt_from; /* of them, in the sample learnt from (all, up to
                            AIPM_LINK_MAX_LABELLED) */
    int64_t cv_rows;     /* of them held out (at most 10,000 sampled) */
    int64_t cv_none;     /* of those, unlinked rows: about no item */
    int fitted;          /* 0: too few labelled rows, fixed weights */
    double threshold;    /* used for `linked` */
    int threshold_cv;    /* 1: chosen by cross-validation */
    double top1, top3;   /* the true item first, among the best three */
    double linked_precision, linked_recall; /* of held-out rows */
    double review_share, review_top1;       /* rows below the threshold; their
                                               best item right */
    double weights[6]; /* item text, labelled text, log prior; none:
                          constant, log(1 + terms); learnt associations
                          (none also has a labelled-text score) */
} aipm_link_eval;

typedef struct aipm_link_stats {
    int64_t rows, given, linked, review, corrected;
    int64_t items; /* backlog items indexed */
    int64_t multi; /* rows linked to more than one item */
    aipm_link_eval eval;
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
