//! What a signed link shows before it is claimed, and short links for SMS (淘短链).
//!
//! A link's `url` carries the whole signed token (about 150 characters): too long for an SMS,
//! where characters count. Every link made through the API also answers a `short_url` of seven
//! characters under quan's own address, which redirects to the claim page until the link expires.

use jiff::Timestamp;
use quan_core::access::Principal;
use quan_core::claim::Route;
use quan_core::link;
use quan_core::template::Channel;
use quan_core::ErrorCode;
use quan_store::NewShortLink;
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::center::{Asking, PublicTemplate};
use crate::claims::LinkAnswer;
use crate::{App, Error, Result, Role};

/// Characters in a short code: 62^7 ≈ 3.5 × 10^12 codes.
const SHORT_CODE_LEN: usize = 7;
/// Draws of a code before giving up (a collision is already a one in millions event).
const SHORT_CODE_DRAWS: usize = 8;

/// A signed link as the claim page shows it: the coupon's public terms, and whether it still
/// works.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkView {
    pub template_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// The user the link is bound to, if any (only that user may claim with it).
    pub user_id: Option<String>,
    /// The link can no longer be claimed with.
    pub expired: bool,
    pub template: PublicTemplate,
    /// Whether the calling customer's claim with this link would be accepted now, decided as
    /// the claim itself decides; `null` when the caller is no customer (no key, an operator's
    /// key): the page cannot know before the member is known.
    pub claimable: Option<bool>,
    /// Why not, as the claim would answer it (`invalid_link`, `user_limit`, `out_of_stock`, ...);
    /// `null` when claimable or unknown.
    pub reason: Option<ErrorCode>,
}

/// `?channel=&region=`: where the member opened the link, as the claim will say it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    /// The channel the member claims on (templates that restrict channels need it).
    pub channel: Option<Channel>,
    /// The member's region code (templates that restrict regions need it).
    pub region: Option<String>,
}

impl App {
    /// Records a short code for a link just signed and answers it with its `short_url`.
    pub(crate) async fn shorten(
        &self,
        template_id: &str,
        mut answer: LinkAnswer,
    ) -> Result<LinkAnswer> {
        for _ in 0..SHORT_CODE_DRAWS {
            let code = Alphanumeric.sample_string(&mut rand::rng(), SHORT_CODE_LEN);
            let fresh = self
                .store
                .insert_short_link(NewShortLink {
                    code: code.clone(),
                    template_id: template_id.to_string(),
                    link: answer.link.clone(),
                    expires_at: answer.expires_at,
                    now: self.now(),
                })
                .await?;
            if fresh {
                answer.short_url = Some(format!("{}/s/{code}", self.base_url()));
                return Ok(answer);
            }
        }
        Err(Error::failure("no free short code after several draws"))
    }

    /// Where a short code leads: the claim page's URL, while its link has not expired.
    pub async fn resolve_short_link(&self, code: &str) -> Result<Option<String>> {
        if code.len() != SHORT_CODE_LEN || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Ok(None);
        }
        Ok(match self.store.short_link(code).await? {
            Some(s) if s.expires_at > self.now() => Some(self.claim_url(&s.template_id, &s.link)),
            _ => None,
        })
    }

    /// What a signed link offers, for the claim page (no key needed: holding the link is the
    /// right to see it), and, for a customer's key, whether that customer may claim with it. A
    /// forged or malformed link, or one whose template is gone, is not found.
    pub async fn link_view(
        &self,
        caller: Option<&Principal>,
        signed: &str,
        q: LinkQuery,
    ) -> Result<LinkView> {
        // Every refusal of `open` (malformed, forged) reads the same: no such link.
        let claims = link::open(&self.link_secret, signed)
            .map_err(|_| Error::field(ErrorCode::NotFound, "link", "no such link"))?;
        let record = self
            .store
            .template(&claims.template_id)
            .await?
            .ok_or_else(|| Error::not_found("link"))?;
        let expires_at = Timestamp::from_second(claims.expires_at).map_err(Error::failure)?;
        let now = self.now();
        // A campaign message's link: an open of the claim page counts in its funnel.
        if let Some(campaign) = &claims.campaign_id {
            self.store
                .record_link_open(campaign, self.zone.day_number(now))
                .await?;
        }
        let customer = caller
            .filter(|p| p.role == Role::Customer)
            .and_then(|p| p.user_id.as_deref());
        let decided = match customer {
            Some(user_id) => {
                let valid = link::verify(
                    &self.link_secret,
                    signed,
                    &claims.template_id,
                    user_id,
                    now.as_second(),
                )
                .is_ok();
                let ask = Asking {
                    user_id,
                    channel: q.channel,
                    region: q.region.as_deref(),
                    route: Route::Link { valid },
                };
                Some(self.would_claim(&record, &ask).await?)
            }
            None => None,
        };
        Ok(LinkView {
            template_id: claims.template_id,
            expires_at,
            user_id: claims.user_id,
            expired: now >= expires_at,
            template: record.into(),
            claimable: decided.map(|d| d.is_ok()),
            reason: decided.and_then(|d| d.err()),
        })
    }

    /// The claim page's URL for a signed link of a template.
    pub(crate) fn claim_url(&self, template_id: &str, signed: &str) -> String {
        format!(
            "{}/claim?template={template_id}&link={signed}",
            self.base_url()
        )
    }

    fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}
