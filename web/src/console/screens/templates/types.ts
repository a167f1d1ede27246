// The template as the API answers it (GET /v1/templates/{id}): the body plus status and counters.
import type { Benefit, Scope, Validity } from "../../../shared/terms";

export type Status = "draft" | "active" | "paused" | "ended";

export type Audience =
  | { kind: "all" | "new" | "returning" }
  | { kind: "tiers"; tiers: string[] }
  | { kind: "segment"; segment_id: string }
  | { kind: "users"; user_ids: string[] }
  | { kind: "new_members"; within_days: number };

export interface TemplateBody {
  name: string;
  description?: string;
  scope: Scope;
  benefit: Benefit;
  validity: Validity;
  usable_hours?: { from: string; until: string }[];
  usable_weekdays?: number[];
  usable_on_orders?: number[];
  excludes_activity_price?: boolean;
  audience: Audience;
  channels: string[] | null;
  regions: string[] | null;
  stock: number | null;
  per_user_limit: number | null;
  per_user_daily_limit: number | null;
  claim_window?: { from?: string | null; until?: string | null };
  distribution: string[];
  funding: { platform_bp: number; merchant_bp: number; supplier_bp?: number };
  face_value?: number;
}

export interface TemplateView extends TemplateBody {
  id: string;
  status: Status;
  issued: number;
  claimed: number;
  used: number;
  remaining: number | null;
  created_at: string;
  updated_at: string;
}

export const DISTRIBUTIONS = ["public", "link_only", "member_only", "service_only", "campaign_only"] as const;

/** The status changes each status allows (domain: ended is final, drafts cannot pause). */
export function actionsFor(s: Status): ("activate" | "pause" | "end")[] {
  switch (s) {
    case "draft":
      return ["activate", "end"];
    case "active":
      return ["pause", "end"];
    case "paused":
      return ["activate", "end"];
    case "ended":
      return [];
  }
}
