// The console's list tables: a head of column names and a row per item, or the empty message when there is none.
import type { ReactNode } from "react";

/** A column's name, or its name and the class of its head cell (`"num"` for numbers). */
export type Column = string | readonly [name: string, className: string];

export interface TableProps<T> {
  cols: Column[];
  items: readonly T[];
  /** The item's `<tr>`, with its key. */
  row(item: T): ReactNode;
  /** The table's accessible name, when it needs one. */
  label?: string;
  /** A caption for screen readers. */
  caption?: string;
}

/** `items` as a table under `cols`. */
export function Table<T>({ cols, items, row, label, caption }: TableProps<T>) {
  return (
    <table aria-label={label}>
      {caption && <caption className="sr-only">{caption}</caption>}
      <thead>
        <tr>
          {cols.map((c, i) => {
            const [name, className] = typeof c === "string" ? [c, undefined] : c;
            return (
              <th key={i} scope="col" className={className}>
                {name}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>{items.map(row)}</tbody>
    </table>
  );
}

/** `items` as a table, or `empty` (muted) when there are none. */
export function ListTable<T>(props: TableProps<T> & { empty: string }) {
  return props.items.length === 0 ? <p className="muted">{props.empty}</p> : <Table {...props} />;
}
