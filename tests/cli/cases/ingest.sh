# Ingest hardening (issue 12): CSV re-synchronisation after a stray quote,
# the 4 KiB raw cap, decimal-only numbers stored as REAL, NUL bytes, the
# bounded quarantine, wrong-file hints and key conflicts. Sourced by
# tests/cli/run.sh; expected counts come from each test's own generator.

# A feedback CSV of 2,000 records: record 3 has a stray quote, records 500
# and 1000 have a legitimate 3-line quoted text. Hand count: 2,000 records
# (2,004 physical lines after the header) -> read 2000, quarantined 1 (the
# stray-quote line, line 4 of the file), accepted 1999.
case_ingest_stray_quote_resync() {
    local W
    mkws stray; W=$WS
    "$PY" - "$T/fb.csv" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,created_at,source,user_id,account_id,score,item_id,text\n")
    for i in range(1, 2001):
        if i == 3:
            text = '"stray quote, never closed'
        elif i in (500, 1000):
            text = '"line one\nline two, with a comma\nline three"'
        else:
            text = "plain text %d" % i
        f.write("FB-%d,2026-09-01,nps,u-%d,,5,,%s\n" % (i, i, text))
EOF
    ingest_json "$W" feedback "$T/fb.csv" "$T/r.json"
    expect_rc 0 "ingest feedback with one stray quote (1 of 2000 is under 5%)"
    pycheck "$T/r.json" '
got = (d["read"], d["accepted"], d["duplicates"], d["quarantined"])
want(got == (2000, 1999, 0, 1), "read/accepted/duplicates/quarantined %r, expected (2000, 1999, 0, 1)" % (got,))
want(d["quarantine_reasons"] == {"malformed_csv": 1}, "reasons %r" % d["quarantine_reasons"])'
    [ "$(sql "$W/aipm.db" "SELECT line FROM quarantine")" = 4 ] ||
        fail "quarantined line $(sql "$W/aipm.db" "SELECT line FROM quarantine"), expected 4"
    [ "$(sql "$W/aipm.db" "SELECT count(*) FROM feedback WHERE id IN ('FB-4','FB-499','FB-2000')")" = 3 ] ||
        fail "rows after the stray quote are missing"
    [ "$(sql "$W/aipm.db" "SELECT text FROM feedback WHERE id = 'FB-500'" | wc -l)" = 3 ] ||
        fail "the 3-line quoted text of FB-500 was not kept whole"
}

# Every quarantined raw text keeps its first 4 KiB, whatever the reason:
# a 10,000-byte backlog line with a bad effort is a bad_value.
case_ingest_quarantine_raw_4k() {
    local W n
    mkws raw4k; W=$WS
    "$PY" - "$T/b.csv" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,title,description,effort,status,created_at\n")
    f.write("BL-1,Long,%s,lots,idea,2026-09-01\n" % ("d" * 10000))
    f.write("BL-2,Short,ok,2,idea,2026-09-01\n")
EOF
    ingest_json "$W" backlog "$T/b.csv" "$T/r.json"
    expect_rc 3 "ingest backlog (1 of 2 quarantined: blocked)"
    n=$(sql "$W/aipm.db" "SELECT reason || ' ' || length(raw) FROM quarantine")
    [ "$n" = "bad_value 4096" ] || fail "quarantine row '$n', expected 'bad_value 4096'"
}

# Numbers: only decimals pass, and they are stored as REAL. Hand count:
# 5 rows pass (3, 2.5, 1e2, +4, .5), 6 are bad_value (0x10, inf, nan, 1e,
# " 1" quoted, 1.2.3).
case_ingest_decimal_numbers() {
    sqlite_only "reads SQLite's storage classes (typeof)"
    local W got
    mkws num; W=$WS
    cat >"$T/b.csv" <<'EOF'
id,title,effort,status,created_at
BL-1,a,3,idea,2026-09-01
BL-2,b,2.5,idea,2026-09-01
BL-3,c,1e2,idea,2026-09-01
BL-4,d,+4,idea,2026-09-01
BL-5,e,.5,idea,2026-09-01
BL-6,f,0x10,idea,2026-09-01
BL-7,g,inf,idea,2026-09-01
BL-8,h,nan,idea,2026-09-01
BL-9,i,1e,idea,2026-09-01
BL-10,j," 1",idea,2026-09-01
BL-11,k,1.2.3,idea,2026-09-01
EOF
    ingest_json "$W" backlog "$T/b.csv" "$T/r.json"
    expect_rc 3 "ingest backlog with 6 bad numbers of 11"
    pycheck "$T/r.json" '
got = (d["read"], d["accepted"], d["quarantined"])
want(got == (11, 5, 6), "read/accepted/quarantined %r, expected (11, 5, 6)" % (got,))
want(d["quarantine_reasons"] == {"bad_value": 6}, "reasons %r" % d["quarantine_reasons"])'
    got=$(sql "$W/aipm.db" "SELECT group_concat(id || '=' || typeof(effort) || ':' || effort, ' ') FROM (SELECT * FROM backlog ORDER BY rid)")
    [ "$got" = "BL-1=real:3.0 BL-2=real:2.5 BL-3=real:100.0 BL-4=real:4.0 BL-5=real:0.5" ] ||
        fail "stored efforts: $got"
}

# A raw NUL inside a quoted field quarantines the row (bad_value).
case_ingest_nul_in_quoted_field() {
    local W
    mkws nul; W=$WS
    printf 'id,created_at,source,text\nFB-1,2026-09-01,nps,"abc\000def"\nFB-2,2026-09-01,nps,fine\n' >"$T/f.csv"
    ingest_json "$W" feedback "$T/f.csv" "$T/r.json"
    expect_rc 3 "ingest feedback with a NUL (1 of 2: blocked)"
    pycheck "$T/r.json" '
got = (d["read"], d["accepted"], d["quarantined"])
want(got == (2, 1, 1), "read/accepted/quarantined %r, expected (2, 1, 1)" % (got,))
want(d["quarantine_reasons"] == {"bad_value": 1}, "reasons %r" % d["quarantine_reasons"])'
    [ "$(sql "$W/aipm.db" "SELECT count(*) FROM feedback WHERE id = 'FB-1'")" = 0 ] ||
        fail "the row with a NUL was stored (cut short)"
}

# 25,000 bad signals lines of ~1 KB with max_quarantine_samples 10000:
# all 25,000 counted, 10,000 stored, 15,000 reported as not stored, and
# the store grows by about 10,000 x 1 KB, not 25 MB. Then the key set to 5.
case_ingest_quarantine_bounded() {
    local W n before after
    mkws qb; W=$WS
    sed -i 's/^\(    max_quarantine_share: .*\)$/\1\n    max_quarantine_samples: 10000/' "$W/aipm.yaml"
    grep -q 'max_quarantine_samples: 10000' "$W/aipm.yaml" || fail "could not set the key in aipm.yaml"
    "$PY" - "$T/s.csv" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("date,signal,area,value\n")
    for i in range(25000):
        f.write("2026-09-01,s%d,%s,notanumber\n" % (i, "a" * 1000))
EOF
    before=$(store_bytes "$W")
    ingest_json "$W" signals "$T/s.csv" "$T/r.json"
    expect_rc 3 "ingest 25,000 bad rows (blocked)"
    after=$(store_bytes "$W")
    pycheck "$T/r.json" '
want(d["quarantined"] == 25000, "quarantined %r" % d["quarantined"])
want(d["quarantine_reasons"] == {"bad_value": 25000}, "reasons %r" % d["quarantine_reasons"])
want(d.get("quarantine_not_stored") == {"bad_value": 15000}, "not stored %r" % d.get("quarantine_not_stored"))'
    n=$(sql "$W/aipm.db" "SELECT count(*) FROM quarantine")
    [ "$n" = 10000 ] || fail "$n quarantine rows stored, expected 10000"
    # 10,000 rows of ~1,040 bytes (+ detail) is ~11 MB; all 25,000 would be 26 MB
    [ $((after - before)) -lt 16000000 ] || fail "the store grew by $((after - before)) bytes"
    A -C "$W" ingest signals "$T/s.csv"
    grep -q "not stored.*15000 bad_value" "$OUT" ||
        fail "human report lacks the not-stored line: $(head -c 600 "$OUT")"
    mkws qb5; W=$WS
    sed -i 's/^\(    max_quarantine_share: .*\)$/\1\n    max_quarantine_samples: 5/' "$W/aipm.yaml"
    ingest_json "$W" signals "$T/s.csv" "$T/r5.json"
    n=$(sql "$W/aipm.db" "SELECT count(*) FROM quarantine")
    [ "$n" = 5 ] || fail "max_quarantine_samples 5: $n rows stored"
}

# The wrong file for a dataset is refused with a hint, nothing stored.
case_ingest_wrong_file_hint() {
    local W
    mkws wrong; W=$WS
    A -C "$W" ingest backlog "$EX/events.ndjson"
    expect_rc 1 "ingest backlog events.ndjson"
    expect_one_line_stderr "ingest backlog events.ndjson"
    grep -q 'aipm ingest events' "$ERR" || fail "no hint: $(errtext)"
    cp "$EX/events.ndjson" "$T/events.csv"
    A -C "$W" ingest feedback "$T/events.csv"
    expect_rc 1 "ingest feedback events.csv (NDJSON named .csv)"
    grep -q 'looks like NDJSON.*aipm ingest events' "$ERR" || fail "no NDJSON hint: $(errtext)"
    A -C "$W" ingest signals "$EX/feedback.csv"
    expect_rc 1 "ingest signals feedback.csv"
    grep -q 'feedback dataset.*aipm ingest feedback' "$ERR" || fail "no dataset hint: $(errtext)"
    A -C "$W" ingest events "$EX/backlog.csv"
    expect_rc 1 "ingest events backlog.csv"
    grep -q 'aipm ingest backlog' "$ERR" || fail "no dataset hint: $(errtext)"
    [ "$(sql "$W/aipm.db" "SELECT count(*) FROM batches")" = 0 ] || fail "a batch was stored"
    [ "$(sql "$W/aipm.db" "SELECT count(*) FROM quarantine")" = 0 ] || fail "rows were quarantined"
    # CSV on standard input without --format: told by its first byte
    timeout 60 "$AIPM" -C "$W" ingest backlog - --json <"$EX/backlog.csv" >"$T/b.json" 2>"$ERR"
    RC=$?
    expect_rc 0 "ingest backlog - (CSV on stdin, no --format)"
    pycheck "$T/b.json" '
want((d["read"], d["accepted"], d["format"]) == (25, 25, "csv"), "read/accepted/format %r" % ((d["read"], d["accepted"], d["format"]),))'
}

# A key repeated with other content in one file is counted and shown;
# an unknown column is shown in the human output.
case_ingest_key_conflicts() {
    local W
    mkws keys; W=$WS
    cat >"$T/b.csv" <<'EOF'
id,title,effort,status,created_at,owner
BL-1,first,1,idea,2026-09-01,ann
BL-2,two,2,idea,2026-09-01,bob
BL-1,changed,1,idea,2026-09-01,ann
BL-2,two,2,idea,2026-09-01,bob
EOF
    ingest_json "$W" backlog "$T/b.csv" "$T/r.json"
    expect_rc 0 "ingest backlog with a repeated key"
    pycheck "$T/r.json" '
want(d.get("key_conflicts") == 1, "key_conflicts %r, expected 1 (BL-1)" % d.get("key_conflicts"))
want(d.get("key_conflict_samples") == ["BL-1"], "samples %r" % d.get("key_conflict_samples"))
want(d["duplicates"] == 1, "duplicates %r (the second BL-2)" % d["duplicates"])'
    mkws keys2; W=$WS
    A -C "$W" ingest backlog "$T/b.csv"
    expect_rc 0 "ingest backlog (human)"
    grep -q "key conflicts *1 .*BL-1" "$OUT" || fail "no key conflicts line: $(head -c 600 "$OUT")"
    grep -q "ignored columns *owner" "$OUT" || fail "no ignored columns line: $(head -c 600 "$OUT")"
}

# The 4 KiB raw cap backs up to a character boundary: "BL-1,Longx," is 11
# bytes and each 'é' 2, so a byte cut at 4096 would split the 2,043rd 'é'
# (11 + 2*2042 = 4095); kept: 4095 bytes of valid UTF-8, and the JSON raw
# shows the text as is. A raw text with one invalid byte (\xff) escapes
# only that byte: 'Café \xff'.
case_ingest_raw_cut_utf8() {
    sqlite_only "reads SQLite's blob lengths"
    local W n
    mkws rawutf8; W=$WS
    "$PY" - "$T/b.csv" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"id,title,description,effort,status,created_at\n")
    f.write(("BL-1,Longx," + "\u00e9" * 5000 + ",lots,idea,2026-09-01\n").encode())
    f.write(b"BL-2,Caf\xc3\xa9 \xff,x,2,idea,2026-09-01\n")
    f.write(b"BL-3,Short,ok,2,idea,2026-09-01\n")
EOF
    ingest_json "$W" backlog "$T/b.csv" "$T/r.json"
    expect_rc 3 "ingest backlog (2 of 3 quarantined: blocked)"
    n=$(sql "$W/aipm.db" "SELECT length(CAST(raw AS BLOB)) FROM quarantine WHERE line = 2")
    [ "$n" = 4095 ] || fail "kept $n bytes of the long raw text, expected 4095"
    A -C "$W" quarantine --json
    expect_rc 0 "quarantine --json"
    cp "$OUT" "$T/q.json"
    pycheck "$T/q.json" '
raw = {r["line"]: r["raw"] for r in d["rows"]}
want(raw[2] == "BL-1,Longx," + "\u00e9" * 2042, "long raw garbled: %r" % raw[2][:40])
want(raw[3] == "BL-2,Caf\u00e9 \\xff,x,2,idea,2026-09-01", "invalid raw: %r" % raw[3])'
}

# A subnormal decimal (1e-310) is a number (strtod flags its underflow
# with ERANGE; it rounds toward 0); 1e400 overflows a double and is not.
case_ingest_subnormal_number() {
    sqlite_only "reads SQLite's storage classes (typeof)"
    local W got
    mkws subn; W=$WS
    cat >"$T/b.csv" <<'EOF'
id,title,effort,status,created_at
BL-1,a,1e-310,idea,2026-09-01
BL-2,b,1e400,idea,2026-09-01
BL-3,c,2,idea,2026-09-01
EOF
    ingest_json "$W" backlog "$T/b.csv" "$T/r.json"
    expect_rc 3 "ingest backlog with one overflowing number of 3"
    pycheck "$T/r.json" '
got = (d["read"], d["accepted"], d["quarantined"])
want(got == (3, 2, 1), "read/accepted/quarantined %r, expected (3, 2, 1)" % (got,))'
    got=$(sql "$W/aipm.db" "SELECT group_concat(id || '=' || typeof(effort), ' ') FROM (SELECT * FROM backlog ORDER BY rid)")
    [ "$got" = "BL-1=real BL-3=real" ] || fail "stored efforts: $got"
}

# A feedback NDJSON given to `ingest events` is refused by its first
# object (no messageId/type, the feedback columns) with a hint, and
# nothing is stored: it used to be staged with every row missing_field.
case_ingest_events_wrong_ndjson() {
    local W
    mkws evwrong; W=$WS
    cat >"$T/fb.ndjson" <<'EOF'
{"id":"FB-1","created_at":"2026-09-01","source":"nps","text":"hi"}
{"id":"FB-2","created_at":"2026-09-01","source":"nps","text":"ho"}
EOF
    A -C "$W" ingest events "$T/fb.ndjson"
    expect_rc 1 "ingest events fb.ndjson (feedback NDJSON)"
    expect_one_line_stderr "ingest events fb.ndjson"
    grep -q 'feedback dataset.*aipm ingest feedback' "$ERR" || fail "no hint: $(errtext)"
    [ "$(sql "$W/aipm.db" "SELECT count(*) FROM batches")" = 0 ] || fail "a batch was stored"
    [ "$(sql "$W/aipm.db" "SELECT count(*) FROM quarantine")" = 0 ] || fail "rows were quarantined"
}

# A file whose name has no known extension (f.txt, none) is sniffed like
# standard input: CSV here (2 rows, both accepted), NDJSON when it starts
# with '{'; the report says the format came from the content.
case_ingest_unknown_extension_sniffed() {
    local W
    mkws sniff; W=$WS
    printf 'id,created_at,source,text\nFB-1,2026-09-01,nps,hi\nFB-2,2026-09-01,nps,ho\n' >"$T/f.txt"
    ingest_json "$W" feedback "$T/f.txt" "$T/r.json"
    expect_rc 0 "ingest feedback f.txt (CSV)"
    pycheck "$T/r.json" '
got = (d["read"], d["accepted"], d["quarantined"], d["format"], d.get("format_from"))
want(got == (2, 2, 0, "csv", "content"), "read/accepted/quarantined/format %r" % (got,))
want("read as CSV, detected from the content" in d.get("note", ""), "note %r" % d.get("note"))'
    printf '{"id":"FB-3","created_at":"2026-09-01","source":"nps","text":"hi"}\n' >"$T/fbnoext"
    ingest_json "$W" feedback "$T/fbnoext" "$T/r2.json"
    expect_rc 0 "ingest feedback fbnoext (NDJSON)"
    pycheck "$T/r2.json" '
got = (d["read"], d["accepted"], d["format"], d.get("format_from"))
want(got == (1, 1, "ndjson", "content"), "read/accepted/format %r" % (got,))'
    A -C "$W" ingest feedback "$T/f.txt"
    grep -q "note *read as CSV, detected from the content" "$OUT" ||
        fail "human report does not say the format: $(head -c 600 "$OUT")"
}

# A stray quote closed by a later line with the header's field count used
# to make one "valid" record swallowing the lines between (read 2,
# accepted 2). Lines 2..4 of the review's repro after the header: line 3
# alone is a full record, so the quote on line 2 is stray. Hand count:
# records 2 (bad), 3, 4 (bad: `y"` breaks strict quoting alone), 5 ->
# read 4, accepted 2, quarantined 2. A legit 3-line text with commas
# (FB-9; inner line has 3 fields, not 8) stays one record.
case_ingest_stray_quote_closed_later() {
    local W
    mkws strayclosed; W=$WS
    cat >"$T/fb.csv" <<'EOF'
id,created_at,source,text
1,2024-01-01,app,"oops
2,2024-01-01,app,x
3,2024-01-01,app,y"
4,2024-01-01,app,z
EOF
    ingest_json "$W" feedback "$T/fb.csv" "$T/r.json"
    expect_rc 3 "ingest feedback with a stray quote closed later (2 of 4 bad)"
    pycheck "$T/r.json" '
got = (d["read"], d["accepted"], d["duplicates"], d["quarantined"])
want(got == (4, 2, 0, 2), "read/accepted/duplicates/quarantined %r, expected (4, 2, 0, 2)" % (got,))'
    [ "$(sql "$W/aipm.db" "SELECT group_concat(id, ' ') FROM (SELECT id FROM feedback ORDER BY id) x")" = "2 4" ] ||
        fail "stored ids: $(sql "$W/aipm.db" "SELECT group_concat(id, ' ') FROM feedback")"
    mkws legit; W=$WS
    cat >"$T/fb2.csv" <<'EOF'
id,created_at,source,user_id,account_id,score,item_id,text
FB-8,2026-09-01,nps,u-8,,5,,plain
FB-9,2026-09-01,nps,u-9,,5,,"first line
second, with, three, commas
end"
FB-10,2026-09-01,nps,u-10,,5,,plain
EOF
    ingest_json "$W" feedback "$T/fb2.csv" "$T/r2.json"
    expect_rc 0 "ingest feedback with a legit multi-line text"
    pycheck "$T/r2.json" '
got = (d["read"], d["accepted"], d["quarantined"])
want(got == (3, 3, 0), "read/accepted/quarantined %r, expected (3, 3, 0)" % (got,))'
    [ "$(sql "$W/aipm.db" "SELECT text FROM feedback WHERE id = 'FB-9'" | wc -l)" = 3 ] ||
        fail "the 3-line text of FB-9 was not kept whole"
}

# Signals (a 3-column key: date, signal, area): a key changed twice in one
# file counts 2 conflicts but is sampled once, shown as its values
# ("-" for the empty area), not the internal length-prefixed key
# `24:2024-01-01T00:00:00.000Z;1:s;-;`. The date is stored normalised
# (RFC 3339 UTC, README input contract).
case_ingest_key_conflict_samples_readable() {
    local W
    mkws keysig; W=$WS
    cat >"$T/s.csv" <<'EOF'
date,signal,value
2024-01-01,s,1
2024-01-01,s,2
2024-01-01,s,3
2024-01-02,s,1
EOF
    ingest_json "$W" signals "$T/s.csv" "$T/r.json"
    expect_rc 0 "ingest signals with a key changed twice"
    pycheck "$T/r.json" '
want(d.get("key_conflicts") == 2, "key_conflicts %r, expected 2" % d.get("key_conflicts"))
want(d.get("key_conflict_samples") == ["2024-01-01T00:00:00.000Z, s, -"], "samples %r" % d.get("key_conflict_samples"))'
}
