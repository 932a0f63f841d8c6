-- The audit log in PostgreSQL: one row per NDJSON line.
--
--   psql -f testdata/postgres/schema.sql
--   psql -c "COPY audit_log (line) FROM STDIN WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')" < audit.ndjson
--
-- COPY's default text format treats backslashes as escapes, so it fails on
-- some lines and silently changes others ("\\n" in a JSON string would
-- load as a real line break). In CSV format with quote and delimiter
-- characters that a JSON handler never writes (control characters are
-- always escaped in JSON), each line loads as one field, byte for byte.
--
-- A NUL byte in a value is written by JSON handlers as \u0000, which jsonb
-- rejects ("unsupported Unicode escape sequence") and json accepts. So the
-- line is kept as json, exactly as written (nothing lost, and a checksum or
-- seal over the line still verifies), and doc, the jsonb that queries use,
-- is derived from it with each \u0000 escape rewritten to \u2400, the
-- visible symbol for NUL (␀). The rewrite counts the backslashes before
-- "u0000", so an escaped backslash followed by the text u0000 is left alone.

CREATE FUNCTION audit_doc(line json) RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT regexp_replace(line::text, '(?<!\\)((?:\\\\)*)\\u0000', '\1\\u2400', 'g')::jsonb $$;

CREATE TABLE audit_log (
	id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the order of the lines in the file
	line json NOT NULL,                                    -- the line as written, byte for byte
	doc  jsonb NOT NULL GENERATED ALWAYS AS (audit_doc(line)) STORED
);

CREATE INDEX audit_log_doc ON audit_log USING gin (doc jsonb_path_ops); -- doc @> '{"event":"file.upload"}'
CREATE INDEX audit_log_event ON audit_log ((doc->>'event'));

-- The fields that queries use most, under the keys of audit's DefaultFields.
CREATE VIEW audit_events AS
SELECT id,
	(doc->>'time')::timestamptz AS time,
	doc->>'level' AS level,
	doc->>'event' AS event,
	doc->>'msg' AS msg,
	doc->'user'->>'name' AS user_name,
	doc->'user'->>'id' AS user_id,
	doc->>'request_id' AS request_id,
	(doc->>'http.response.status_code')::int AS status,
	doc
FROM audit_log;
