// The member pages' words in both languages (claim page and coupon center).
import { translator, useLang, type Messages } from "../shared/i18n";

export const member = {
  brand: ["quan 领券", "quan coupons"],
  language: ["语言", "Language"],
  loading: ["加载中…", "Loading…"],
  claimTitle: ["领取优惠券", "Claim a coupon"],
  centerTitle: ["领券中心", "Coupon center"],
  toCenter: ["去领券中心看看", "Go to the coupon center"],
  unknownShort: ["短链接不存在或已过期", "This short link is unknown or expired"],
  unknownShortBody: ["请确认短信中的链接是否完整，或到领券中心领取其他优惠券。", "Check that the link in your message is complete, or find other coupons in the coupon center."],
  badLink: ["该领券链接无效", "This claim link is not valid"],
  badLinkBody: ["链接可能不完整或已被修改，无法领取。", "The link may be incomplete or altered: it cannot be used to claim."],
  expiredLink: ["该领券链接已过期，无法领取", "This claim link has expired: it can no longer be used"],
  retry: ["重试", "Try again"],
  // The coupon and its terms.
  coupon: ["优惠券", "Coupon"],
  benefit: ["优惠", "Benefit"],
  validity: ["有效期", "Validity"],
  scope: ["适用范围", "Where"],
  hours: ["可用时段", "Usable hours"],
  weekdays: ["可用日期", "Usable days"],
  claimWindow: ["领取时间", "Claim period"],
  channels: ["适用渠道", "Channels"],
  regions: ["适用地区", "Regions"],
  conditions: ["使用条件", "Conditions"],
  limits: ["领取限制", "Limits"],
  remaining: ["剩余数量", "Left"],
  remainingValue: ["剩余 {left} / {stock} 张", "{left} of {stock} left"],
  perUser: ["每人限领 {n} 张", "{n} per member"],
  perDay: ["每人每天限领 {n} 张", "{n} per member a day"],
  noLimit: ["不限", "No limit"],
  membersOnly: ["仅限会员领取", "Members only"],
  noActivityPrice: ["活动价商品不可用", "Not on items at an activity price"],
  onOrders: ["仅限第 {n} 单使用", "Only on your {n} order"],
  or: ["、", " or "],
  from: ["{t} 起", "from {t}"],
  until: ["截至 {t}", "until {t}"],
  noMinimum: ["无门槛", "No minimum"],
  minSpend: ["满{n}可用", "On ¥{n}+"],
  gift: ["赠品", "Gift"],
  freeShipping: ["包邮", "Free shipping"],
  multiBuy: ["多件多折", "Multi-buy"],
  // The member's token.
  token: ["会员令牌", "Customer token"],
  tokenHint: ["由商家 App 提供；保存在本机，下次无需再填。", "Given by the shop's app; kept on this phone for next time."],
  tokenSaved: ["已使用本机保存的会员令牌（尾号 {tail}）", "Using the customer token saved on this phone (ending {tail})"],
  changeToken: ["更换令牌", "Use another token"],
  switchToken: [
    "此链接带有另一个会员令牌（尾号 {tail}），与本机保存的不同。要改用它吗？",
    "This link carries another customer token (ending {tail}) than the one saved on this phone. Use it instead?",
  ],
  switchUse: ["改用链接中的令牌", "Use the link's token"],
  switchKeep: ["保留本机的令牌", "Keep the saved token"],
  badToken: ["会员令牌无效或已失效，请重新输入", "This customer token is unknown or revoked: enter it again"],
  notCustomer: ["这不是会员令牌，请使用商家 App 提供的会员令牌", "This is not a customer token: use the one the shop's app gives you"],
  needToken: ["请输入会员令牌", "Enter your customer token"],
  continue: ["进入领券中心", "Open the coupon center"],
  // Claiming.
  claimNow: ["立即领取", "Claim now"],
  claiming: ["领取中…", "Claiming…"],
  claimed: ["领取成功", "Claimed"],
  couponCode: ["券码", "Coupon code"],
  validFrom: ["生效时间", "Valid from"],
  validUntil: ["失效时间", "Valid until"],
  claimedNote: ["领取成功，券码 {code}，有效期至 {until}", "Claimed: code {code}, valid until {until}"],
  claim: ["领取", "Claim"],
  loadMore: ["加载更多", "Load more"],
  empty: ["暂时没有可领取的优惠券", "No coupons to claim right now"],
  listLabel: ["可领取的优惠券", "Coupons you can claim"],
  shown: ["已显示 {n} / {total} 张", "Showing {n} of {total}"],
} satisfies Messages;

export type MemberKey = keyof typeof member;

/** The member pages' translator in the current language. */
export function useMember() {
  return translator(member, useLang());
}
