SELECT position, event_id, stream, version, event_type, payload, metadata
FROM events
WHERE stream = $1 AND version >= $2
ORDER BY version
LIMIT $3
