// The names of the API's codes every page shows (channels, message channels, lifecycle stages, RFM tiers, weekdays), zh-CN and English.
import type { Lang } from "./i18n";

type Names = Record<string, readonly [string, string]>;

/** The API's Channel values, in its order, with their names. */
const CHANNEL_NAMES = {
  mini_program: ["小程序", "Mini-program"],
  app: ["App", "App"],
  web: ["网页", "Web"],
  live_stream: ["直播间", "Live stream"],
  douyin: ["抖音", "Douyin"],
  weibo: ["微博", "Weibo"],
  private_message: ["私信", "Private message"],
  sms: ["短信", "SMS"],
  customer_service: ["客服", "Customer service"],
  store_guide: ["导购", "Store guide"],
  offline_store: ["线下门店", "Offline store"],
} as const satisfies Names;

/** The channels a campaign's message goes out by. */
const MESSAGE_CHANNEL_NAMES = {
  sms: ["短信", "SMS"],
  wechat: ["微信", "WeChat"],
  app_push: ["App 推送", "App push"],
  email: ["邮件", "Email"],
} as const satisfies Names;

/** The lifecycle stages, in the order a member goes through them. */
const STAGE_NAMES = {
  new: ["新客", "New"],
  first_order: ["首单", "First order"],
  active: ["活跃", "Active"],
  at_risk: ["流失风险", "At risk"],
  lapsed: ["已流失", "Lapsed"],
  won_back: ["已召回", "Won back"],
} as const satisfies Names;

const WEEKDAY_NAMES: Names = {
  1: ["周一", "Mon"],
  2: ["周二", "Tue"],
  3: ["周三", "Wed"],
  4: ["周四", "Thu"],
  5: ["周五", "Fri"],
  6: ["周六", "Sat"],
  7: ["周日", "Sun"],
};

export type Channel = keyof typeof CHANNEL_NAMES;
export const CHANNELS = Object.keys(CHANNEL_NAMES) as Channel[];
export const MESSAGE_CHANNELS = Object.keys(MESSAGE_CHANNEL_NAMES) as (keyof typeof MESSAGE_CHANNEL_NAMES)[];
export const STAGES = Object.keys(STAGE_NAMES) as (keyof typeof STAGE_NAMES)[];
export const RFM_TIERS = ["S", "A", "B", "C"] as const;
/** ISO weekdays, Monday (1) to Sunday (7). */
export const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;

/** `code`'s name in `l`, or the code itself when `names` does not know it. */
function named(names: Names, code: string | number, l: Lang): string {
  const pair = Object.hasOwn(names, code) ? names[code] : undefined;
  return pair ? pair[l === "en" ? 1 : 0] : String(code);
}

/** Whether `c` is one of the API's Channel values. */
export function isChannel(c: string): c is Channel {
  return Object.hasOwn(CHANNEL_NAMES, c);
}

/** A channel's (or a message channel's) name in `l` (`mini_program` → 小程序 / Mini-program). */
export function channelText(c: string, l: Lang): string {
  return named(isChannel(c) ? CHANNEL_NAMES : MESSAGE_CHANNEL_NAMES, c, l);
}

/** A lifecycle stage in `l` (`at_risk` → 流失风险 / At risk). */
export function stageText(stage: string, l: Lang): string {
  return named(STAGE_NAMES, stage, l);
}

/** An ISO weekday in `l` (1 → 周一 / Mon). */
export function weekdayText(d: number, l: Lang): string {
  return named(WEEKDAY_NAMES, d, l);
}
