// A campaign as the API answers it (api.md, Campaigns), and its members' entries.

export type Trigger =
  | { kind: "event"; event: string; delay_hours?: number; data?: Record<string, unknown> }
  | { kind: "schedule"; weekdays: number[]; at: string }
  | { kind: "inactivity"; since: "joined" | "last_order"; hours: number }
  | { kind: "once" };

export type Audience =
  | { kind: "all" }
  | { kind: "segment"; segment_id: string }
  | { kind: "tiers"; tiers: string[] }
  | { kind: "stages"; stages: string[] }
  | { kind: "rfm_tiers"; tiers: string[] };

export type Action =
  | { kind: "grant"; template_id: string }
  | { kind: "grant_pack"; template_ids: string[]; cac?: { expected_use_bp: number; ltv: number } }
  | { kind: "task"; title: string; template_id?: string; material?: string; message?: string }
  | { kind: "message"; channel: string; text: string; link_template_id?: string }
  | { kind: "allocate"; template_ids: string[]; budget: number; min_roi_bp?: number; expected_use_bp?: number };

export interface CampaignSpec {
  name: string;
  trigger: Trigger;
  audience?: Audience;
  actions: Action[];
  frequency_cap?: { count: number; days: number } | null;
  budget?: { count?: number | null; amount?: number | null } | null;
  holdout_bp?: number;
  starts_at?: string | null;
  ends_at?: string | null;
}

export interface AllocationReport {
  model: { kind: string; examples: number; positives: number; auc: number | null };
  value: { kind: string; treated?: number; control?: number };
  members: number;
  chosen: number;
  by_template: Record<string, number>;
  objective: number;
  spend: number;
  upper_bound: number;
  gap: number;
  seconds: number;
}

export interface CampaignView extends CampaignSpec {
  id: string;
  status: "draft" | "active" | "paused" | "ended";
  end_reason: string | null;
  stats: { entered: number; treated: number; held_out: number; granted: number; spent: number; pending: number };
  warnings: { code: string; field: string; message: string }[];
  allocation?: AllocationReport;
  trigger_at: string | null;
  activated_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface EntryView {
  user_id: string;
  status: string;
  at: string;
  occurrence: string;
  due_at: string;
  reason: string | null;
  coupon_ids: string[];
  template_id?: string;
}

export const EVENTS = [
  "signup", "order_paid", "order_shipped", "order_confirmed", "review", "follow", "share", "check_in", "tier_changed",
] as const;
export const ENTRY_STATUSES = [
  "pending", "treated", "held_out", "capped", "over_budget", "refused", "expired", "unallocated",
] as const;
