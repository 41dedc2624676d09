/* reopen.c - a second connection to a store this process has open, by its
 * namespace.
 *
 * A reader that wants a second connection to the same store (the graph
 * reads its first uses on one, in a thread) opens aipm_store_namespace()
 * of the first. A PostgreSQL namespace, postgresql://HOST:PORT/DB, names
 * the database but leaves out what the connection was made with (the
 * user, a password, sslmode and other options), so it would connect as
 * someone else, or not at all. This table remembers, for each namespace
 * this process made, the URL it was made from; opening a namespace in the
 * table opens that URL instead. It lives as long as the process, holds at
 * most N_KNOWN entries (the oldest is dropped), and is shared by the
 * threads under one mutex.
 */
#include "store/pg/pg_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define N_KNOWN 8

static struct known {
    char *ns, *url;
} known[N_KNOWN];
static int n_known, next_slot;
static pthread_mutex_t known_lock = PTHREAD_MUTEX_INITIALIZER;

char *aipm_pg__known_url(const char *url)
{
    char *out = NULL;
    int i;

    pthread_mutex_lock(&known_lock);
    for (i = 0; i < n_known; i++)
        if (strcmp(known[i].ns, url) == 0) {
            out = strdup(known[i].url);
            break;
        }
    pthread_mutex_unlock(&known_lock);
    return out;
}

void aipm_pg__remember(const char *ns, const char *url)
{
    char *ns_copy, *url_copy;
    int i;

    if (strcmp(ns, url) == 0)
        return; /* the namespace opens as it is */
    pthread_mutex_lock(&known_lock);
    for (i = 0; i < n_known; i++)
        if (strcmp(known[i].ns, ns) == 0 && strcmp(known[i].url, url) == 0)
            goto done;
    ns_copy = strdup(ns);
    url_copy = strdup(url);
    if (ns_copy == NULL || url_copy == NULL) {
        free(ns_copy);
        free(url_copy);
        goto done; /* only a second connection is lost */
    }
    /* The newest wins: a later open of the same database with other
     * credentials is the one a reopen follows. */
    for (i = 0; i < n_known; i++)
        if (strcmp(known[i].ns, ns) == 0)
            break;
    if (i == n_known) {
        if (n_known < N_KNOWN)
            i = n_known++;
        else {
            i = next_slot;
            next_slot = (next_slot + 1) % N_KNOWN;
        }
    }
    if (i < n_known && known[i].ns) {
        free(known[i].ns);
        free(known[i].url);
    }
    known[i].ns = ns_copy;
    known[i].url = url_copy;
done:
    pthread_mutex_unlock(&known_lock);
}
