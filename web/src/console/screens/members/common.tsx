// What the member, segment, sandbox and campaign screens share: paged lists (a page at a time, the pager, their table) and dates.

import { useCallback, useEffect, useState } from "react";
import type { Page } from "../../../shared/api";
import { localDateTime } from "../../../shared/dates";
import { translator, useLang, type Messages } from "../../../shared/i18n";
import { ListTable, type TableProps } from "../../list";
import { useApi } from "../../session";
import "./common.css";

const words = {
  prev: ["上一页", "Previous page"],
  next: ["下一页", "Next page"],
  pageOf: ["第 {n} 页 · 共 {total} 条", "Page {n} · {total} in all"],
  pages: ["分页", "Pages"],
  loading: ["加载中…", "Loading…"],
  none: ["—", "—"],
} satisfies Messages;

/** The common words in the current language. */
export function useCommon() {
  return translator(words, useLang());
}

/** A time as people read it, in their language and the browser's zone. */
export const when = localDateTime;

/** Pages through `base` (a list path with its query) by the API's `next` cursors. */
export function usePaged<T>(base: string | null) {
  const api = useApi();
  const [state, setState] = useState<{ base: string | null; stack: (string | null)[] }>({ base, stack: [null] });
  const stack = state.base === base ? state.stack : [null];
  const cursor = stack[stack.length - 1];
  const [page, setPage] = useState<Page<T> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    if (!base) {
      setPage(null);
      return;
    }
    let live = true;
    setLoading(true);
    const sep = base.includes("?") ? "&" : "?";
    const path = cursor ? `${base}${sep}cursor=${encodeURIComponent(cursor)}` : base;
    api<Page<T>>("GET", path)
      .then((p) => {
        if (!live) return;
        setPage(p);
        setError(null);
      })
      .catch((e) => live && setError(e))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [api, base, cursor, tick]);

  return {
    page,
    error,
    loading,
    number: stack.length,
    hasPrev: stack.length > 1,
    hasNext: !!page?.next,
    next: () => {
      if (page?.next) setState({ base, stack: [...stack, page.next] });
    },
    prev: () => {
      if (stack.length > 1) setState({ base, stack: stack.slice(0, -1) });
    },
    reload,
  };
}

export interface Paged {
  page: { total: number } | null;
  number: number;
  hasPrev: boolean;
  hasNext: boolean;
  next(): void;
  prev(): void;
}

/** What `usePaged<T>` answers, as a table needs it. */
export type PagedOf<T> = Paged & { page: Page<T> | null };

/** Previous / next buttons for a paged list, with where the person is. */
export function Pager(props: { paged: Paged }) {
  const t = useCommon();
  const p = props.paged;
  if (!p.page) return null;
  const single = !p.hasPrev && !p.hasNext;
  return (
    <div className="pager row" role="group" aria-label={t("pages")}>
      {!single && (
        <button type="button" className="secondary" disabled={!p.hasPrev} onClick={p.prev}>
          {t("prev")}
        </button>
      )}
      <span className="muted" aria-live="polite">
        {t("pageOf", { n: p.number, total: p.page.total })}
      </span>
      {!single && (
        <button type="button" className="secondary" disabled={!p.hasNext} onClick={p.next}>
          {t("next")}
        </button>
      )}
    </div>
  );
}

/** A paged list's page as a table (or `empty` once a page has none), and its pager. */
export function PagedTable<T>({ paged, ...table }: Omit<TableProps<T>, "items"> & { paged: PagedOf<T>; empty: string }) {
  return (
    <>
      {paged.page && <ListTable items={paged.page.items} {...table} />}
      <Pager paged={paged} />
    </>
  );
}
