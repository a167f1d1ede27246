-- Buying is not joining (article 004: 购物了不等于加入店铺会员). A members row is a customer:
-- one who joined has a join time, one known only from orders (ingested, or a paid checkout
-- order) has none. Every existing row keeps its join time, so stays a member.
ALTER TABLE members ALTER COLUMN joined_at DROP NOT NULL;
