-- +goose Up
-- create index "project_organization_id_name_normalized" to table: "projects"
CREATE INDEX "project_organization_id_name_normalized" ON "projects" ("organization_id", "name_normalized");

-- +goose Down
-- reverse: create index "project_organization_id_name_normalized" to table: "projects"
DROP INDEX "project_organization_id_name_normalized";
