//! The OpenAPI 3 document, generated from the handlers' annotations, with the error-code table.

use quan_core::ErrorCode;
use utoipa::OpenApi;

use crate::routes::{
    catalog, checkout, claims, events, history, jobs, keys, members, orders, rfm, segments, system,
    templates, wallet,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "quan", description = "quan (券): coupon templates, claiming, wallets, checkout and the SCRM."),
    paths(
        system::healthz, system::openapi, keys::create,
        templates::create, templates::get, templates::list, templates::update,
        templates::activate, templates::pause, templates::end,
        claims::claim, claims::grant, claims::create_link, claims::create_claim_codes,
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

/// The document served at `GET /openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let mut table = String::from(
        "quan (券): coupon templates, claiming, wallets and checkout quotes.\n\nEvery failure answers `{\"error\": {\"code\", \"message\", \"field\"}}`.\n\n## Error codes\n\n| code | status | meaning |\n| --- | --- | --- |\n",
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
    doc
}
