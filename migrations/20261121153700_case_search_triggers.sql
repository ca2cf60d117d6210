-- Hand-written: ent does not model triggers. They keep case_search, the
-- queue's full-text document, in step with every write to cases and
-- messages, COPY included. Vectors are stripped of positions (the queue
-- matches, it does not rank), and a message's text is capped, so a
-- document stays far below tsvector's 1 MB limit; should it still
-- overflow, the message is stored and only its words are left out.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION case_search_add(p_case bigint, p_doc tsvector) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO case_search (case_id, document) VALUES (p_case, p_doc)
	ON CONFLICT (case_id) DO NOTHING;
	IF NOT FOUND THEN
		BEGIN
			UPDATE case_search SET document = document || p_doc WHERE case_id = p_case;
		EXCEPTION WHEN program_limit_exceeded THEN
			RAISE NOTICE 'case_search: document of case % is full', p_case;
		END;
	END IF;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION case_search_case() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM case_search_add(NEW.id, strip(to_tsvector('english',
		concat_ws(' ', NEW.reference, NEW.subject, NEW.requester_name, NEW.requester_email, NEW.claimed_username))));
	RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION case_search_message() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM case_search_add(NEW.case_id, strip(to_tsvector('english',
		left(concat_ws(' ', NEW.from_address, NEW.from_name, NEW.subject, NEW.body_text), 200000))));
	RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER case_search_case_insert AFTER INSERT ON cases
	FOR EACH ROW EXECUTE FUNCTION case_search_case();
CREATE TRIGGER case_search_case_subject AFTER UPDATE OF subject ON cases
	FOR EACH ROW WHEN (OLD.subject IS DISTINCT FROM NEW.subject) EXECUTE FUNCTION case_search_case();
CREATE TRIGGER case_search_message_insert AFTER INSERT ON messages
	FOR EACH ROW WHEN (NEW.case_id IS NOT NULL) EXECUTE FUNCTION case_search_message();
-- A merge moves messages to the surviving case; their words follow.
CREATE TRIGGER case_search_message_moved AFTER UPDATE OF case_id ON messages
	FOR EACH ROW WHEN (NEW.case_id IS NOT NULL AND OLD.case_id IS DISTINCT FROM NEW.case_id) EXECUTE FUNCTION case_search_message();

-- Cases that exist already.
INSERT INTO case_search (case_id, document)
SELECT c.id, strip(to_tsvector('english', concat_ws(' ', c.reference, c.subject, c.requester_name, c.requester_email, c.claimed_username)))
	|| coalesce((SELECT strip(to_tsvector('english', left(string_agg(concat_ws(' ', m.from_address, m.from_name, m.subject, m.body_text), ' '), 200000)))
		FROM messages m WHERE m.case_id = c.id), ''::tsvector)
FROM cases c
ON CONFLICT DO NOTHING;

-- +goose Down
DROP TRIGGER case_search_message_moved ON messages;
DROP TRIGGER case_search_message_insert ON messages;
DROP TRIGGER case_search_case_subject ON cases;
DROP TRIGGER case_search_case_insert ON cases;
DROP FUNCTION case_search_message();
DROP FUNCTION case_search_case();
DROP FUNCTION case_search_add(bigint, tsvector);
