// The console shell's words in both languages; each screen keeps its own next to it.
import { translator, useLang, type Messages } from "../shared/i18n";

export const shell = {
  product: ["quan 券 · 运营控制台", "quan · operator console"],
  apiKey: ["API 密钥", "API key"],
  signIn: ["登录", "Sign in"],
  signOut: ["退出", "Sign out"],
  signInIntro: ["用 API 密钥登录。控制台只显示该角色可做的操作。", "Sign in with an API key. The console shows only what its role may do."],
  customerKey: ["这个密钥不能使用控制台（会员密钥请在领券页使用）。", "This key may use nothing in the console (a member's key: use it on the claim page)."],
  nav: ["主导航", "Main navigation"],
  dashboard: ["概览", "Dashboard"],
  templates: ["券模板", "Templates"],
  sandbox: ["结算沙盒", "Checkout sandbox"],
  members: ["会员", "Members"],
  segments: ["人群", "Segments"],
  campaigns: ["营销活动", "Campaigns"],
  calculators: ["经营计算器", "Calculators"],
  language: ["语言", "Language"],
  role: ["角色：{role}", "Role: {role}"],
  platform: ["平台运营", "platform operator"],
  merchant: ["商家", "merchant"],
  guide: ["导购", "store guide"],
  customer: ["会员", "member"],
  loading: ["加载中…", "Loading…"],
  notFound: ["页面不存在", "No such page"],
} satisfies Messages;

/** The shell's translator in the current language. */
export function useShell() {
  return translator(shell, useLang());
}
