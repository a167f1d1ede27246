-- Keys that expire and keys that are revoked; the bootstrap platform key is a stored key like
-- any other (settings.admin_bootstrapped records that the one bootstrap happened).
ALTER TABLE api_keys ADD COLUMN expires_at BIGINT;
ALTER TABLE api_keys ADD COLUMN revoked_at BIGINT;

-- The bootstrap key of earlier versions (a hash in settings) becomes a stored platform key.
INSERT INTO api_keys (id, key_hash, role, store_ids, user_id, created_at)
    SELECT 'key_admin_bootstrap', value, 'platform', '[]', NULL, 0 FROM settings WHERE name = 'admin_key_hash';
INSERT INTO settings (name, value)
    SELECT 'admin_bootstrapped', 'key_admin_bootstrap' FROM settings WHERE name = 'admin_key_hash';
DELETE FROM settings WHERE name = 'admin_key_hash';
