-- The SCRM (PostgreSQL): member profiles, stores, products, members' order history, events, rule segments.
-- Times are Unix microseconds (UTC); money is integer minor units.

-- Member profile fields the segment rules read, and the aggregates of the member's counted
-- orders (kept current on every order write) with the scores of the last RFM computation.
ALTER TABLE members ADD COLUMN points BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN channel TEXT;            -- channel of origin
ALTER TABLE members ADD COLUMN guide_id TEXT;           -- assigned store guide
ALTER TABLE members ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';  -- JSON array of strings
ALTER TABLE members ADD COLUMN first_paid_at BIGINT;
ALTER TABLE members ADD COLUMN last_paid_at BIGINT;
ALTER TABLE members ADD COLUMN prev_paid_at BIGINT;    -- the counted order before the last
ALTER TABLE members ADD COLUMN rfm_r BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN rfm_f BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN rfm_m BIGINT NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN rfm_tier TEXT NOT NULL DEFAULT 'C';
ALTER TABLE members ADD COLUMN rfm_at BIGINT;          -- as of when the scores were computed

CREATE TABLE stores (
    id         TEXT PRIMARY KEY,
    name       TEXT,
    region     TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL
);

CREATE TABLE products (
    id         TEXT PRIMARY KEY,                -- the SKU
    name       TEXT,
    store_id   TEXT,                            -- NULL: sold by every store
    department TEXT,
    category   TEXT,
    brand      TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    updated_at BIGINT NOT NULL
);

-- Members' orders (SCRM): ingested from outside, or checkout orders once paid.
CREATE TABLE member_orders (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    status       TEXT NOT NULL,                 -- paid | shipped | confirmed | completed | refunded | cancelled
    counted      BIGINT NOT NULL,              -- 1: a purchase (RFM, lifecycle, purchase rules)
    channel      TEXT,
    store_id     TEXT,                          -- the store when every line is of one store
    paid_at      BIGINT NOT NULL,
    amount       BIGINT NOT NULL,              -- Σ line amounts
    line_count   BIGINT NOT NULL,
    source       TEXT NOT NULL,                 -- ingest | checkout
    content_hash TEXT NOT NULL,                 -- of the ingested content: a same re-import changes nothing
    updated_at   BIGINT NOT NULL
);
CREATE INDEX member_orders_user ON member_orders (user_id, paid_at);

CREATE TABLE member_order_lines (
    order_id TEXT NOT NULL,
    line_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    sku      TEXT NOT NULL,
    store_id TEXT,
    category TEXT,
    qty      BIGINT NOT NULL,
    amount   BIGINT NOT NULL,
    paid_at  BIGINT NOT NULL,
    counted  BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_id)
);
-- "bought category X within D days": by category for a whole segment, by member for one.
CREATE INDEX member_order_lines_category ON member_order_lines (category, user_id, paid_at);

CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    at         BIGINT NOT NULL,
    store_id   TEXT,
    order_id   TEXT,
    data       TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX events_user ON events (user_id, at);

-- A segment is a list of members or a rule (JSON) evaluated when asked.
ALTER TABLE segments ADD COLUMN rule TEXT;
ALTER TABLE segments ADD COLUMN updated_at BIGINT;
