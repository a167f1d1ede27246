// The Dashboard's words in both languages.
import { translator, useLang, type Messages } from "../../../shared/i18n";

export const messages = {
  title: ["概览", "Dashboard"],
  period: ["统计周期", "Period"],
  days_7: ["近 7 天", "Last 7 days"],
  days_30: ["近 30 天", "Last 30 days"],
  days_90: ["近 90 天", "Last 90 days"],
  range: ["{from} 至 {to}", "{from} to {to}"],
  claimsToday: ["今日领取", "Claims today"],
  claimsTodayUnit: ["张券", "coupons"],
  templatesTitle: ["券模板发放情况", "Templates in the period"],
  chartTemplates: [
    "{period}各券模板的发放、领取、使用数量柱状图（按发放量前 {n} 个），数据见下表",
    "Bar chart of issued, claimed and used coupons per template, {period} (top {n} by issued); the numbers are in the table below",
  ],
  name: ["券模板", "Template"],
  status: ["状态", "Status"],
  issued: ["发放", "Issued"],
  claimed: ["领取", "Claimed"],
  used: ["使用", "Used"],
  periodCol: ["{what}（周期内）", "{what} (period)"],
  totalCol: ["{what}（累计）", "{what} (all time)"],
  stock: ["库存", "Stock"],
  unlimited: ["不限", "Unlimited"],
  noTemplates: ["该周期内没有券模板", "No templates in this period"],
  showAll: ["显示全部 {n} 个", "Show all {n}"],
  tableCaption: ["{period}各券模板的数量", "Coupons per template, {period}"],
  rfmTitle: ["RFM 分层", "RFM tiers"],
  chartRfm: ["会员 RFM 分层环形图：{list}", "Doughnut chart of members by RFM tier: {list}"],
  tier: ["分层", "Tier"],
  tierNone: ["未分层", "No tier"],
  rfmAsOf: ["按 {day} 的数据计算", "Scored as of {day}"],
  members: ["会员数", "Members"],
  noMembers: ["暂无会员数据", "No members yet"],
  stagesTitle: ["生命周期", "Lifecycle stages"],
  chartStages: ["会员生命周期阶段柱状图：{list}", "Bar chart of members by lifecycle stage: {list}"],
  stage: ["阶段", "Stage"],
  status_draft: ["草稿", "Draft"],
  status_active: ["进行中", "Active"],
  status_paused: ["已暂停", "Paused"],
  status_ended: ["已结束", "Ended"],
  loading: ["加载中…", "Loading…"],
} satisfies Messages;

/** The Dashboard's translator in the current language. */
export function useT() {
  return translator(messages, useLang());
}
