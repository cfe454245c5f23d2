SELECT position, event_id, stream, version, event_type, payload, metadata
FROM events
WHERE position > $1
ORDER BY position
LIMIT $2
