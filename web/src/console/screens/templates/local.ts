// Validity as the reader's calendar shows it: shared/terms.ts prints the first 10 characters of a
// time, which for RFC 3339 in UTC is the UTC date; local "YYYY-MM-DDTHH:MM" strings print the local one.
import type { Validity } from "../../../shared/terms";
import { toLocalInput } from "./form/model";

export function shownValidity(v: Validity): Validity {
  return v.kind === "fixed"
    ? { kind: "fixed", valid_from: toLocalInput(v.valid_from), valid_until: toLocalInput(v.valid_until) }
    : v;
}

/** A template whose fixed validity reads in local dates (for termsLine / validityText). */
export function shown<T extends { validity: Validity }>(t: T): T {
  return { ...t, validity: shownValidity(t.validity) };
}
