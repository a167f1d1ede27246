-- quan's foundation: keys, templates, coupons, ledger, claim codes, idempotency, members.
-- Times are Unix microseconds (UTC); money is integer minor units.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    key_hash   TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL,
    store_ids  TEXT NOT NULL,           -- JSON array
    user_id    TEXT,
    created_at INTEGER NOT NULL
);

CREATE TABLE templates (
    id         TEXT PRIMARY KEY,        -- time-ordered, so ORDER BY id is creation order
    store_id   TEXT,                    -- NULL for platform scope
    status     TEXT NOT NULL,
    spec       TEXT NOT NULL,           -- the TemplateSpec as JSON
    version    INTEGER NOT NULL DEFAULT 1,
    stock      INTEGER,                 -- NULL: unlimited
    remaining  INTEGER,                 -- stock not yet issued
    issued     INTEGER NOT NULL DEFAULT 0,
    claimed    INTEGER NOT NULL DEFAULT 0,
    used       INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (remaining IS NULL OR remaining >= 0)
);
CREATE INDEX templates_store ON templates (store_id, id);
CREATE INDEX templates_status ON templates (status, id);

CREATE TABLE coupons (
    id          TEXT PRIMARY KEY,
    template_id TEXT NOT NULL REFERENCES templates (id),
    store_id    TEXT,                   -- the template's store (NULL: platform), for merchant scoping
    user_id     TEXT NOT NULL,
    code        TEXT NOT NULL UNIQUE,   -- the coupon's own unguessable code
    status      TEXT NOT NULL,
    route       TEXT NOT NULL,
    claimed_at  INTEGER NOT NULL,
    claim_day   INTEGER NOT NULL,       -- tenant-local day number, for daily limits
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    order_id    TEXT,
    updated_at  INTEGER NOT NULL
);
-- One index serves both the wallet (by user) and the per-user, per-day counts (by user and template).
CREATE INDEX coupons_user ON coupons (user_id, template_id, claim_day);
CREATE INDEX coupons_expiry ON coupons (status, valid_until);

CREATE TABLE coupon_ledger (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    coupon_id   TEXT NOT NULL,
    template_id TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    event       TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    reason      TEXT,
    order_id    TEXT
);
CREATE INDEX coupon_ledger_coupon ON coupon_ledger (coupon_id, seq);

-- The ledger is append-only.
CREATE TRIGGER coupon_ledger_no_update BEFORE UPDATE ON coupon_ledger
BEGIN SELECT RAISE(ABORT, 'coupon_ledger is append-only'); END;
CREATE TRIGGER coupon_ledger_no_delete BEFORE DELETE ON coupon_ledger
BEGIN SELECT RAISE(ABORT, 'coupon_ledger is append-only'); END;

CREATE TABLE claim_codes (
    code        TEXT PRIMARY KEY,
    template_id TEXT NOT NULL REFERENCES templates (id),
    created_at  INTEGER NOT NULL,
    used_by     TEXT,
    coupon_id   TEXT,
    used_at     INTEGER
);
CREATE INDEX claim_codes_template ON claim_codes (template_id);

CREATE TABLE idempotency (
    key_id       TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response     TEXT,                  -- NULL while the first request is in flight
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);
CREATE INDEX idempotency_age ON idempotency (created_at);

CREATE TABLE members (
    id          TEXT PRIMARY KEY,
    joined_at   INTEGER NOT NULL,
    tier        TEXT,
    region      TEXT,
    paid_orders INTEGER NOT NULL DEFAULT 0,
    total_spent INTEGER NOT NULL DEFAULT 0,
    attributes  TEXT NOT NULL DEFAULT '{}', -- JSON: points, origin channel, tags, guide, ...
    updated_at  INTEGER NOT NULL
);

CREATE TABLE segments (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE segment_members (
    segment_id TEXT NOT NULL REFERENCES segments (id),
    member_id  TEXT NOT NULL,
    PRIMARY KEY (segment_id, member_id)
);
