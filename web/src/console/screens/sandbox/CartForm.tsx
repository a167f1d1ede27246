// The sandbox cart: lines (add, remove), shipping per store, channel and region.
import { useLang } from "../../../shared/i18n";
import { CHANNELS, channelText } from "../../../shared/words";
import { SelectField, TextField } from "../../ui";
import { newLine, storesOf, type CartDraft, type LineDraft } from "./cart";
import { useSandbox } from "./messages";

export function CartForm(props: {
  draft: CartDraft;
  onChange(d: CartDraft): void;
  errors: Record<string, string>;
}) {
  const t = useSandbox();
  const l = useLang();
  const { draft, errors } = props;
  const set = (patch: Partial<CartDraft>) => props.onChange({ ...draft, ...patch });
  const setLine = (i: number, patch: Partial<LineDraft>) =>
    set({ lines: draft.lines.map((l, j) => (j === i ? { ...l, ...patch } : l)) });
  const nextId = () => Math.max(0, ...draft.lines.map((l) => Number(l.line_id) || 0)) + 1;

  return (
    <section className="card" aria-labelledby="sandbox-cart">
      <h2 id="sandbox-cart">{t("cart")}</h2>
      {draft.lines.map((line, i) => {
        const at = `lines[${i}]`;
        const text = (f: keyof LineDraft, label: Parameters<typeof t>[0], hint?: string) => (
          <TextField
            label={t(label)}
            value={line[f]}
            onChange={(v) => setLine(i, { [f]: v })}
            error={errors[`${at}.${f}`]}
            hint={hint}
          />
        );
        return (
          <fieldset key={line.line_id} className="sandbox-line">
            <legend>{t("line", { id: line.line_id })}</legend>
            <div className="row">
              {text("sku", "sku")}
              {text("store_id", "storeId")}
              {text("category", "category")}
            </div>
            <div className="row">
              {text("unit_price", "unitPrice")}
              {text("activity_price", "activityPrice")}
              {text("qty", "qty")}
              <button
                type="button"
                className="secondary"
                disabled={draft.lines.length === 1}
                onClick={() => set({ lines: draft.lines.filter((_, j) => j !== i) })}
              >
                {t("removeLine", { id: line.line_id })}
              </button>
            </div>
          </fieldset>
        );
      })}
      {errors.lines && <p className="banner error" role="alert">{errors.lines}</p>}
      <p>
        <button type="button" className="secondary" onClick={() => set({ lines: [...draft.lines, newLine(nextId())] })}>
          {t("addLine")}
        </button>
      </p>
      {storesOf(draft.lines).length > 0 && (
        <fieldset className="sandbox-line">
          <legend>{t("shipping")}</legend>
          <div className="row">
            {storesOf(draft.lines).map((store) => (
              <TextField
                key={store}
                label={t("shippingFor", { store })}
                value={draft.shipping[store] ?? ""}
                onChange={(v) => set({ shipping: { ...draft.shipping, [store]: v } })}
                error={errors[`shipping.${store}`]}
              />
            ))}
          </div>
        </fieldset>
      )}
      <div className="row">
        <SelectField
          label={t("channel")}
          value={draft.channel}
          onChange={(v) => set({ channel: v })}
          options={[{ value: "", label: t("anyChannel") }, ...CHANNELS.map((c) => ({ value: c, label: channelText(c, l) }))]}
          error={errors.channel}
        />
        <TextField label={t("region")} value={draft.region} onChange={(v) => set({ region: v })} error={errors.region} />
        <TextField label={t("at")} type="datetime-local" value={draft.at} onChange={(v) => set({ at: v })} error={errors.at} />
      </div>
    </section>
  );
}
