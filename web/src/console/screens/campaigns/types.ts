// A campaign as the API answers it (`GET /v1/campaigns/{id}`), and its members' entries.
import type { Schemas } from "../../../shared/api";

export type Trigger = Schemas["Trigger"];
export type Audience = Schemas["CampaignAudience"];
export type Action = Schemas["Action"];
export type CampaignSpec = Schemas["CampaignSpec"];
export type AllocationReport = Schemas["AllocationReport"];
export type CampaignView = Schemas["CampaignView"];
export type CampaignAction = Schemas["CampaignAction"];
export type EntryView = Schemas["EntryView"];

export const EVENTS = [
  "signup", "order_paid", "order_shipped", "order_confirmed", "review", "follow", "share", "check_in", "tier_changed",
] as const;
export const ENTRY_STATUSES = [
  "pending", "treated", "held_out", "capped", "over_budget", "refused", "expired", "unallocated",
] as const;
