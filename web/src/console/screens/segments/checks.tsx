// Labelled checkboxes, alone or as a group with a legend (stages, RFM tiers, weekdays).
import { useId } from "react";
import { useLang } from "../../../shared/i18n";
import { stageText } from "../../../shared/words";

/** A labelled checkbox. */
export function Check(props: { label: string; checked: boolean; onChange(v: boolean): void }) {
  const id = useId();
  return (
    <div className="check">
      <input id={id} type="checkbox" checked={props.checked} onChange={(e) => props.onChange(e.target.checked)} />
      <label htmlFor={id}>{props.label}</label>
    </div>
  );
}

/** Boxes to tick (stages, RFM tiers), as a group with its legend and error. */
export function CheckGroup(props: {
  legend: string;
  options: string[];
  picked: string[];
  onChange(v: string[]): void;
  error?: string;
  text?: (v: string) => string;
}) {
  const errId = useId();
  return (
    <fieldset className="checks" aria-describedby={props.error ? errId : undefined}>
      <legend>{props.legend}</legend>
      {props.options.map((o) => (
        <Check
          key={o}
          label={props.text ? props.text(o) : o}
          checked={props.picked.includes(o)}
          onChange={(on) => props.onChange(on ? [...props.picked, o] : props.picked.filter((p) => p !== o))}
        />
      ))}
      {props.error && (
        <small id={errId} className="error" role="alert">
          {props.error}
        </small>
      )}
    </fieldset>
  );
}

/** The stage words, for the stage boxes. */
export function useStageText() {
  const l = useLang();
  return (s: string) => stageText(s, l);
}
