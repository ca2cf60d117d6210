-- +goose Up
-- create index "supportcase_open_created_at_id" to table: "cases"
CREATE INDEX "supportcase_open_created_at_id" ON "cases" ("created_at", "id") WHERE ((merged_into_id IS NULL) AND ((status)::text = ANY (ARRAY['new'::text, 'waiting_on_requester'::text, 'waiting_on_challenge'::text, 'ready_for_decision'::text, 'reset_scheduled'::text])));
-- create index "supportcase_open_last_activity_at_id" to table: "cases"
CREATE INDEX "supportcase_open_last_activity_at_id" ON "cases" ("last_activity_at", "id") WHERE ((merged_into_id IS NULL) AND ((status)::text = ANY (ARRAY['new'::text, 'waiting_on_requester'::text, 'waiting_on_challenge'::text, 'ready_for_decision'::text, 'reset_scheduled'::text])));
-- create index "supportcase_open_risk_id" to table: "cases"
CREATE INDEX "supportcase_open_risk_id" ON "cases" ("risk", "id") WHERE ((merged_into_id IS NULL) AND ((status)::text = ANY (ARRAY['new'::text, 'waiting_on_requester'::text, 'waiting_on_challenge'::text, 'ready_for_decision'::text, 'reset_scheduled'::text])));
-- create index "supportcase_open_sla_due_id" to table: "cases"
CREATE INDEX "supportcase_open_sla_due_id" ON "cases" ("sla_due", "id") WHERE ((merged_into_id IS NULL) AND ((status)::text = ANY (ARRAY['new'::text, 'waiting_on_requester'::text, 'waiting_on_challenge'::text, 'ready_for_decision'::text, 'reset_scheduled'::text])));
-- create index "supportcase_open_unassigned_sla_due_id" to table: "cases"
CREATE INDEX "supportcase_open_unassigned_sla_due_id" ON "cases" ("sla_due", "id") WHERE ((assignee_id IS NULL) AND (merged_into_id IS NULL) AND ((status)::text = ANY (ARRAY['new'::text, 'waiting_on_requester'::text, 'waiting_on_challenge'::text, 'ready_for_decision'::text, 'reset_scheduled'::text])));
-- create index "user_staff_role" to table: "users"
CREATE INDEX "user_staff_role" ON "users" ("staff_role");

-- +goose Down
-- reverse: create index "user_staff_role" to table: "users"
DROP INDEX "user_staff_role";
-- reverse: create index "supportcase_open_unassigned_sla_due_id" to table: "cases"
DROP INDEX "supportcase_open_unassigned_sla_due_id";
-- reverse: create index "supportcase_open_sla_due_id" to table: "cases"
DROP INDEX "supportcase_open_sla_due_id";
-- reverse: create index "supportcase_open_risk_id" to table: "cases"
DROP INDEX "supportcase_open_risk_id";
-- reverse: create index "supportcase_open_last_activity_at_id" to table: "cases"
DROP INDEX "supportcase_open_last_activity_at_id";
-- reverse: create index "supportcase_open_created_at_id" to table: "cases"
DROP INDEX "supportcase_open_created_at_id";
