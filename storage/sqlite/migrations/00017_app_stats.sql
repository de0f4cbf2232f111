-- app_stats: per-app hourly counts (storage.AppStats) for the console's "last 24 hours" page.
-- One row per (client, UTC hour); hour is the hour's start in Unix microseconds. Rows only
-- grow, by upsert-adds from every replica's in-process accumulator (oidc/appstats.go), so the
-- sums are exact across replicas. latency_sum_ms is fractional milliseconds of token-endpoint
-- server time over latency_count requests. No foreign key to clients: a flush never fails
-- because an app went away. Rows go after the retention (oidc.Config.AppStatsRetention).
-- Keep in step with storage/postgres/migrations.

-- +goose Up
CREATE TABLE app_stats (
    client_id      TEXT   NOT NULL,
    hour           BIGINT NOT NULL,
    logins         BIGINT NOT NULL DEFAULT 0,
    login_failures BIGINT NOT NULL DEFAULT 0,
    tokens         BIGINT NOT NULL DEFAULT 0,
    errors         BIGINT NOT NULL DEFAULT 0,
    latency_sum_ms REAL NOT NULL DEFAULT 0,
    latency_count  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (client_id, hour)
);
CREATE INDEX app_stats_by_hour ON app_stats (hour);

-- +goose Down
DROP TABLE app_stats;
