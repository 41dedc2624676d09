/* lock.c - waiting for another writer's lock, and saying for whom.
 *
 * SQLite lets one writer at a time hold a store; a second one gets
 * SQLITE_BUSY unless a busy handler waits. aipm_store__on_busy waits in
 * short sleeps up to the limit the front-end sets (aipm_store_set_wait,
 * per process), telling it every few seconds how long it has waited and
 * whom for. "Whom" comes from the writer note, a small file beside the
 * store (<store>-writer) that the lock holder writes once its write
 * transaction has begun and removes before it ends, naming its process,
 * its activity (aipm_store_set_activity) and the batch it writes. The note
 * is advisory: the SQLite lock alone decides who writes, a note whose
 * process is gone is ignored, and a failure to write one changes nothing.
 * The settings are process-wide and set by the front-end before any store
 * opens; the wait state lives in each sqlite_store.
 */
#include "store/sqlite/sqlite_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    double max_seconds; /* < 0: as long as it takes */
    aipm_store_wait_fn notify;
    void *ctx;
} wait_cfg = {-1, NULL, NULL};

double aipm_store__wait_seconds(void)
{
    return wait_cfg.max_seconds;
}

/* The writer note: "<pid> <activity>[, batch N]\n" in <store>-writer,
 * written once a write transaction holds the lock (so no two writers race
 * for it), rewritten when the transaction makes a batch, and removed when
 * the transaction ends. A waiter reads it to say whom it
 * waits for; a note whose process is gone is ignored. It is advisory: a
 * failure to write it changes nothing else. */
static char activity[256];
/* A note's longest text: pid, activity, ", batch N", newline. */
#define NOTE_MAX (sizeof(activity) + 64)

void aipm_store_set_activity(const char *what)
{
    size_t i;

    snprintf(activity, sizeof(activity), "%s", what ? what : "");
    for (i = 0; activity[i]; i++)
        if ((unsigned char)activity[i] < 0x20)
            activity[i] = ' ';
}

const char *aipm_store__writer_activity(void)
{
    return activity;
}

void aipm_store__notify_wait(const char *store, const char *holder,
                             double waited)
{
    if (wait_cfg.notify)
        wait_cfg.notify(wait_cfg.ctx, store, holder, waited);
}

static int note_path(const sqlite_store *s, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s-writer", s->path);

    return s->path[0] != '\0' && s->path[0] != ':' && n > 0 && (size_t)n < cap;
}

void aipm_store__note_write(sqlite_store *s)
{
    char path[sizeof(s->path) + 16], text[NOTE_MAX];
    int n;

    if (activity[0] == '\0' || s->readonly || !note_path(s, path, sizeof(path)))
        return;
    if (s->note_batch > 0)
        n = snprintf(text, sizeof(text), "%ld %s, batch %lld\n", (long)getpid(),
                     activity, (long long)s->note_batch);
    else
        n = snprintf(text, sizeof(text), "%ld %s\n", (long)getpid(), activity);
    if (n > 0 && aipm_file_write(path, text, (size_t)n, 0600, NULL) == 0)
        s->noted = 1;
}

void aipm_store__note_remove(sqlite_store *s)
{
    char path[sizeof(s->path) + 16];

    if (s->noted && note_path(s, path, sizeof(path)))
        unlink(path);
    s->noted = 0;
    s->note_batch = 0;
}

/* The holder named by the note, "ACTIVITY (pid N)", into out; 0 when there
 * is no note or its process is gone. */
static int note_read(const sqlite_store *s, char *out, size_t cap)
{
    char path[sizeof(s->path) + 16], *text = NULL, *end;
    size_t len;
    long pid;
    int ok = 0;

    if (!note_path(s, path, sizeof(path)) ||
        aipm_file_read(&text, &len, path, NOTE_MAX, NULL) != 0)
        return 0;
    pid = strtol(text, &end, 10);
    if (pid > 0 && *end == ' ' &&
        (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
        end[strcspn(end, "\n")] = '\0';
        snprintf(out, cap, "%s (pid %ld)", end + 1, pid);
        ok = 1;
    }
    free(text);
    return ok;
}

void aipm_store_set_wait(double max_seconds, aipm_store_wait_fn notify,
                         void *ctx)
{
    wait_cfg.max_seconds = max_seconds;
    wait_cfg.notify = notify;
    wait_cfg.ctx = ctx;
}

/* SQLite's busy handler: count is 0 at the start of each wait. Sleeps in
 * short steps, tells the front-end every 3 s, and gives up (SQLITE_BUSY)
 * when the configured wait has passed. */
int aipm_store__on_busy(void *ctx, int count)
{
    sqlite_store *s = ctx;
    int64_t now = aipm_clock_ms();
    double waited;

    if (count == 0) {
        s->wait_started_ms = now;
        s->wait_told_ms = now;
    }
    waited = (double)(now - s->wait_started_ms) / 1000.0;
    if (wait_cfg.max_seconds >= 0 && waited >= wait_cfg.max_seconds) {
        s->waited_out = 1;
        return 0;
    }
    if (wait_cfg.notify &&
        (now - s->wait_told_ms >= 3000 ||
         /* The first message after 1 s, not 3: a short wait says
          * nothing, a real one says why nothing happens. */
         count == 20)) {
        char holder[NOTE_MAX];

        s->wait_told_ms = now;
        wait_cfg.notify(wait_cfg.ctx, s->path,
                        note_read(s, holder, sizeof(holder)) ? holder : NULL,
                        waited);
    }
    sqlite3_sleep(50);
    return 1;
}
