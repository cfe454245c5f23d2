-- $1 first position, $2 stream, $3 first version, $4.. one array per column. An event id
-- already in the log is skipped, which the caller sees in the row count.
INSERT INTO events (position, event_id, stream, version, event_type, payload, metadata)
SELECT $1 + t.ord - 1, t.event_id, $2, $3 + t.ord - 1, t.event_type, t.payload::jsonb, t.metadata::jsonb
FROM unnest($4::uuid[], $5::text[], $6::text[], $7::text[])
    WITH ORDINALITY AS t (event_id, event_type, payload, metadata, ord)
ON CONFLICT (event_id) DO NOTHING
