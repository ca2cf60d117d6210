-- Hand-written: ent cannot declare an index on an expression, and the
-- diff keeps indexes named hand_* (internal/migrategen). Every new case
-- counts the automatic replies sent to its requester in the last hour,
-- case-insensitively; without this index that count reads the whole
-- outbound_mails table, so ingestion slowed as mail accumulated.

-- +goose Up
CREATE INDEX hand_outboundmail_lower_to_address_created_at ON outbound_mails (lower(to_address), created_at);

-- +goose Down
DROP INDEX hand_outboundmail_lower_to_address_created_at;
