//! Templates: drafts and their updates, the status machine, lists and their filters.

use quan_core::template::{StatusAction, TemplateStatus};
use quan_core::ErrorCode;
use quan_store::on_both_backends;
use quan_store::testing::Backend;
use quan_store::{ClaimCommand, ClaimRoute, TemplateFilter, TemplateRecord, TemplateUpdate};
use serde_json::json;

use crate::common::*;

on_both_backends!(
    templates_move_through_their_statuses,
    templates_list_by_filter,
    stock_holds_whatever_the_order_of_codes_edits_and_claims,
    parsed_templates_follow_edits_made_by_another_process
);

async fn templates_move_through_their_statuses(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    let t = draft(s, "tpl_a", json!({"stock": 10})).await;
    assert_eq!(
        (t.status, t.remaining, t.issued, t.claimed, t.used),
        (TemplateStatus::Draft, Some(10), 0, 0, 0)
    );
    assert_eq!(
        (t.created_at, t.updated_at, t.store_id.clone()),
        (t0(), t0(), None)
    );
    assert_eq!(s.template("tpl_a").await.unwrap(), Some(t.clone()));
    assert_eq!(s.template("nope").await.unwrap(), None);

    // A draft's spec may be replaced; its stock follows.
    let update = |now| TemplateUpdate {
        id: "tpl_a".into(),
        template: spec(json!({"stock": 20, "name": "renamed"})),
        now,
    };
    let u = s
        .update_template(update(at(1)))
        .await
        .unwrap()
        .expect("a draft updates");
    assert_eq!(
        (u.spec().name.as_str(), u.remaining, u.updated_at),
        ("renamed", Some(20), at(1))
    );

    let status = |r: Result<TemplateRecord, ErrorCode>| r.map(|t| (t.status, t.updated_at));
    let mut set = Vec::new();
    for (action, now) in [
        (StatusAction::Pause, at(2)),
        (StatusAction::Activate, at(3)),
        (StatusAction::Pause, at(4)),
        (StatusAction::Activate, at(5)),
        (StatusAction::End, at(6)),
        (StatusAction::Activate, at(7)),
    ] {
        set.push(status(
            s.set_template_status("tpl_a", action, now).await.unwrap(),
        ));
    }
    assert_eq!(
        set,
        [
            Err(ErrorCode::InvalidState), // a draft cannot pause
            Ok((TemplateStatus::Active, at(3))),
            Ok((TemplateStatus::Paused, at(4))),
            Ok((TemplateStatus::Active, at(5))),
            Ok((TemplateStatus::Ended, at(6))),
            Err(ErrorCode::InvalidState), // ended is final
        ]
    );
    assert_eq!(
        s.update_template(update(at(8)))
            .await
            .unwrap()
            .map(|t| t.id)
            .map_err(|e| e.code),
        Err(ErrorCode::InvalidState),
        "only a draft is updated"
    );
    let stored = s.template("tpl_a").await.unwrap().unwrap();
    assert_eq!(
        (stored.spec().name.as_str(), stored.updated_at),
        ("renamed", at(6))
    );
    assert_eq!(
        s.set_template_status("nope", StatusAction::End, at(9))
            .await
            .unwrap()
            .map(|t| t.id),
        Err(ErrorCode::NotFound)
    );
    let missing = TemplateUpdate {
        id: "nope".into(),
        ..update(at(9))
    };
    assert_eq!(
        s.update_template(missing)
            .await
            .unwrap()
            .map(|t| t.id)
            .map_err(|e| e.code),
        Err(ErrorCode::NotFound)
    );
}

async fn templates_list_by_filter(backend: Backend) {
    let db = open(backend).await;
    let s = &*db.store;
    draft(s, "tpl_1", json!({})).await;
    let store = |id: &str| json!({"scope": {"kind": "store", "store_id": id}});
    let t2 = draft(s, "tpl_2", store("s1")).await;
    assert_eq!(t2.store_id.as_deref(), Some("s1"));
    draft(s, "tpl_3", store("s2")).await;
    active(s, "tpl_4", store("s1")).await;

    let ids = |page: &quan_store::Page<TemplateRecord>| -> Vec<String> {
        page.items.iter().map(|t| t.id.clone()).collect()
    };
    let all = |limit, cursor: Option<&str>| TemplateFilter {
        limit,
        cursor: cursor.map(String::from),
        ..TemplateFilter::default()
    };
    let p1 = s.list_templates(all(3, None)).await.unwrap();
    assert_eq!(
        (ids(&p1), p1.total, p1.next.as_deref()),
        (
            vec!["tpl_1".into(), "tpl_2".into(), "tpl_3".into()],
            4,
            Some("tpl_3")
        )
    );
    let p2 = s.list_templates(all(3, p1.next.as_deref())).await.unwrap();
    assert_eq!((ids(&p2), p2.next), (vec!["tpl_4".to_string()], None));

    for (filter, want) in [
        (
            TemplateFilter {
                stores: Some(vec!["s1".into()]),
                ..all(10, None)
            },
            vec!["tpl_2", "tpl_4"],
        ),
        (
            TemplateFilter {
                stores: Some(vec!["s2".into(), "s9".into()]),
                ..all(10, None)
            },
            vec!["tpl_3"],
        ),
        (
            TemplateFilter {
                stores: Some(vec![]),
                ..all(10, None)
            },
            vec![],
        ),
        (
            TemplateFilter {
                status: Some(TemplateStatus::Active),
                ..all(10, None)
            },
            vec!["tpl_4"],
        ),
        (
            TemplateFilter {
                scope_kind: Some("platform".into()),
                ..all(10, None)
            },
            vec!["tpl_1"],
        ),
        (
            TemplateFilter {
                scope_kind: Some("store".into()),
                status: Some(TemplateStatus::Draft),
                ..all(10, None)
            },
            vec!["tpl_2", "tpl_3"],
        ),
    ] {
        let page = s.list_templates(filter.clone()).await.unwrap();
        assert_eq!(ids(&page), want, "{filter:?}");
        assert_eq!(page.total, want.len() as i64, "{filter:?}");
    }
}

/// Claim codes made for a draft take stock; an edit of the draft keeps them counted (its new
/// stock may not fall below them), and activation and claims never hand out more than the
/// stock, in every order of those steps.
async fn stock_holds_whatever_the_order_of_codes_edits_and_claims(backend: Backend) {
    #[derive(Debug, Clone, Copy)]
    enum Step {
        Codes(u32),
        Edit(i64),
        Activate,
        Claims(usize),
        ClaimWithCodes,
    }
    use Step::*;
    let orders: [&[Step]; 6] = [
        // The case that was found: 10 codes for a draft of 10, the draft edited, then claims.
        &[Codes(10), Edit(10), Activate, Claims(10), ClaimWithCodes],
        &[Edit(10), Codes(10), Activate, ClaimWithCodes, Claims(10)],
        &[
            Codes(4),
            Edit(6),
            Codes(4),
            Activate,
            Claims(10),
            ClaimWithCodes,
        ],
        &[
            Codes(6),
            Edit(5),
            Edit(8),
            Activate,
            Claims(10),
            ClaimWithCodes,
        ],
        &[Activate, Codes(3), Claims(10), Codes(5), ClaimWithCodes],
        &[
            Codes(2),
            Edit(2),
            Codes(1),
            Edit(12),
            Activate,
            Claims(4),
            ClaimWithCodes,
            Claims(10),
        ],
    ];
    let db = open(backend).await;
    let s = &*db.store;
    for (n, steps) in orders.iter().enumerate() {
        let id = format!("tpl_stock_{n}");
        draft(s, &id, json!({"stock": 10})).await;
        let mut stock = 10;
        let mut codes: Vec<String> = Vec::new();
        let mut user = 0;
        for step in steps.iter() {
            match *step {
                Codes(k) => {
                    if let Ok(made) = s.make_claim_codes(&id, k, t0()).await.unwrap() {
                        codes.extend(made);
                    }
                }
                Edit(to) => {
                    let edited = s
                        .update_template(TemplateUpdate {
                            id: id.clone(),
                            template: spec(json!({"stock": to})),
                            now: at(1),
                        })
                        .await
                        .unwrap();
                    let issued = codes.len() as i64;
                    match edited {
                        Ok(t) => {
                            assert!(
                                to >= issued,
                                "{steps:?}: an edit below what was issued is refused"
                            );
                            assert_eq!(t.remaining, Some(to - issued), "{steps:?}");
                            stock = to;
                        }
                        Err(e) => {
                            assert_eq!(
                                (e.code, e.field.as_str(), to < issued),
                                (ErrorCode::InvalidValue, "stock", true)
                            );
                        }
                    }
                }
                Activate => {
                    s.set_template_status(&id, StatusAction::Activate, at(2))
                        .await
                        .unwrap()
                        .unwrap();
                }
                Claims(k) => {
                    for _ in 0..k {
                        user += 1;
                        let _ = s.claim(claim(&id, &format!("u{user}"))).await.unwrap();
                    }
                }
                ClaimWithCodes => {
                    for code in codes.iter() {
                        user += 1;
                        let _ = s
                            .claim(ClaimCommand {
                                route: ClaimRoute::Code(code.clone()),
                                ..claim(&id, &format!("u{user}"))
                            })
                            .await
                            .unwrap();
                    }
                }
            }
        }
        let t = s.template(&id).await.unwrap().unwrap();
        let coupons = s.coupon_count(&id).await.unwrap();
        assert!(
            coupons <= stock,
            "{steps:?}: {coupons} coupons from a stock of {stock}"
        );
        assert!(
            t.issued <= stock,
            "{steps:?}: issued {} of {stock}",
            t.issued
        );
        assert_eq!(t.remaining, Some(stock - t.issued), "{steps:?}");
        assert_eq!(t.claimed, coupons, "{steps:?}");
    }
}

/// The parsed template a store hands out is the stored version's, even when another process
/// (a second store on the same database) edited the draft after this one parsed it.
async fn parsed_templates_follow_edits_made_by_another_process(backend: Backend) {
    let db = open(backend).await;
    let (here, there) = (
        &*db.store,
        quan_store::open(&db.url, quan_core::zone::TenantZone::utc())
            .await
            .unwrap(),
    );
    draft(here, "tpl_p", json!({"name": "first"})).await;
    let name = |t: std::sync::Arc<quan_core::template::Template>| t.spec().name.clone();
    let parsed = here.parsed_template("tpl_p").await.unwrap().unwrap();
    assert_eq!(name(parsed), "first");
    there
        .update_template(TemplateUpdate {
            id: "tpl_p".into(),
            template: spec(json!({"name": "second"})),
            now: at(1),
        })
        .await
        .unwrap()
        .expect("a draft updates");
    let parsed = here.parsed_template("tpl_p").await.unwrap().unwrap();
    assert_eq!(name(parsed), "second", "a draft is read again");
    let record = here.template("tpl_p").await.unwrap().unwrap();
    assert_eq!((record.version, record.spec().name.as_str()), (2, "second"));
    there
        .set_template_status("tpl_p", StatusAction::Activate, at(2))
        .await
        .unwrap()
        .expect("activated");
    let active = here.template("tpl_p").await.unwrap().unwrap();
    let settled = here.parsed_template("tpl_p").await.unwrap().unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&active.template, &settled),
        "parsed once per version"
    );
    assert_eq!(here.parsed_template("nope").await.unwrap(), None);
}
