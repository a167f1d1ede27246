-- A campaign's review (docs/DOMAIN.md section 9) reads what its coupons gave. A checkout order
-- keeps its own apportionment and refunds; a redemption at a store counter keeps here what the
-- coupon took off (`discount`) and what the purchase then cost (`payable`), minor units.
ALTER TABLE coupons ADD COLUMN discount BIGINT;
ALTER TABLE coupons ADD COLUMN payable BIGINT;
-- A review counts its campaign's messages by status.
CREATE INDEX outbox_campaign ON outbox (campaign_id, status);
