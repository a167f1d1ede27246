// Languages: Chinese (zh-CN, the default) and English, kept per browser, switchable anywhere.

import { useSyncExternalStore } from "react";

export type Lang = "zh-CN" | "en";
const KEY = "quan.lang";
const listeners = new Set<() => void>();

function initial(): Lang {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  if (fromUrl === "en" || fromUrl === "zh-CN") return fromUrl;
  const stored = localStorage.getItem(KEY);
  return stored === "en" ? "en" : "zh-CN";
}

let current: Lang = initial();
document.documentElement.lang = current;

/** The language now. */
export function lang(): Lang {
  return current;
}

/** Switches the language for this browser and re-renders every page using `useLang`. */
export function setLang(next: Lang): void {
  current = next;
  localStorage.setItem(KEY, next);
  document.documentElement.lang = next;
  listeners.forEach((l) => l());
}

/** The language, re-rendering the component when it changes. */
export function useLang(): Lang {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}

/** Messages in both languages: `[zh-CN, en]`; `{name}` in a message is filled from `vars`. */
export type Messages = Record<string, readonly [string, string]>;

/** A translator over `messages` for `l`. Unknown keys show themselves (easy to spot). */
export function translator<M extends Messages>(messages: M, l: Lang) {
  return (key: keyof M & string, vars?: Record<string, string | number>): string => {
    const pair = messages[key];
    let text = pair ? pair[l === "en" ? 1 : 0] : key;
    if (vars) for (const [k, v] of Object.entries(vars)) text = text.replaceAll(`{${k}}`, String(v));
    return text;
  };
}
