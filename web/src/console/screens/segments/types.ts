// A segment as the API answers it.
import type { Rule } from "./rule";

export interface SegmentView {
  id: string;
  name: string;
  kind: "listed" | "rule";
  rule: Rule | null;
  size?: number;
  created_at: string;
  updated_at: string;
}
