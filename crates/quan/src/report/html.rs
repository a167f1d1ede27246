//! A campaign's review as one self-contained HTML page to mail: its figures in tables and its
//! charts as inline SVG, with no script, style sheet or image from anywhere else.

use std::fmt::Write;

use quan_app::review::CampaignReview;

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Minor units as ¥ with two decimals.
fn yuan(minor: i64) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let m = minor.unsigned_abs();
    format!("{sign}¥{}.{:02}", m / 100, m % 100)
}

fn percent(bp: i64) -> String {
    format!("{:.2}%", bp as f64 / 100.0)
}

fn ratio(bp: Option<i64>) -> String {
    bp.map_or("—".into(), |bp| format!("{:.2}×", bp as f64 / 10_000.0))
}

const COLORS: [&str; 3] = ["#0a58ca", "#c7254e", "#1a7f37"];

/// Horizontal bars, one per row, each labelled with its value.
fn bars(title: &str, rows: &[(String, i64, String)]) -> String {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let height = 28 * rows.len() + 10;
    let mut svg = format!(
        r#"<svg role="img" aria-label="{}" width="640" height="{height}" viewBox="0 0 640 {height}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = 5 + 28 * i;
        let w = (*value.max(&0) as f64 / max * 380.0).round();
        let _ = write!(
            svg,
            r#"<text x="0" y="{}" font-size="13">{}</text><rect x="170" y="{y}" width="{w}" height="20" fill="{}"/><text x="{}" y="{}" font-size="13">{}</text>"#,
            y + 15,
            esc(label),
            COLORS[i % 2],
            180.0 + w,
            y + 15,
            esc(shown),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Grouped columns per day (granted, used, given back).
fn daily(r: &CampaignReview) -> String {
    let n = r.daily.len().max(1);
    let max = r
        .daily
        .iter()
        .map(|d| d.granted.max(d.used).max(d.returned))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let step = (600.0 / n as f64).max(3.0);
    let width = (step * n as f64 + 40.0).ceil();
    let mut svg = format!(
        r##"<svg role="img" aria-label="grants and uses per day" width="{width}" height="200" viewBox="0 0 {width} 200" xmlns="http://www.w3.org/2000/svg"><line x1="0" y1="180" x2="{width}" y2="180" stroke="#999"/>"##
    );
    for (i, d) in r.daily.iter().enumerate() {
        for (k, v) in [d.granted, d.used, d.returned].into_iter().enumerate() {
            let h = (v as f64 / max * 170.0).round();
            let x = 20.0 + i as f64 * step + k as f64 * step / 3.0;
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{}" width="{:.1}" height="{h}" fill="{}"><title>{} {}</title></rect>"#,
                180.0 - h,
                (step / 3.0 - 0.5).max(0.5),
                COLORS[k],
                d.day,
                v
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// An estimate's interval on an axis through zero.
fn interval(label: &str, lo: i64, hi: i64, shown: &str) -> String {
    let span = lo.unsigned_abs().max(hi.unsigned_abs()).max(1) as f64;
    let x = |v: i64| 320.0 + v as f64 / span * 280.0;
    format!(
        r##"<svg role="img" aria-label="{l}: {s}" width="640" height="50" viewBox="0 0 640 50" xmlns="http://www.w3.org/2000/svg"><line x1="320" y1="5" x2="320" y2="45" stroke="#999"/><rect x="{a:.1}" y="15" width="{w:.1}" height="20" fill="#0a58ca"/><text x="0" y="12" font-size="12">{l} {s}</text></svg>"##,
        l = esc(label),
        s = esc(shown),
        a = x(lo),
        w = (x(hi) - x(lo)).max(1.0),
    )
}

fn table(rows: &[(&str, String)]) -> String {
    let mut t = String::from("<table>");
    for (k, v) in rows {
        let _ = write!(t, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    t.push_str("</table>");
    t
}

/// The page of a campaign named `name`.
pub fn page(name: &str, r: &CampaignReview) -> String {
    let f = &r.funnel;
    let c = &r.cost;
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1><p>活动复盘 · Campaign review · {} · as of {} · attribution window {} days</p>",
        esc(name),
        esc(&r.campaign_id),
        r.as_of,
        r.attribution_days
    );
    let funnel = [
        ("entered 进入", f.entered),
        ("treated 已触达", f.treated),
        ("held out 对照组", f.held_out),
        ("messages sent 消息发送", f.messages_sent),
        ("messages delivered 送达", f.messages_delivered),
        ("links opened 链接打开", f.links_opened),
        ("granted 发券", f.granted),
        ("used 核销", f.used),
    ];
    body.push_str("<h2>Funnel 转化漏斗</h2>");
    body.push_str(&bars(
        "funnel",
        &funnel
            .iter()
            .map(|(k, v)| (k.to_string(), *v, v.to_string()))
            .collect::<Vec<_>>(),
    ));
    body.push_str("<h2>Daily grants, uses and returns 每日发券、核销与退回</h2>");
    body.push_str(&daily(r));
    body.push_str(&table(&[
        ("face value granted 发放面值", yuan(c.face_value_granted)),
        ("face value used 实际发放成本", yuan(c.face_value_used)),
        (
            "money given, net of refunds 实际让利",
            yuan(c.discount_given),
        ),
        ("coupon orders 用券订单", r.coupon_orders.count.to_string()),
        ("coupon GMV 用券 GMV", yuan(r.coupon_orders.gmv)),
        ("ROI (GMV / money given)", ratio(r.roi_bp)),
    ]));
    let b = &c.by_funder;
    body.push_str("<h2>Cost by funder 出资方</h2>");
    body.push_str(&bars(
        "cost by funder",
        &[
            ("platform 平台".into(), b.platform, yuan(b.platform)),
            ("merchant 商家".into(), b.merchant, yuan(b.merchant)),
            ("supplier 供应商".into(), b.supplier, yuan(b.supplier)),
        ],
    ));
    if let Some(fc) = &r.forecast {
        let a = &fc.actual;
        body.push_str("<h2>Forecast against actual 预估与实际</h2><table><tr><th></th><th>forecast 预估</th><th>actual 实际</th></tr>");
        for (k, e, v) in [
            (
                "issued 发放",
                fc.forecast.issued.to_string(),
                a.issued.to_string(),
            ),
            (
                "used 使用",
                fc.forecast.expected_used.to_string(),
                a.used.to_string(),
            ),
            (
                "use cost 使用成本",
                yuan(fc.forecast.use_cost),
                yuan(a.use_cost),
            ),
            (
                "output 产出",
                yuan(fc.forecast.expected_output),
                yuan(a.output),
            ),
            ("ROI", ratio(fc.forecast.expected_roi_bp), ratio(a.roi_bp)),
        ] {
            let _ = write!(
                body,
                "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
                esc(k),
                esc(&e),
                esc(&v)
            );
        }
        body.push_str("</table>");
    }
    if let Some(h) = &r.holdout {
        body.push_str("<h2>Incrementality 增量（对照组）</h2>");
        body.push_str(&table(&[
            (
                "treated 实验组",
                format!(
                    "{} members, {} converted, {}",
                    h.treated.members,
                    h.treated.converted,
                    yuan(h.treated.revenue)
                ),
            ),
            (
                "held out 对照组",
                format!(
                    "{} members, {} converted, {}",
                    h.control.members,
                    h.control.converted,
                    yuan(h.control.revenue)
                ),
            ),
            (
                "incremental revenue 增量收入",
                h.incremental_revenue.map_or("—".into(), yuan),
            ),
            ("incremental ROI 增量 ROI", ratio(h.incremental_roi_bp)),
            (
                "sample-ratio p-value",
                h.srm_p_value.map_or("—".into(), |p| format!("{p:.3}")),
            ),
        ]));
        if let (Some(u), Some([lo, hi])) = (h.conversion_uplift_bp, h.conversion_uplift_ci95_bp) {
            let shown = format!("{} [{}, {}]", percent(u), percent(lo), percent(hi));
            body.push_str(&interval("conversion uplift 转化率提升", lo, hi, &shown));
        }
        if let (Some(u), Some([lo, hi])) = (
            h.revenue_uplift_per_member,
            h.revenue_uplift_per_member_ci95,
        ) {
            let shown = format!("{} [{}, {}]", yuan(u), yuan(lo), yuan(hi));
            body.push_str(&interval(
                "revenue uplift per member 人均收入提升",
                lo,
                hi,
                &shown,
            ));
        }
        for w in &h.warnings {
            let _ = write!(
                body,
                "<p><strong>{}</strong>: {}</p>",
                esc(&w.code),
                esc(&w.message)
            );
        }
    }
    format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>body{{font-family:sans-serif;max-width:720px;margin:2em auto;color:#222}}\
         table{{border-collapse:collapse;margin:1em 0}}th,td{{border:1px solid #ccc;padding:4px 8px;text-align:left}}</style>\
         </head><body>{body}</body></html>\n",
        esc(name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_money_has_two_decimals() {
        assert_eq!(
            esc("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(
            (yuan(123_456), yuan(-5), yuan(0)),
            ("¥1234.56".into(), "-¥0.05".into(), "¥0.00".into())
        );
        assert!(bars("t", &[("a <b>".into(), 3, "3".into())]).contains("a &lt;b&gt;"));
    }
}
