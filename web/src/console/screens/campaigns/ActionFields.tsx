// The builder's actions: grant, grant_pack, task, message and allocate, each with its fields.
import { useLang } from "../../../shared/i18n";
import { termsLine } from "../../../shared/terms";
import { MESSAGE_CHANNELS, channelText } from "../../../shared/words";
import { Field, SelectField, TextField } from "../../ui";
import type { TemplateView } from "../members/types";
import { CheckGroup } from "../segments/checks";
import { newAction, type ActionDraft, type ActionKind, type CampaignDraft } from "./draft";
import { useCampaigns } from "./messages";

const KINDS: ActionKind[] = ["grant", "grant_pack", "task", "message", "allocate"];

export function ActionFields(props: {
  draft: CampaignDraft;
  onChange(d: CampaignDraft): void;
  errors: Record<string, string>;
  templates: TemplateView[];
}) {
  const t = useCampaigns();
  const l = useLang();
  const { draft, errors, templates } = props;
  const setAction = (i: number, patch: Partial<ActionDraft>) =>
    props.onChange({ ...draft, actions: draft.actions.map((a, j) => (j === i ? { ...a, ...patch } : a)) });
  const label = (tpl: TemplateView) => `${tpl.name} · ${termsLine(tpl, l)}`;
  const one = (optional: boolean, none = t("noTemplate")) => [
    { value: "", label: optional ? none : t("pickTemplate") },
    ...templates.map((tpl) => ({ value: tpl.id, label: label(tpl) })),
  ];
  const many = (i: number, a: ActionDraft, legend: string) => (
    <CheckGroup
      legend={legend}
      options={templates.map((tpl) => tpl.id)}
      picked={a.template_ids}
      onChange={(ids) => setAction(i, { template_ids: ids })}
      text={(id) => {
        const tpl = templates.find((x) => x.id === id);
        return tpl ? label(tpl) : id;
      }}
      error={errors[`actions[${i}].template_ids`] ?? Object.entries(errors).find(([k]) => k.startsWith(`actions[${i}].template_ids[`))?.[1]}
    />
  );

  return (
    <fieldset className="box">
      <legend>{t("actions")}</legend>
      {templates.length === 0 && <p className="muted">{t("noCampaignTemplates")}</p>}
      {errors.actions && <p className="error" role="alert">{errors.actions}</p>}
      {draft.actions.map((a, i) => {
        const at = `actions[${i}]`;
        const err = (f: string) => errors[`${at}.${f}`];
        const name = t("action", { n: i + 1 });
        return (
          <fieldset key={a.key} className="box">
            <legend>{name}</legend>
            {errors[at] && <p className="error" role="alert">{errors[at]}</p>}
            <div className="row">
              <SelectField
                label={t("actionKind")}
                value={a.kind}
                onChange={(v) => setAction(i, { kind: v as ActionKind })}
                options={KINDS.map((k) => ({ value: k, label: t(`k_${k}`) }))}
              />
              {a.kind === "grant" && (
                <SelectField label={t("template")} value={a.template_id} onChange={(v) => setAction(i, { template_id: v })} options={one(false)} error={err("template_id")} />
              )}
              {a.kind === "task" && (
                <>
                  <TextField label={t("taskTitle")} value={a.title} onChange={(v) => setAction(i, { title: v })} error={err("title")} />
                  <SelectField label={t("template")} value={a.template_id} onChange={(v) => setAction(i, { template_id: v })} options={one(true)} error={err("template_id")} />
                </>
              )}
              {a.kind === "message" && (
                <SelectField
                  label={t("channel")}
                  value={a.channel}
                  onChange={(v) => setAction(i, { channel: v })}
                  options={MESSAGE_CHANNELS.map((c) => ({ value: c, label: channelText(c, l) }))}
                  error={err("channel")}
                />
              )}
              {a.kind === "allocate" && (
                <>
                  <TextField label={t("allocBudget")} value={a.budget} onChange={(v) => setAction(i, { budget: v })} error={err("budget")} />
                  <TextField label={t("minRoi")} value={a.min_roi} onChange={(v) => setAction(i, { min_roi: v })} error={err("min_roi_bp")} />
                  <TextField label={t("expectedUse")} value={a.expected_use} onChange={(v) => setAction(i, { expected_use: v })} error={err("expected_use_bp")} />
                </>
              )}
            </div>
            {a.kind === "grant_pack" && many(i, a, t("templates"))}
            {a.kind === "allocate" && many(i, a, t("templates"))}
            {a.kind === "task" && (
              <div className="row">
                <TextArea label={t("material")} value={a.material} onChange={(v) => setAction(i, { material: v })} error={err("material")} />
                <TextArea label={t("suggested")} value={a.message} onChange={(v) => setAction(i, { message: v })} error={err("message")} />
              </div>
            )}
            {a.kind === "message" && (
              <div className="row">
                <TextArea label={t("text")} value={a.text} onChange={(v) => setAction(i, { text: v })} error={err("text")} />
                <SelectField
                  label={t("linkTemplate")}
                  value={a.link_template_id}
                  onChange={(v) => setAction(i, { link_template_id: v })}
                  options={one(true, t("noLink"))}
                  error={err("link_template_id")}
                />
              </div>
            )}
            <button
              type="button"
              className="secondary"
              disabled={draft.actions.length === 1}
              onClick={() => props.onChange({ ...draft, actions: draft.actions.filter((_, j) => j !== i) })}
            >
              {t("removeAction", { n: i + 1 })}
            </button>
          </fieldset>
        );
      })}
      <p>
        <button type="button" className="secondary" onClick={() => props.onChange({ ...draft, actions: [...draft.actions, newAction()] })}>
          {t("addAction")}
        </button>
      </p>
    </fieldset>
  );
}

/** A labelled multi-line text. */
export function TextArea(props: { label: string; value: string; onChange(v: string): void; error?: string }) {
  return (
    <Field label={props.label} error={props.error}>
      {(id, describedBy) => (
        <textarea
          id={id}
          rows={3}
          value={props.value}
          aria-invalid={props.error ? true : undefined}
          aria-describedby={describedBy}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
    </Field>
  );
}
