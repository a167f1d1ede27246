// One-line words for a campaign's trigger and audience, as the list and detail show them.
import type { Lang } from "../../../shared/i18n";
import { stageText } from "../../../shared/words";
import type { CampaignsT } from "./messages";
import type { Audience, Trigger } from "./types";

export function triggerText(tr: Trigger, t: CampaignsT): string {
  switch (tr.kind) {
    case "event":
      return `${t("t_event")}: ${t(`e_${tr.event}` as "e_signup")}${tr.delay_hours ? ` +${tr.delay_hours}h` : ""}`;
    case "schedule":
      return `${t("t_schedule")}: ${tr.weekdays.map((d) => t(`d${d}` as "d1")).join(", ")} ${tr.at}`;
    case "inactivity":
      return `${t("t_inactivity")}: ${t(`since_${tr.since}`)} ≥ ${tr.hours}h`;
    case "once":
      return t("t_once");
  }
}

export function audienceText(a: Audience | undefined, t: CampaignsT, l: Lang): string {
  if (!a || a.kind === "all") return t("a_all");
  switch (a.kind) {
    case "segment":
      return `${t("a_segment")}: ${a.segment_id}`;
    case "tiers":
      return `${t("a_tiers")}: ${a.tiers.join(", ")}`;
    case "stages":
      return `${t("a_stages")}: ${a.stages.map((s) => stageText(s, l)).join(", ")}`;
    case "rfm_tiers":
      return `${t("a_rfm_tiers")}: ${a.tiers.join(", ")}`;
  }
}
