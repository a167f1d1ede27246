// What the campaign builder offers to pick: templates campaigns may grant (as the API says)
// and segments (first 100 each).
import { useEffect, useState } from "react";
import type { Page } from "../../../shared/api";
import { useApi } from "../../session";
import type { TemplateView } from "../members/types";
import type { SegmentView } from "../segments/types";

export function useChoices() {
  const api = useApi();
  const [templates, setTemplates] = useState<TemplateView[]>([]);
  const [segments, setSegments] = useState<SegmentView[]>([]);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let live = true;
    api<Page<TemplateView>>("GET", "/v1/templates?limit=100")
      .then((p) => {
        if (!live) return;
        setTemplates(p.items.filter((t) => t.status !== "ended" && t.campaign_grantable));
      })
      .catch((e) => live && setError(e));
    api<Page<SegmentView>>("GET", "/v1/segments?limit=100")
      .then((p) => live && setSegments(p.items))
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [api]);
  return { templates, segments, error };
}
