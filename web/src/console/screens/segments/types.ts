// A segment as the API answers it.
import type { Schemas } from "../../../shared/api";

export type SegmentView = Schemas["SegmentView"];
