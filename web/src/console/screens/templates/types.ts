// The template as the API answers it (GET /v1/templates/{id}): the body plus status, counters
// and what its status allows (`allowed_actions`).
import type { Schemas } from "../../../shared/api";

export type Status = Schemas["TemplateStatus"];
export type Audience = Schemas["Audience"];
export type TemplateBody = Schemas["TemplateSpec"];
export type TemplateView = Schemas["TemplateView"];
export type TemplateAction = Schemas["TemplateAction"];

export const DISTRIBUTIONS = ["public", "link_only", "member_only", "service_only", "campaign_only"] as const;
