// The one way the pages talk to quan's HTTP API: JSON in, JSON out, errors as ApiError; the
// API's own types, generated from /openapi.json into api-types.ts (`npm run api-types`).
import type { components } from "./api-types";

/** The API's schemas by name: `Schemas["TemplateView"]`. */
export type Schemas = components["schemas"];

/** An error answered by the API: `{"error": {"code", "message", "field"?}}` and its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Calls the API with `key` as the bearer token (and any `extra` headers, such as an
 * `Idempotency-Key`); answers the parsed body, or throws ApiError. */
export async function call<T>(
  key: string | null,
  method: string,
  path: string,
  body?: unknown,
  extra?: Record<string, string>,
): Promise<T> {
  const headers: Record<string, string> = { ...extra };
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "unavailable", "network error");
  }
  const text = await res.text();
  const parsed = text ? safeJson(text) : null;
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string; field?: string } } | null)
      ?.error;
    throw new ApiError(res.status, e?.code ?? "internal", e?.message ?? res.statusText, e?.field);
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A page of a list, as every list of the API answers. */
export interface Page<T> {
  items: T[];
  total: number;
  next: string | null;
}
