// Data values the API answers as codes (ledger events, statuses, event kinds), in both languages;
// an unknown value shows as it is.
import type { Lang } from "../../../shared/i18n";

const WORDS: Record<string, Record<string, readonly [string, string]>> = {
  ledger: {
    claimed: ["领取", "Claimed"], granted: ["发放", "Granted"], locked: ["锁定", "Locked"],
    released: ["释放", "Released"], redeemed: ["核销", "Redeemed"], restored: ["退回券包", "Restored"],
    expired: ["过期", "Expired"], revoked: ["撤销", "Revoked"],
  },
  coupon: {
    claimed: ["可用", "Claimed"], locked: ["已锁定", "Locked"], redeemed: ["已使用", "Redeemed"],
    expired: ["已过期", "Expired"], revoked: ["已撤销", "Revoked"],
  },
  order: {
    paid: ["已支付", "Paid"], shipped: ["已发货", "Shipped"], confirmed: ["已确认收货", "Confirmed"],
    completed: ["已完成", "Completed"], cancelled: ["已取消", "Cancelled"], refunded: ["已退款", "Refunded"],
    locked: ["待支付", "Awaiting payment"], expired: ["已失效", "Expired"],
  },
  source: { ingest: ["外部导入", "Imported"], checkout: ["结算下单", "Checkout"] },
  event: {
    signup: ["注册入会", "Signup"], visit: ["访问", "Visit"], order_paid: ["订单支付", "Order paid"],
    order_shipped: ["订单发货", "Order shipped"], order_confirmed: ["确认收货", "Order confirmed"],
    review: ["评价", "Review"], share: ["分享", "Share"], check_in: ["签到", "Check-in"],
    tier_changed: ["等级变化", "Tier changed"], follow: ["关注店铺", "Follow"],
    coupon_claimed: ["领券", "Coupon claimed"], coupon_redeemed: ["用券", "Coupon redeemed"],
  },
};

/** `value` of `group` in `l` (`dataText("order", "paid", "en")` → "Paid"). */
export function dataText(group: keyof typeof WORDS | string, value: string, l: Lang): string {
  const pair = WORDS[group]?.[value];
  return pair ? pair[l === "en" ? 1 : 0] : value;
}
