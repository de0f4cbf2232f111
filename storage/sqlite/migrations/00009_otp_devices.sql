-- otp_devices: a person's one-time-password generators (storage.OTPDevices): TOTP (RFC 6238)
-- or SM3-OTP (GM/T 0021-2012), the secret sealed by the keyring; unconfirmed ones are deleted
-- after enrolment expires. recovery_codes: keyed hashes of the person's single-use recovery
-- codes, used_at set when a code is used (NULL while unused).
-- people.otp_secret_sealed (a secret set by the operator, accounts.EnrollTOTP) stays where it
-- is: accounts treats it as the person's legacy TOTP device.
-- Keep in step with the other backend's migrations.

-- +goose Up
CREATE TABLE otp_devices (
    id             TEXT NOT NULL PRIMARY KEY,
    person_id      TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    algorithm      TEXT NOT NULL,
    secret_sealed  BLOB NOT NULL,
    confirmed      INTEGER NOT NULL,
    last_used_step INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX otp_devices_by_person ON otp_devices (person_id, created_at);
CREATE INDEX otp_devices_unconfirmed ON otp_devices (created_at) WHERE NOT confirmed;
CREATE TABLE recovery_codes (
    person_id  TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    hash       BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER,
    PRIMARY KEY (person_id, hash)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE otp_devices;
