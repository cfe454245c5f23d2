INSERT INTO events (position, event_id, stream, version, event_type, payload, metadata)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (event_id) DO NOTHING
