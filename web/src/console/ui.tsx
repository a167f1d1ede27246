// The console's building blocks: labelled fields with their error beside them, buttons, tables.

import { useId, type ReactNode } from "react";
import { ApiError } from "../shared/api";
import { errorText } from "../shared/errors";
import { useLang } from "../shared/i18n";

/** A labelled form control; `error` shows beside it and is tied to it for screen readers. */
export function Field(props: {
  label: string;
  error?: string | null;
  hint?: string;
  children: (id: string, describedBy: string | undefined) => ReactNode;
}) {
  const id = useId();
  const errId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = [props.error ? errId : null, props.hint ? hintId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className={props.error ? "field invalid" : "field"}>
      <label htmlFor={id}>{props.label}</label>
      {props.children(id, described)}
      {props.hint && (
        <small id={hintId} className="hint">
          {props.hint}
        </small>
      )}
      {props.error && (
        <small id={errId} className="error" role="alert">
          {props.error}
        </small>
      )}
    </div>
  );
}

/** A text input inside a Field. */
export function TextField(props: {
  label: string;
  value: string;
  onChange(v: string): void;
  error?: string | null;
  hint?: string;
  type?: string;
  placeholder?: string;
  required?: boolean;
  autoComplete?: string;
}) {
  return (
    <Field label={props.label} error={props.error} hint={props.hint}>
      {(id, describedBy) => (
        <input
          id={id}
          type={props.type ?? "text"}
          value={props.value}
          placeholder={props.placeholder}
          required={props.required}
          autoComplete={props.autoComplete}
          aria-invalid={props.error ? true : undefined}
          aria-describedby={describedBy}
          onChange={(e) => props.onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

/** A select inside a Field. */
export function SelectField(props: {
  label: string;
  value: string;
  onChange(v: string): void;
  options: { value: string; label: string }[];
  error?: string | null;
}) {
  return (
    <Field label={props.label} error={props.error}>
      {(id, describedBy) => (
        <select
          id={id}
          value={props.value}
          aria-invalid={props.error ? true : undefined}
          aria-describedby={describedBy}
          onChange={(e) => props.onChange(e.target.value)}
        >
          {props.options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** An API error shown to the person in their language (with the field it names, if any). */
export function ErrorBanner({ error }: { error: unknown }) {
  const l = useLang();
  if (!error) return null;
  const field = error instanceof ApiError && error.field ? ` (${error.field})` : "";
  return (
    <p className="banner error" role="alert">
      {errorText(error, l)}
      {field}
    </p>
  );
}

/** A page's heading and its actions. */
export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <header className="page-header">
      <h1>{title}</h1>
      <div className="actions">{children}</div>
    </header>
  );
}

/** A status badge (draft, active, paused, ended, ...). */
export function Badge({ value, label }: { value: string; label?: string }) {
  return <span className={`badge badge-${value}`}>{label ?? value}</span>;
}
