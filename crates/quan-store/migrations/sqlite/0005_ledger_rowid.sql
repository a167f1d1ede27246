-- The ledger's sequence becomes the plain rowid. AUTOINCREMENT made every insert read and
-- rewrite its counter row in sqlite_sequence, one more B-tree write per claim. The ledger is
-- append-only (its triggers refuse updates and deletes), so max(seq) + 1, which a plain
-- INTEGER PRIMARY KEY takes, never reuses a number and keeps the same order.
DROP TRIGGER coupon_ledger_no_update;
DROP TRIGGER coupon_ledger_no_delete;

CREATE TABLE coupon_ledger_new (
    seq         INTEGER PRIMARY KEY,
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
INSERT INTO coupon_ledger_new
    (seq, coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id)
SELECT seq, coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id
FROM coupon_ledger;
DROP TABLE coupon_ledger;
ALTER TABLE coupon_ledger_new RENAME TO coupon_ledger;
CREATE INDEX coupon_ledger_coupon ON coupon_ledger (coupon_id, seq);

CREATE TRIGGER coupon_ledger_no_update BEFORE UPDATE ON coupon_ledger
BEGIN SELECT RAISE(ABORT, 'coupon_ledger is append-only'); END;
CREATE TRIGGER coupon_ledger_no_delete BEFORE DELETE ON coupon_ledger
BEGIN SELECT RAISE(ABORT, 'coupon_ledger is append-only'); END;
