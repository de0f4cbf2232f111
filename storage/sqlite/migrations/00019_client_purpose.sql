-- The purpose of a relying app (storage.Client.Purpose, PurposeEn): the text the consent page
-- shows the holder beside licence scopes (licence:<kind>, 一证通办 licence lookup), zh-CN and
-- optional English, at most 200 characters each. Existing apps have none ('').
-- Keep in step with storage/postgres/migrations.

-- +goose Up
ALTER TABLE clients ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN purpose_en TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE clients DROP COLUMN purpose_en;
ALTER TABLE clients DROP COLUMN purpose;
