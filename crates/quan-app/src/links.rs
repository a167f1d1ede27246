//! What a signed link shows before it is claimed, and short links for SMS (淘短链).
//!
//! A link's `url` carries the whole signed token (about 150 characters): too long for an SMS,
//! where characters count. Every link made through the API also answers a `short_url` of seven
//! characters under quan's own address, which redirects to the claim page until the link expires.

use jiff::Timestamp;
use quan_core::link;
use quan_store::NewShortLink;
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;
use utoipa::ToSchema;

use crate::center::PublicTemplate;
use crate::claims::LinkAnswer;
use crate::{App, Error, Result};

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

    /// What a signed link offers, for the claim page (no key: holding the link is the right to
    /// see it). A forged or malformed link, or one whose template is gone, is not found.
    pub async fn link_view(&self, signed: &str) -> Result<LinkView> {
        // Every refusal of `open` (malformed, forged) reads the same: no such link.
        let claims = link::open(&self.link_secret, signed)
            .map_err(|_| Error::field(quan_core::ErrorCode::NotFound, "link", "no such link"))?;
        let record = self
            .store
            .template(&claims.template_id)
            .await?
            .ok_or_else(|| Error::not_found("link"))?;
        let expires_at = Timestamp::from_second(claims.expires_at).map_err(Error::failure)?;
        Ok(LinkView {
            template_id: claims.template_id,
            expires_at,
            user_id: claims.user_id,
            expired: self.now() >= expires_at,
            template: record.into(),
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
