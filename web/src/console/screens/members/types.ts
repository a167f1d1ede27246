// The API's shapes the member, sandbox, segment and campaign screens read (see /openapi.json).
import type { Benefit, Scope, Validity } from "../../../shared/terms";

export interface RfmView {
  r: number;
  f: number;
  m: number;
  tier: string;
  as_of: string | null;
}

export interface MemberView {
  id: string;
  member: boolean;
  joined_at: string | null;
  tier: string | null;
  region: string | null;
  channel: string | null;
  guide_id: string | null;
  points: number;
  tags: string[];
  attributes: Record<string, unknown>;
  lifecycle_stage: string;
  rfm: RfmView;
  orders_count: number;
  total_spent: number;
  first_order_at: string | null;
  last_order_at: string | null;
  updated_at: string;
}

export interface CouponView {
  id: string;
  template_id: string;
  store_id: string | null;
  user_id: string;
  code: string;
  status: string;
  route: string;
  claimed_at: string;
  valid_from: string;
  valid_until: string;
  order_id: string | null;
}

export interface LedgerView {
  seq: number;
  event: string;
  from_status: string | null;
  to_status: string;
  at: string;
  actor: string;
  reason: string | null;
  order_id: string | null;
}

export interface OrderSummaryView {
  order_id: string;
  user_id: string;
  status: string;
  counted: boolean;
  channel: string | null;
  store_id: string | null;
  paid_at: string;
  amount: number;
  line_count: number;
  source: string;
}

export interface EventView {
  event_id: string;
  user_id: string;
  kind: string;
  at: string;
  store_id: string | null;
  order_id: string | null;
  data: unknown;
}

export interface Member360 {
  member: MemberView;
  recent_orders: OrderSummaryView[];
  wallet: { claimed: number; locked: number; redeemed: number; expired: number; revoked: number };
  coupons: { coupon: CouponView; ledger: LedgerView[] }[];
  events: EventView[];
}

export interface TemplateView {
  id: string;
  name: string;
  status: string;
  scope: Scope;
  benefit: Benefit;
  validity: Validity;
  distribution: string[];
  issued: number;
  claimed: number;
  used: number;
}
