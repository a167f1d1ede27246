-- A member's usable coupons by expiry (checkout quotes and orders read them on every call).
CREATE INDEX coupons_wallet ON coupons (user_id, status, valid_until);
