/* schema.c - the SQLite store's schema, as numbered migrations.
 *
 * Each migration is SQL text that sqlite/store.c's migrate() applies in one
 * transaction at open and records in schema_migrations; a store's schema
 * version is the number of the last one applied. Migrations are only ever
 * appended: a released one never changes, so every store reaches the same
 * schema whatever version it starts from. The CSV datasets' tables are not
 * here: migration 1 is followed by their DDL, built from the contracts in
 * datasets.c. Visibility views (v_events, ...) show a row only when its
 * batch is 'accepted'; the audit table refuses UPDATE and DELETE by
 * trigger.
 */
#include "store/sqlite/sqlite_int.h"

static const char migration_1[] =
    "CREATE TABLE batches("
    " id INTEGER PRIMARY KEY,"
    " dataset TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " source_sha256 TEXT NOT NULL,"
    " content_sha256 TEXT,"
    " run_id TEXT,"
    " created_ms INTEGER NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('loading','accepted','staged',"
    "  'rejected','reverted')),"
    " verdict TEXT,"
    " n_read INTEGER, n_accepted INTEGER, n_duplicates INTEGER,"
    " n_quarantined INTEGER,"
    " report TEXT);"
    "CREATE TABLE events("
    " message_id TEXT NOT NULL,"
    " batch_id INTEGER NOT NULL,"
    " type TEXT NOT NULL,"
    " user_id TEXT, anonymous_id TEXT, event TEXT, group_id TEXT,"
    " ts INTEGER NOT NULL,"
    " payload TEXT,"
    " live INTEGER DEFAULT 1);"
    "CREATE UNIQUE INDEX events_message_id ON events(message_id)"
    " WHERE live = 1;"
    "CREATE TABLE quarantine("
    " id INTEGER PRIMARY KEY,"
    " batch_id INTEGER NOT NULL, dataset TEXT NOT NULL, file TEXT NOT NULL,"
    " line INTEGER NOT NULL, reason TEXT NOT NULL, detail TEXT, raw BLOB);"
    "CREATE INDEX quarantine_reason ON quarantine(reason);"
    "CREATE TABLE event_schema("
    " event TEXT NOT NULL, property TEXT NOT NULL, type TEXT NOT NULL,"
    " version INTEGER NOT NULL, batch_id INTEGER NOT NULL,"
    " PRIMARY KEY(event, property, batch_id));"
    "CREATE TABLE daily_volume("
    " dataset TEXT NOT NULL, day INTEGER NOT NULL, batch_id INTEGER NOT NULL,"
    " n INTEGER NOT NULL);"
    "CREATE INDEX daily_volume_day ON daily_volume(dataset, day);"
    "CREATE TABLE runs("
    " id TEXT PRIMARY KEY, job TEXT NOT NULL, state TEXT NOT NULL,"
    " started_ms INTEGER NOT NULL, ended_ms INTEGER,"
    " inputs TEXT, outputs TEXT, facets TEXT);"
    "CREATE TABLE audit("
    " seq INTEGER PRIMARY KEY, entry BLOB NOT NULL, leaf BLOB NOT NULL,"
    " root BLOB NOT NULL);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE VIEW v_events AS SELECT e.* FROM events e JOIN batches b"
    " ON b.id = e.batch_id WHERE b." SQ_ACCEPTED ";";

/* Migration 2: decision records (kept simple until the governance
 * module: what was decided, from which inputs, with which parameters, and
 * the digest of the full output). */
static const char migration_2[] =
    "CREATE TABLE decisions("
    " id TEXT PRIMARY KEY, time_ms INTEGER NOT NULL, kind TEXT NOT NULL,"
    " subject TEXT NOT NULL, decision TEXT NOT NULL, inputs TEXT,"
    " params TEXT, output_sha256 TEXT NOT NULL);";

/* Migration 3: a person's corrections of feedback links, which win over
 * the model (item_id NULL: about no item). */
static const char migration_3[] =
    "CREATE TABLE feedback_links("
    " feedback_id TEXT PRIMARY KEY, item_id TEXT, actor TEXT NOT NULL,"
    " time_ms INTEGER NOT NULL);";

/* Migration 4: a row may be corrected to several items (a message with
 * several asks), so the key is (feedback_id, item_id); '' marks a row
 * about no item (it was NULL). */
static const char migration_4[] =
    "CREATE TABLE feedback_links_4("
    " feedback_id TEXT NOT NULL, item_id TEXT NOT NULL, actor TEXT NOT NULL,"
    " time_ms INTEGER NOT NULL, PRIMARY KEY(feedback_id, item_id));"
    "INSERT INTO feedback_links_4 SELECT feedback_id, coalesce(item_id, ''),"
    " actor, time_ms FROM feedback_links;"
    "DROP TABLE feedback_links;"
    "ALTER TABLE feedback_links_4 RENAME TO feedback_links;";

/* Migration 5: a decision record keeps its full output (canonical JSON,
 * whose SHA-256 is output_sha256), so it can be shown and compared later,
 * and a status (proposed until the approvals of the governance issue). */
static const char migration_5[] =
    "ALTER TABLE decisions ADD COLUMN output TEXT;"
    "ALTER TABLE decisions ADD COLUMN status TEXT NOT NULL"
    " DEFAULT 'proposed';";

/* Migration 6: the audit log's frontier (the roots of its perfect
 * subtrees after `size` entries), so an append continues from it instead
 * of reading the whole log (at 60,000 entries an append took 8 ms, and
 * growing). Not evidence: verify recomputes everything from the entries;
 * a wrong frontier only makes the next heads wrong, which verify names. */
static const char migration_6[] =
    "CREATE TABLE IF NOT EXISTS audit_frontier("
    " id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER NOT NULL,"
    " nodes BLOB NOT NULL);";

/* Migration 7: people and their acts. people holds each person's role and
 * verifier key (the secret stays in the person's key folder); approvals
 * holds each approve, reject or override of a decision with the message
 * the person signed and the signature. Both are indexes of the audit log,
 * which holds the same messages and signatures and is what verify trusts. */
static const char migration_7[] =
    "CREATE TABLE people("
    " name TEXT PRIMARY KEY, role TEXT NOT NULL, verifier_key TEXT,"
    " time_ms INTEGER NOT NULL);"
    "CREATE TABLE approvals("
    " seq INTEGER PRIMARY KEY, decision_id TEXT NOT NULL,"
    " action TEXT NOT NULL, user TEXT NOT NULL, time_ms INTEGER NOT NULL,"
    " reason TEXT NOT NULL, value TEXT, message TEXT NOT NULL,"
    " signature TEXT NOT NULL);"
    "CREATE INDEX approvals_decision ON approvals(decision_id);";

/* Migration 8: what a decision record says about itself (the model, the
 * rationale in words, the confidence, the code and policy versions), the
 * batches each record read (so reverting one marks the records stale),
 * and the digest of each batch's stored rows. */
static const char migration_8[] =
    "ALTER TABLE decisions ADD COLUMN model TEXT;"
    "ALTER TABLE decisions ADD COLUMN rationale TEXT;"
    "ALTER TABLE decisions ADD COLUMN confidence REAL;"
    "ALTER TABLE decisions ADD COLUMN code_version TEXT;"
    "ALTER TABLE decisions ADD COLUMN policy_sha256 TEXT;"
    "ALTER TABLE batches ADD COLUMN rows_sha256 TEXT;"
    "CREATE TABLE decision_inputs("
    " batch_id INTEGER NOT NULL, decision_id TEXT NOT NULL,"
    " PRIMARY KEY(batch_id, decision_id));";

/* Migration 9: the policy versions in force over time (the latest is the
 * one to compare aipm.yaml with), each also an audit entry "policy". */
static const char migration_9[] =
    "CREATE TABLE policy_versions("
    " seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
    " policy_sha256 TEXT NOT NULL, policies TEXT NOT NULL,"
    " actor TEXT NOT NULL, reason TEXT NOT NULL);";

/* Migration 10: the store's own settings. "events_store" names where a
 * workspace's raw events live when not here (ClickHouse, redacted URL),
 * so that opening it without its events store, or adding one to a
 * workspace whose events are here, is an error rather than an analysis
 * of no events. */
static const char migration_10[] =
    "CREATE TABLE store_settings("
    " key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* Migration 11: the model registry and its monitoring. A version is
 * immutable (its parameters, their digest, its card); an alias points at
 * one version of its model, and every move of an alias is logged with
 * who, when, from, to and why; each monitoring run keeps its report (for
 * `aipm monitor --history`) - each row also an audit entry. */
static const char migration_11[] =
    "CREATE TABLE model_versions("
    " name TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " time_ms INTEGER NOT NULL, actor TEXT NOT NULL,"
    " artifact_sha256 TEXT NOT NULL, artifact TEXT NOT NULL,"
    " card TEXT NOT NULL, PRIMARY KEY(name, version));"
    "CREATE TABLE model_aliases("
    " name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,"
    " PRIMARY KEY(name, alias));"
    "CREATE TABLE model_alias_moves("
    " seq INTEGER PRIMARY KEY, name TEXT NOT NULL, alias TEXT NOT NULL,"
    " from_version INTEGER NOT NULL, to_version INTEGER NOT NULL,"
    " time_ms INTEGER NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE TABLE monitor_runs("
    " seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, status TEXT NOT NULL,"
    " report TEXT NOT NULL);";

/* Migration 12: the HTTP API's tokens. Only the SHA-256 of a token is
 * kept (the token is shown once, when made), with its first characters as
 * a hint; a revoked token keeps its row, with who revoked it and why.
 * Each creation and revocation is also a signed audit entry. */
static const char migration_12[] =
    "CREATE TABLE api_tokens("
    " id INTEGER PRIMARY KEY, user_name TEXT NOT NULL, name TEXT NOT NULL,"
    " token_sha256 TEXT NOT NULL UNIQUE, hint TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, created_by TEXT, revoked_ms INTEGER,"
    " revoked_by TEXT, revoke_reason TEXT);"
    "CREATE INDEX api_tokens_user ON api_tokens(user_name);";

/* The migrations in order: migration n is aipm_store__migrations[n - 1]
 * (the first also creates the CSV datasets' tables, from their
 * contracts). */
const char *const aipm_store__migrations[] = {
    migration_1, migration_2,  migration_3,  migration_4,
    migration_5, migration_6,  migration_7,  migration_8,
    migration_9, migration_10, migration_11, migration_12};
const int aipm_store__n_migrations =
    (int)(sizeof(aipm_store__migrations) / sizeof(aipm_store__migrations[0]));
