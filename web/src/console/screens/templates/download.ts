// Files made in the browser: a CSV of codes, an authenticated download as a Blob, and saving a Blob.
import { ApiError } from "../../../shared/api";

/** A one-column CSV (`code`), as GET /v1/jobs/{id}/codes.csv writes it. */
export function codesCsv(codes: string[]): Blob {
  return new Blob(["code\r\n" + codes.map((c) => c + "\r\n").join("")], { type: "text/csv;charset=utf-8" });
}

/** GETs `path` with the API key and answers the body as a Blob (throws ApiError when refused). */
export async function fetchBlob(key: string, path: string): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { Authorization: `Bearer ${key}` } });
  } catch {
    throw new ApiError(0, "unavailable", "network error");
  }
  if (!res.ok) {
    let e: { code?: string; message?: string; field?: string } | undefined;
    try {
      e = (await res.json())?.error;
    } catch {
      e = undefined;
    }
    throw new ApiError(res.status, e?.code ?? "internal", e?.message ?? res.statusText, e?.field);
  }
  return res.blob();
}

/** Offers `blob` to the person as a file named `name`. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
