// The API's shapes the member, sandbox, segment and campaign screens read (see /openapi.json).
import type { Schemas } from "../../../shared/api";

export type RfmView = Schemas["RfmView"];
export type MemberView = Schemas["MemberView"];
export type CouponView = Schemas["CouponView"];
export type LedgerView = Schemas["LedgerView"];
export type OrderSummaryView = Schemas["OrderSummaryView"];
export type EventView = Schemas["EventView"];
export type Member360 = Schemas["Member360"];
export type TemplateView = Schemas["TemplateView"];
