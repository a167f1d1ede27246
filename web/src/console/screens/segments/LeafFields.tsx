// The inputs of one segment condition, by its kind, each with its error beside it.
import { RFM_TIERS, STAGES } from "../../../shared/words";
import { TextField } from "../../ui";
import { useSegments } from "./messages";
import { CheckGroup, useStageText } from "./checks";
import type { LeafDraft } from "./rule";

export function LeafFields(props: {
  leaf: LeafDraft;
  at: string;
  errors: Record<string, string>;
  onChange(leaf: LeafDraft): void;
}) {
  const t = useSegments();
  const stage = useStageText();
  const { leaf, at, errors } = props;
  const err = (name: string) => errors[`${at}.${name}`];
  const text = (name: string, label: string, errorName = name) => (
    <TextField
      key={name}
      label={label}
      value={leaf.v[name] ?? ""}
      onChange={(v) => props.onChange({ ...leaf, v: { ...leaf.v, [name]: v } })}
      error={err(name) ?? (errorName !== name ? err(errorName) : undefined)}
    />
  );
  const picks = (legend: string, field: string, options: readonly string[], label?: (v: string) => string) => (
    <CheckGroup
      legend={legend}
      options={[...options]}
      picked={leaf.picks}
      onChange={(p) => props.onChange({ ...leaf, picks: p })}
      error={err(field)}
      text={label}
    />
  );

  switch (leaf.kind) {
    case "orders":
      return <div className="row">{text("min", t("minOrders"))}{text("within_days", t("withinOptional"))}</div>;
    case "spent":
      return <div className="row">{text("min", t("minSpent"))}{text("within_days", t("withinOptional"))}</div>;
    case "bought":
      return <div className="row">{text("category", t("category"))}{text("within_days", t("within"))}</div>;
    case "stage":
      return picks(t("stages"), "stages", STAGES, stage);
    case "rfm_tier":
      return picks(t("rfmTiers"), "tiers", RFM_TIERS);
    case "rfm":
      return (
        <div className="row">
          {(["r", "f", "m"] as const).flatMap((s) => [
            text(`${s}_min`, t("scoreFrom", { s: s.toUpperCase() }), s),
            text(`${s}_max`, t("scoreTo", { s: s.toUpperCase() })),
          ])}
        </div>
      );
    case "tier":
      return text("tiers", t("tiers"));
    case "tag":
      return text("tag", t("tag"));
    case "region":
      return text("regions", t("regions"));
    case "channel":
      return text("channels", t("channels"));
    case "guide":
      return text("guide_id", t("guideId"));
    case "points":
      return <div className="row">{text("min", t("pointsMin"))}{text("max", t("pointsMax"))}</div>;
    case "joined_within":
      return text("days", t("days"));
  }
}
