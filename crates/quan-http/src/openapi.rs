//! The OpenAPI 3 document, generated from the handlers' annotations, with the error-code table.

use quan_core::ErrorCode;
use utoipa::OpenApi;

use crate::routes::{
    campaigns, catalog, center, channels, checkout, claims, dashboard, events, history, jobs, keys,
    members, orders, outbox, planning, rfm, segments, system, tasks, templates, wallet,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "quan", description = "quan (券): coupon templates, claiming, wallets, checkout, the SCRM and campaigns."),
    paths(
        system::healthz, system::openapi, crate::metrics::metrics, keys::create, keys::list, keys::revoke, keys::me,
        templates::create, templates::get, templates::list, templates::update,
        templates::activate, templates::pause, templates::end, templates::review,
        claims::claim, claims::grant, claims::create_link, claims::create_claim_codes,
        center::link, center::center, dashboard::dashboard,
        jobs::get, jobs::codes, jobs::codes_csv,
        checkout::quote,
        orders::create, orders::get, orders::pay, orders::cancel, orders::refund,
        wallet::wallet, wallet::coupon, wallet::revoke, wallet::redeem_by_code,
        members::put, members::create, members::get, members::list, members::view_360,
        events::create, events::list, history::put, history::list,
        catalog::put_store, catalog::get_store, catalog::list_stores,
        catalog::put_product, catalog::get_product, catalog::list_products,
        segments::put, segments::create, segments::get, segments::list, segments::preview,
        segments::members, segments::members_csv,
        rfm::get_config, rfm::put_config, rfm::recompute,
        campaigns::create, campaigns::get, campaigns::list, campaigns::members, campaigns::review,
        campaigns::review_csv, campaigns::slices,
        campaigns::activate, campaigns::pause, campaigns::resume, campaigns::end,
        campaigns::apply_playbook,
        planning::forecast, planning::get_economics, planning::put_economics, planning::ltv,
        planning::cac, planning::threshold, planning::pack, planning::lottery,
        planning::get_programme, planning::put_programme, planning::programme_review,
        outbox::list, outbox::get, outbox::retry, channels::put, channels::list,
        tasks::list, tasks::get, tasks::complete, tasks::grant,
    ),
    components(schemas(quan_app::ErrorBody, ErrorCode)),
    modifiers(&Security),
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        doc.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "api_key",
            Vec::<String>::new(),
        )]);
    }
}

/// The document served at `GET /openapi.json`: the handlers' annotations, the error-code
/// table, and every variant of a tagged union as a schema of its own (generated clients build
/// one type per variant; inline variants of a recursive union, such as a segment `Rule`, are
/// beyond several generators).
pub fn document() -> serde_json::Value {
    let mut doc = ApiDoc::openapi();
    let mut table = String::from(
        "quan (券): coupon templates, claiming, wallets, checkout, the SCRM and campaigns.\n\nEvery failure answers `{\"error\": {\"code\", \"message\", \"field\"}}`.\n\n## Error codes\n\n| code | status | meaning |\n| --- | --- | --- |\n",
    );
    for code in ErrorCode::ALL {
        table.push_str(&format!(
            "| `{}` | {} | {} |\n",
            code.as_str(),
            code.status(),
            code.meaning()
        ));
    }
    doc.info.description = Some(table);
    let mut doc = serde_json::to_value(doc).expect("the document serializes");
    hoist_variants(&mut doc);
    doc
}

/// Moves the inline object variants of each `oneOf` component tagged by `kind` into
/// components of their own, `{Union}{Kind}` (`RuleAnd`, `ScopeStore`), referenced by `$ref`.
fn hoist_variants(doc: &mut serde_json::Value) {
    use serde_json::{json, Value};
    let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    let mut hoisted = Vec::new();
    for (name, schema) in schemas.iter_mut() {
        let Some(variants) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
            continue;
        };
        let kinds: Option<Vec<String>> = variants
            .iter()
            .map(|v| {
                v.pointer("/properties/kind/enum/0")
                    .and_then(Value::as_str)
                    .filter(|_| v.get("$ref").is_none())
                    .map(str::to_string)
            })
            .collect();
        let Some(kinds) = kinds else {
            continue;
        };
        for (variant, kind) in variants.iter_mut().zip(kinds) {
            let camel: String = kind
                .split('_')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect();
            let component = format!("{name}{camel}");
            let inline = std::mem::replace(
                variant,
                json!({ "$ref": format!("#/components/schemas/{component}") }),
            );
            hoisted.push((component, inline));
        }
    }
    for (component, schema) in hoisted {
        schemas.insert(component, schema);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use serde_json::Value;

    /// Every `$ref` of a value.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r);
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }

    #[test]
    fn the_document_is_one_clients_can_generate_from() {
        let doc = super::document();
        let mut ids = HashSet::new();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                let id = op["operationId"].as_str().unwrap();
                assert!(
                    ids.insert(id.to_string()),
                    "{method} {path}: operationId {id} repeats"
                );
                for p in op["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap();
                    let in_path = path.contains(&format!("{{{name}}}"));
                    assert_eq!(
                        p["in"] == "path",
                        in_path,
                        "{method} {path}: parameter {name} is `in: {}`",
                        p["in"]
                    );
                }
            }
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for name in [
            "Rule",
            "SegmentView",
            "SegmentBody",
            "PreviewBody",
            "RuleAnd",
            "ScopeStore",
            "MessageView",
            "ChannelView",
            "ChannelBody",
            "TaskView",
            "CompleteBody",
        ] {
            assert!(schemas.contains_key(name), "{name} is missing");
        }
        for path in [
            "/v1/outbox",
            "/v1/outbox/{id}",
            "/v1/outbox/{id}/retry",
            "/v1/channels",
            "/v1/channels/{channel}",
            "/v1/tasks",
            "/v1/tasks/{id}",
            "/v1/tasks/{id}/complete",
            "/v1/tasks/{id}/grant",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} is missing");
        }
        for (name, s) in schemas {
            for v in s["oneOf"].as_array().into_iter().flatten() {
                let tagged = v.pointer("/properties/kind").is_some();
                assert!(!tagged, "{name} has an inline tagged variant");
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        for r in all {
            let target = r.strip_prefix("#/components/schemas/").unwrap();
            assert!(schemas.contains_key(target), "{r} points nowhere");
        }
    }
}
