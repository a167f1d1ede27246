// A refused grant's code in the person's language (the codes are the API's error codes).
import { ApiError } from "../../../shared/api";
import { errorText, knowsCode } from "../../../shared/errors";
import type { Lang } from "../../../shared/i18n";

export function reasonOf(code: string, l: Lang): string {
  return knowsCode(code) ? errorText(new ApiError(409, code, code), l) : code;
}
