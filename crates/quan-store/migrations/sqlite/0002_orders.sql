-- Checkout orders: the priced cart, the coupons it locks, and refunds so far.

ALTER TABLE coupons ADD COLUMN locked_until INTEGER;  -- while locked: when the lock lapses

CREATE TABLE orders (
    id           TEXT PRIMARY KEY,         -- the integrator's order id
    user_id      TEXT NOT NULL,
    status       TEXT NOT NULL,            -- locked | paid | cancelled | expired
    request_hash TEXT NOT NULL,            -- the creating request, so a retry is recognised
    quote        TEXT NOT NULL,            -- the priced quote (JSON), apportionment included
    lines        TEXT NOT NULL,            -- paid lines and refunds so far (JSON)
    coupon_ids   TEXT NOT NULL,            -- JSON array
    payable      INTEGER NOT NULL,
    lock_until   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX orders_locks ON orders (status, lock_until);
CREATE INDEX orders_user ON orders (user_id, id);
