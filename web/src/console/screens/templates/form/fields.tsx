// Form pieces ui.tsx lacks: the section props, a text field bound to the state, a labelled checkbox, a fieldset of checkboxes with its error.
import { useId, type ReactNode } from "react";
import type { FormState } from "./model";
import type { FormKey, useFormT } from "./messages";

/** What every form section receives: the state, a patcher, the error for a field path, words. */
export interface SectionProps {
  s: FormState;
  set(patch: Partial<FormState>): void;
  err(path: string): string | null;
  t: ReturnType<typeof useFormT>;
}

/** The form state's free-text fields. */
type TextKey = { [K in keyof FormState]: string extends FormState[K] ? K : never }[keyof FormState];

/** A TextField's props over the form's text `k`: labelled by the word `k`, with the error at `path`. */
export function bind(p: SectionProps, k: TextKey & FormKey, path: string) {
  return { label: p.t(k), value: p.s[k], onChange: (v: string) => p.set({ [k]: v } as Partial<FormState>), error: p.err(path) };
}

/** A checkbox with its label around it. */
export function Check(props: { label: string; checked: boolean; onChange(v: boolean): void; describedBy?: string }) {
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={props.checked}
        aria-describedby={props.describedBy}
        onChange={(e) => props.onChange(e.target.checked)}
      />
      <span>{props.label}</span>
    </label>
  );
}

/** A group of controls under a legend, with the group's error beside it. */
export function Group(props: { legend: string; error?: string | null; children: ReactNode }) {
  const id = useId();
  return (
    <fieldset
      className={props.error ? "group invalid" : "group"}
      aria-describedby={props.error ? `${id}-error` : undefined}
      data-invalid={props.error ? true : undefined}
    >
      <legend>{props.legend}</legend>
      <div className="checks">{props.children}</div>
      {props.error && (
        <small id={`${id}-error`} className="error" role="alert">
          {props.error}
        </small>
      )}
    </fieldset>
  );
}

/** Toggles `v` in a list, keeping the list's order stable. */
export function toggle<T>(list: T[], v: T, on: boolean): T[] {
  return on ? (list.includes(v) ? list : [...list, v]) : list.filter((x) => x !== v);
}
