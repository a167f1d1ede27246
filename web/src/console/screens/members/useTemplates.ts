// Templates by id, fetched once each and kept for the tab: coupons name their template only by id.
import { useEffect, useState } from "react";
import { useApi } from "../../session";
import type { TemplateView } from "./types";

const cache = new Map<string, Promise<TemplateView | null>>();

/** The templates of `ids` as they arrive (a missing or hidden one stays absent). */
export function useTemplates(ids: string[]): Record<string, TemplateView> {
  const api = useApi();
  const [found, setFound] = useState<Record<string, TemplateView>>({});
  const key = [...new Set(ids)].sort().join(",");
  useEffect(() => {
    let live = true;
    for (const id of key ? key.split(",") : []) {
      let p = cache.get(id);
      if (!p) {
        p = api<TemplateView>("GET", `/v1/templates/${encodeURIComponent(id)}`).catch(() => {
          cache.delete(id);
          return null;
        });
        cache.set(id, p);
      }
      p.then((t) => {
        if (live && t) setFound((f) => (f[t.id] ? f : { ...f, [t.id]: t }));
      });
    }
    return () => {
      live = false;
    };
  }, [api, key]);
  return found;
}
