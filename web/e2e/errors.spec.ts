// Every error code the API can answer has its words in both languages (src/shared/errors.ts),
// so no refusal reaches a person as a bare code.
import { expect, test } from "@playwright/test";
import { knowsCode } from "../src/shared/errors";

test("every error code of the API has a message in both languages", async ({ request }) => {
  const doc = await (await request.get("/openapi.json")).json();
  const codes: string[] = doc.components.schemas.ErrorCode.enum;
  expect(codes.length).toBeGreaterThan(40);
  expect(codes.filter((c) => !knowsCode(c))).toEqual([]);
});
