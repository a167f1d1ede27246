//! The backend-neutral parts of a claim: the template cache, the facts a claim needs, and the
//! coupon a successful claim creates.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use quan_core::claim::{ClaimAsk, MemberFacts, Route};
use quan_core::coupon::validity_window;
use quan_core::template::{Audience, DistributionMode, Template, TemplateSpec};
use quan_core::zone::TenantZone;

use crate::ids::{new_code, new_id};
use crate::model::{ClaimCommand, ClaimRoute, ClaimedCoupon};
use crate::{Result, StoreError};

/// Parsed templates by id and version, so a hot template's JSON is parsed once, not per claim.
#[derive(Default)]
pub(crate) struct TemplateCache(Mutex<HashMap<String, (i64, Arc<Template>)>>);

impl TemplateCache {
    pub fn get(&self, id: &str, version: i64, spec_json: &str) -> Result<Arc<Template>> {
        if let Some((v, t)) = self.0.lock().expect("cache lock").get(id) {
            if *v == version {
                return Ok(t.clone());
            }
        }
        let spec: TemplateSpec = serde_json::from_str(spec_json)
            .map_err(|e| StoreError::Corrupt(format!("template {id}: {e}")))?;
        let template = Arc::new(
            Template::parse(spec)
                .map_err(|e| StoreError::Corrupt(format!("template {id}: {e}")))?,
        );
        self.0
            .lock()
            .expect("cache lock")
            .insert(id.to_string(), (version, template.clone()));
        Ok(template)
    }
}

/// Whether deciding a claim of `template` needs the member's row.
pub(crate) fn needs_member(template: &Template) -> bool {
    !matches!(
        template.spec().audience,
        Audience::All | Audience::Users { .. }
    ) || template
        .spec()
        .distribution
        .has(DistributionMode::MemberOnly)
}

/// The segment a template's audience names, if any.
pub(crate) fn audience_segment(template: &Template) -> Option<&str> {
    match &template.spec().audience {
        Audience::Segment { segment_id } => Some(segment_id),
        _ => None,
    }
}

/// The core's view of a claim. `code_valid`: the claim code checked out (for code claims).
pub(crate) fn ask<'a>(
    cmd: &'a ClaimCommand,
    member: &'a MemberFacts,
    code_valid: bool,
) -> ClaimAsk<'a> {
    let route = match &cmd.route {
        ClaimRoute::Public => Route::Public,
        ClaimRoute::Link { valid } => Route::Link { valid: *valid },
        ClaimRoute::Code(_) => Route::Code { valid: code_valid },
        ClaimRoute::Service => Route::Service,
        ClaimRoute::Campaign => Route::Campaign,
    };
    ClaimAsk {
        user_id: &cmd.user_id,
        channel: cmd.channel,
        region: cmd.region.as_deref(),
        route,
        member,
    }
}

/// The coupon a successful claim creates, with its validity and the local day it counts on.
pub(crate) fn new_coupon(
    cmd: &ClaimCommand,
    template: &Template,
    zone: &TenantZone,
) -> (ClaimedCoupon, i64) {
    let (valid_from, valid_until) = validity_window(template, cmd.now, zone);
    let coupon = ClaimedCoupon {
        coupon_id: new_id("cpn", cmd.now.as_millisecond()),
        code: new_code(),
        template_id: cmd.template_id.clone(),
        user_id: cmd.user_id.clone(),
        valid_from,
        valid_until,
    };
    (coupon, zone.day_number(cmd.now))
}

/// Whether a claim's template is outside the stores the caller is confined to.
pub(crate) fn hidden_from(cmd: &ClaimCommand, store_id: Option<&str>) -> bool {
    cmd.stores
        .as_ref()
        .is_some_and(|stores| !store_id.is_some_and(|s| stores.iter().any(|o| o == s)))
}
