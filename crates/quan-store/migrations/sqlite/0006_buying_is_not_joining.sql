-- Buying is not joining (article 004: 购物了不等于加入店铺会员). A members row is a customer:
-- one who joined has a join time, one known only from orders (ingested, or a paid checkout
-- order) has none. SQLite cannot drop NOT NULL in place, so the table is rebuilt with the same
-- columns; every existing row keeps its join time, so stays a member.
CREATE TABLE members_new (
    id            TEXT PRIMARY KEY,
    joined_at     INTEGER,                    -- NULL: never joined (not a member)
    tier          TEXT,
    region        TEXT,
    paid_orders   INTEGER NOT NULL DEFAULT 0,
    total_spent   INTEGER NOT NULL DEFAULT 0,
    attributes    TEXT NOT NULL DEFAULT '{}',
    updated_at    INTEGER NOT NULL,
    points        INTEGER NOT NULL DEFAULT 0,
    channel       TEXT,
    guide_id      TEXT,
    tags          TEXT NOT NULL DEFAULT '[]',
    first_paid_at INTEGER,
    last_paid_at  INTEGER,
    prev_paid_at  INTEGER,
    rfm_r         INTEGER NOT NULL DEFAULT 0,
    rfm_f         INTEGER NOT NULL DEFAULT 0,
    rfm_m         INTEGER NOT NULL DEFAULT 0,
    rfm_tier      TEXT NOT NULL DEFAULT 'C',
    rfm_at        INTEGER
);
INSERT INTO members_new
    (id, joined_at, tier, region, paid_orders, total_spent, attributes, updated_at, points, channel,
     guide_id, tags, first_paid_at, last_paid_at, prev_paid_at, rfm_r, rfm_f, rfm_m, rfm_tier, rfm_at)
SELECT id, joined_at, tier, region, paid_orders, total_spent, attributes, updated_at, points, channel,
       guide_id, tags, first_paid_at, last_paid_at, prev_paid_at, rfm_r, rfm_f, rfm_m, rfm_tier, rfm_at
FROM members;
DROP TABLE members;
ALTER TABLE members_new RENAME TO members;
