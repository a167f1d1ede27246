// Every error code of the API in both languages, so a person reads each refusal in their own.

import { ApiError } from "./api";
import type { Lang } from "./i18n";

const MESSAGES: Record<string, readonly [string, string]> = {
  malformed_json: ["请求内容不是有效的 JSON", "The request is not valid JSON"],
  invalid_type: ["字段类型不对或无法读取", "A field has the wrong type or an unreadable value"],
  unknown_field: ["包含系统不认识的字段", "The request has a field quan does not know"],
  missing_field: ["缺少必填项", "A required field is missing"],
  bad_request: ["请求无法读取", "The request cannot be read"],
  unauthorized: ["API 密钥无效或缺失，请重新登录", "No API key, or an unknown one: sign in again"],
  forbidden: ["当前角色无权执行此操作", "Your role may not do this"],
  not_found: ["不存在或无权查看", "Not found, or not yours to see"],
  method_not_allowed: ["不支持的操作", "This operation is not supported"],
  not_claimable_now: ["该券当前不可领取（未开始、已暂停或已结束）", "This coupon cannot be claimed now (not started, paused or ended)"],
  route_not_allowed: ["该券不能通过此途径领取", "This coupon cannot be claimed this way"],
  needs_link: ["该券只能通过专属链接或领券码领取", "This coupon can only be claimed with its own link or a claim code"],
  invalid_link: ["链接或领券码无效、已过期或已使用", "The link or claim code is invalid, expired or used"],
  channel_not_allowed: ["该券不支持当前渠道", "This coupon is not available on this channel"],
  region_not_allowed: ["该券不支持您所在的地区", "This coupon is not available in your region"],
  not_in_audience: ["您不在该券的发放对象中", "This coupon is not offered to you"],
  user_limit: ["您已达到该券的领取上限", "You have reached this coupon's claim limit"],
  daily_limit: ["今天已达到领取上限，明天再来吧", "You have reached today's limit: come back tomorrow"],
  out_of_stock: ["券已领完", "This coupon is sold out"],
  invalid_state: ["当前状态不允许此操作", "Its status does not allow this change"],
  coupon_not_usable: ["有券不可用于此订单", "A coupon cannot be used on this order"],
  not_yet_valid: ["券尚未生效", "The coupon is not valid yet"],
  expired: ["券已过期", "The coupon has expired"],
  outside_usable_weekdays: ["今天不在券的可用日期内", "The coupon cannot be used on this weekday"],
  outside_usable_hours: ["当前不在券的可用时段内", "The coupon cannot be used at this hour"],
  wrong_channel: ["券不能在此渠道使用", "The coupon cannot be used on this channel"],
  wrong_region: ["券不能在此地区使用", "The coupon cannot be used in this region"],
  wrong_order: ["券仅限指定的第几单使用", "The coupon is for another of the member's orders"],
  wrong_store: ["购物车中没有该券适用店铺的商品", "No line is from the coupon's store"],
  out_of_scope: ["购物车中没有该券适用的品类或商品", "No line is in the coupon's categories or products"],
  activity_price_excluded: ["活动价商品不能用券", "Lines at an activity price cannot take this coupon"],
  below_threshold: ["未达到使用门槛", "The cart does not reach the coupon's threshold"],
  pin_not_applicable: ["指定的券不能用于此购物车", "A pinned coupon cannot be used on this cart"],
  too_complex: ["可用券组合过多，请指定或排除部分券", "Too many combinations: pin or exclude coupons"],
  conflict: ["已存在内容不同的同名资源", "It already exists with other content"],
  payload_too_large: ["内容过大", "The request is too large"],
  invalid_value: ["取值不符合规则", "A value breaks a rule"],
  reduction_exceeds_threshold: ["减免金额不能大于门槛金额", "The reduction is larger than its threshold"],
  rate_out_of_range: ["折扣率须在 0.01% 到 99.99% 之间", "The rate must be between 1 and 9999 basis points"],
  not_positive: ["须至少为 1", "Must be at least 1"],
  negative: ["不能为负数", "Must not be negative"],
  too_large: ["数值或列表过大", "The number or list is too large"],
  empty_list: ["至少需要一项", "Needs at least one item"],
  window_inverted: ["结束时间须晚于开始时间", "The end must be after the start"],
  funding_not_whole: ["出资比例之和须为 100%", "Funding shares must sum to 100%"],
  scope_not_allowed: ["赠品券和包邮券只能是店铺或平台范围", "Gift and free-shipping coupons take store or platform scope only"],
  distribution_conflict: ["公开领取与仅链接领取不能同时选择", "public and link_only cannot be combined"],
  route_not_distributed: ["该券的投放方式不支持链接或领券码", "This coupon's distribution never honours links or claim codes"],
  idempotency_mismatch: ["重复提交的内容不一致", "This request was already sent with other content"],
  rate_limited: ["操作太频繁，请稍后再试", "Too many requests: try again shortly"],
  internal: ["系统出错，未做任何更改", "Something went wrong; nothing was changed"],
  unavailable: ["暂时无法连接服务，请稍后再试", "The service cannot be reached: try again shortly"],
  uri_too_long: ["请求地址过长", "The request address is too long"],
  in_flight: ["相同请求正在处理中", "The same request is still being processed"],
};

/** The error in `l`: its code's message, or the API's own words for a code this page lacks. */
export function errorText(e: unknown, l: Lang): string {
  if (e instanceof ApiError) {
    const pair = MESSAGES[e.code];
    return pair ? pair[l === "en" ? 1 : 0] : e.message;
  }
  return l === "en" ? "Something went wrong" : "出错了";
}

/** Whether `code` has a message here (e2e/errors.spec.ts checks every code of the API has one). */
export function knowsCode(code: string): boolean {
  return code in MESSAGES;
}
