/* schema.c - the PostgreSQL store's schema, as numbered migrations.
 *
 * The tables are those of the SQLite backend (sqlite/schema.c), in this
 * dialect: BIGINT for integers, DOUBLE PRECISION for reals, BYTEA for
 * blobs, and an explicit insertion-order column (rid) where SQLite has its
 * rowid. Version numbers mean the same logical schema in both dialects:
 * there were no PostgreSQL stores before version 9, so migration 1 holds
 * all of it and 2..9 are empty. Later migrations are appended to both. The
 * audit table refuses UPDATE and DELETE by trigger; the v_* views show a
 * row only when its batch is 'accepted'.
 */
#include "store/pg/pg_int.h"

#include <stdio.h>

static const char migration_1[] =
    "CREATE TABLE batches("
    " id BIGSERIAL PRIMARY KEY,"
    " dataset TEXT NOT NULL,"
    " source TEXT NOT NULL,"
    " source_sha256 TEXT NOT NULL,"
    " content_sha256 TEXT,"
    " run_id TEXT,"
    " created_ms BIGINT NOT NULL,"
    " status TEXT NOT NULL CHECK(status IN ('loading','accepted','staged',"
    "  'rejected','reverted')),"
    " verdict TEXT,"
    " n_read BIGINT, n_accepted BIGINT, n_duplicates BIGINT,"
    " n_quarantined BIGINT,"
    " report TEXT,"
    " rows_sha256 TEXT);"
    "CREATE TABLE events("
    " rid BIGSERIAL PRIMARY KEY,"
    " message_id TEXT NOT NULL,"
    " batch_id BIGINT NOT NULL,"
    " type TEXT NOT NULL,"
    " user_id TEXT, anonymous_id TEXT, event TEXT, group_id TEXT,"
    " ts BIGINT NOT NULL,"
    " payload TEXT,"
    " live SMALLINT DEFAULT 1);"
    "CREATE UNIQUE INDEX events_message_id ON events(message_id)"
    " WHERE live = 1;"
    "CREATE INDEX events_batch ON events(batch_id);"
    /* The analyses' index (SQLite builds it on first use, store.h's
     * aipm_store_analysis_index): here from the start, so an analysis on
     * a read-only connection has it too. */
    "CREATE INDEX events_user_event ON events(user_id, event, ts, batch_id);"
    "CREATE TABLE quarantine("
    " id BIGSERIAL PRIMARY KEY,"
    " batch_id BIGINT NOT NULL, dataset TEXT NOT NULL, file TEXT NOT NULL,"
    " line BIGINT NOT NULL, reason TEXT NOT NULL, detail TEXT, raw BYTEA);"
    "CREATE INDEX quarantine_reason ON quarantine(reason);"
    "CREATE TABLE event_schema("
    " event TEXT NOT NULL, property TEXT NOT NULL, type TEXT NOT NULL,"
    " version INTEGER NOT NULL, batch_id BIGINT NOT NULL,"
    " PRIMARY KEY(event, property, batch_id));"
    "CREATE TABLE daily_volume("
    " dataset TEXT NOT NULL, day BIGINT NOT NULL, batch_id BIGINT NOT NULL,"
    " n BIGINT NOT NULL);"
    "CREATE INDEX daily_volume_day ON daily_volume(dataset, day);"
    "CREATE TABLE runs("
    " rid BIGSERIAL,"
    " id TEXT PRIMARY KEY, job TEXT NOT NULL, state TEXT NOT NULL,"
    " started_ms BIGINT NOT NULL, ended_ms BIGINT,"
    " inputs TEXT, outputs TEXT, facets TEXT);"
    "CREATE TABLE audit("
    " seq BIGINT PRIMARY KEY, entry BYTEA NOT NULL, leaf BYTEA NOT NULL,"
    " root BYTEA NOT NULL);"
    "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$BEGIN RAISE EXCEPTION 'the audit log is append-only'; END$$;"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE OR DELETE ON audit"
    " FOR EACH ROW EXECUTE FUNCTION audit_append_only();"
    "CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit"
    " FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();"
    "CREATE VIEW v_events AS SELECT e.* FROM events e JOIN batches b"
    " ON b.id = e.batch_id WHERE b." PG_ACCEPTED ";"
    "CREATE TABLE decisions("
    " rid BIGSERIAL,"
    " id TEXT PRIMARY KEY, time_ms BIGINT NOT NULL, kind TEXT NOT NULL,"
    " subject TEXT NOT NULL, decision TEXT NOT NULL, inputs TEXT,"
    " params TEXT, output_sha256 TEXT NOT NULL, output TEXT,"
    " status TEXT NOT NULL DEFAULT 'proposed', model TEXT, rationale TEXT,"
    " confidence DOUBLE PRECISION, code_version TEXT, policy_sha256 TEXT);"
    "CREATE TABLE feedback_links("
    " rid BIGSERIAL,"
    " feedback_id TEXT NOT NULL, item_id TEXT NOT NULL, actor TEXT NOT NULL,"
    " time_ms BIGINT NOT NULL, PRIMARY KEY(feedback_id, item_id));"
    "CREATE TABLE audit_frontier("
    " id INTEGER PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL,"
    " nodes BYTEA NOT NULL);"
    "CREATE TABLE people("
    " name TEXT PRIMARY KEY, role TEXT NOT NULL, verifier_key TEXT,"
    " time_ms BIGINT NOT NULL);"
    "CREATE TABLE approvals("
    " seq BIGINT PRIMARY KEY, decision_id TEXT NOT NULL,"
    " action TEXT NOT NULL, \"user\" TEXT NOT NULL, time_ms BIGINT NOT NULL,"
    " reason TEXT NOT NULL, value TEXT, message TEXT NOT NULL,"
    " signature TEXT NOT NULL);"
    "CREATE INDEX approvals_decision ON approvals(decision_id);"
    "CREATE TABLE decision_inputs("
    " batch_id BIGINT NOT NULL, decision_id TEXT NOT NULL,"
    " PRIMARY KEY(batch_id, decision_id));"
    /* The analyses' reading of a payload property, as SQLite's JSON
     * functions read it (pg/metrics.c, pg/kpi.c): aipm_get is the value
     * or NULL (missing or JSON null); aipm_num its number as SQLite's
     * total() adds it (a string's leading number, true 1, anything else
     * 0); aipm_text its text as SQLite shows it (true '1', false '0'). */
    "CREATE FUNCTION aipm_get(payload text, key text) RETURNS jsonb"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
    " $$SELECT nullif(payload::jsonb -> key, 'null'::jsonb)$$;"
    "CREATE FUNCTION aipm_num(v jsonb) RETURNS double precision"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
    " $$SELECT CASE jsonb_typeof(v)"
    "  WHEN 'number' THEN (v #>> '{}')::double precision"
    "  WHEN 'boolean' THEN CASE WHEN v = 'true'::jsonb THEN 1 ELSE 0 END"
    "  WHEN 'string' THEN coalesce(substring(v #>> '{}' from"
    "   '^\\s*([-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?)')"
    "   ::double precision, 0)"
    "  ELSE 0 END$$;"
    "CREATE FUNCTION aipm_text(v jsonb) RETURNS text"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
    " $$SELECT CASE jsonb_typeof(v)"
    "  WHEN 'string' THEN v #>> '{}'"
    "  WHEN 'boolean' THEN CASE WHEN v = 'true'::jsonb THEN '1' ELSE '0' END"
    "  ELSE v::text END$$;"
    "CREATE TABLE policy_versions("
    " seq BIGINT PRIMARY KEY, time_ms BIGINT NOT NULL,"
    " policy_sha256 TEXT NOT NULL, policies TEXT NOT NULL,"
    " actor TEXT NOT NULL, reason TEXT NOT NULL);";

/* Migration 10 (sqlite/schema.c says why). */
static const char migration_10[] =
    "CREATE TABLE store_settings("
    " key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* Migration 11: the model registry and its monitoring (sqlite/schema.c
 * says why). */
static const char migration_11[] =
    "CREATE TABLE model_versions("
    " name TEXT NOT NULL, version BIGINT NOT NULL, seq BIGINT NOT NULL,"
    " time_ms BIGINT NOT NULL, actor TEXT NOT NULL,"
    " artifact_sha256 TEXT NOT NULL, artifact TEXT NOT NULL,"
    " card TEXT NOT NULL, PRIMARY KEY(name, version));"
    "CREATE TABLE model_aliases("
    " name TEXT NOT NULL, alias TEXT NOT NULL, version BIGINT NOT NULL,"
    " PRIMARY KEY(name, alias));"
    "CREATE TABLE model_alias_moves("
    " seq BIGINT PRIMARY KEY, name TEXT NOT NULL, alias TEXT NOT NULL,"
    " from_version BIGINT NOT NULL, to_version BIGINT NOT NULL,"
    " time_ms BIGINT NOT NULL, actor TEXT NOT NULL, reason TEXT NOT NULL);"
    "CREATE TABLE monitor_runs("
    " seq BIGINT PRIMARY KEY, time_ms BIGINT NOT NULL, status TEXT NOT NULL,"
    " report TEXT NOT NULL);";

/* Migration 12: the HTTP API's tokens (sqlite/schema.c says why). */
static const char migration_12[] =
    "CREATE TABLE api_tokens("
    " id BIGSERIAL PRIMARY KEY, user_name TEXT NOT NULL, name TEXT NOT NULL,"
    " token_sha256 TEXT NOT NULL UNIQUE, hint TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL, created_by TEXT, revoked_ms BIGINT,"
    " revoked_by TEXT, revoke_reason TEXT);"
    "CREATE INDEX api_tokens_user ON api_tokens(user_name);";

const char *const aipm_pg__migrations[] = {
    migration_1, "", "", "",           "",           "",
    "",          "", "", migration_10, migration_11, migration_12};
const int aipm_pg__n_migrations =
    (int)(sizeof(aipm_pg__migrations) / sizeof(aipm_pg__migrations[0]));

int aipm_pg__dataset_ddl(char *buf, size_t cap, const aipm_dataset_def *def)
{
    size_t n;
    int i;

    n = (size_t)snprintf(buf, cap,
                         "CREATE TABLE %s(rid BIGSERIAL PRIMARY KEY,"
                         " batch_id BIGINT NOT NULL, key TEXT NOT NULL,"
                         " row_sha TEXT NOT NULL",
                         def->name);
    for (i = 0; n < cap && i < def->n_cols; i++)
        n += (size_t)snprintf(
            buf + n, cap - n, ", \"%s\" %s", def->cols[i].name,
            def->cols[i].type == AIPM_COL_NUMBER ? "DOUBLE PRECISION" : "TEXT");
    if (n < cap)
        n += (size_t)snprintf(buf + n, cap - n,
                              ", live SMALLINT DEFAULT 1);"
                              "CREATE UNIQUE INDEX %s_key ON %s(key, row_sha)"
                              " WHERE live = 1;"
                              "CREATE VIEW v_%s AS SELECT t.* FROM %s t"
                              " JOIN batches b ON b.id = t.batch_id"
                              " WHERE b." PG_ACCEPTED ";",
                              def->name, def->name, def->name, def->name);
    return n < cap ? 0 : -1;
}
