//! Segments: listed members or saved rules; their size and members.

use jiff::Timestamp;
use quan_core::access::Principal;
use quan_core::scrm::Rule;
use quan_core::text::{Id, Name};
use quan_core::ErrorCode;
use quan_store::scrm::{self, SegmentDefinition, SegmentRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::keys::Capability;
use crate::members::MemberView;
use crate::page::{self, PageBody, Paging};
use crate::{require, App, Error, Result};

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentBody {
    pub name: Name,
    /// A listed segment: these members.
    pub member_ids: Option<Vec<Id>>,
    /// A rule segment: evaluated whenever it is asked (`and` / `or` / `not` over conditions).
    pub rule: Option<Rule>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SegmentView {
    pub id: String,
    pub name: String,
    /// `listed` or `rule`.
    pub kind: String,
    pub rule: Option<Rule>,
    /// Members as of now (or `as_of`); absent in lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<usize>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl SegmentView {
    fn new(s: SegmentRecord, size: Option<usize>) -> Self {
        let (kind, rule) = match s.definition {
            SegmentDefinition::Listed(_) => ("listed", None),
            SegmentDefinition::Rule(rule) => ("rule", Some(rule)),
        };
        SegmentView {
            id: s.id,
            name: s.name,
            kind: kind.into(),
            rule,
            size,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    pub rule: Rule,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub size: usize,
    /// The first members by id (at most 20).
    pub sample: Vec<String>,
}

/// What a segment's member list takes.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

fn definition(body: SegmentBody) -> Result<(String, SegmentDefinition)> {
    let definition = match (body.member_ids, body.rule) {
        (Some(ids), None) => {
            if ids.len() > 100_000 {
                return Err(Error::field(
                    ErrorCode::TooLarge,
                    "member_ids",
                    "at most 100000 per call",
                ));
            }
            SegmentDefinition::Listed(ids.into_iter().map(Id::into_string).collect())
        }
        (None, Some(rule)) => {
            rule.validate("rule")?;
            SegmentDefinition::Rule(rule)
        }
        _ => {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                "rule",
                "give exactly one of member_ids and rule",
            ))
        }
    };
    Ok((body.name.into_string(), definition))
}

/// The CSV columns of a segment's members (`joined_at` empty and `member` false for a buyer
/// who never joined).
pub const MEMBER_CSV_HEADER: [&str; 12] = [
    "id",
    "joined_at",
    "tier",
    "region",
    "lifecycle_stage",
    "rfm_tier",
    "r",
    "f",
    "m",
    "orders_count",
    "total_spent",
    "member",
];

impl MemberView {
    /// The member as one CSV row of [`MEMBER_CSV_HEADER`].
    pub fn csv_row(self) -> [String; 12] {
        [
            self.id,
            self.joined_at.map(|t| t.to_string()).unwrap_or_default(),
            self.tier.unwrap_or_default(),
            self.region.unwrap_or_default(),
            self.lifecycle_stage.as_str().to_string(),
            self.rfm.tier,
            self.rfm.r.to_string(),
            self.rfm.f.to_string(),
            self.rfm.m.to_string(),
            self.orders_count.to_string(),
            self.total_spent.to_string(),
            self.member.to_string(),
        ]
    }
}

impl App {
    /// Creates or replaces a segment: a list of members or a rule. Whether it is new, and the
    /// segment with its size.
    pub async fn put_segment(
        &self,
        principal: &Principal,
        id: Id,
        body: SegmentBody,
    ) -> Result<(bool, SegmentView)> {
        require(principal, Capability::Segments.roles())?;
        let (name, definition) = definition(body)?;
        let now = self.now();
        let existing = self.store.segment(&id).await?;
        let created_at = existing.as_ref().map_or(now, |s| s.created_at);
        let saved = self
            .store
            .put_segment(SegmentRecord {
                id: id.into_string(),
                name,
                definition,
                created_at,
                updated_at: now,
            })
            .await?;
        let size = scrm::segment_members(self.store.as_ref(), &saved, now)
            .await?
            .len();
        Ok((existing.is_none(), SegmentView::new(saved, Some(size))))
    }

    /// Creates a segment with a new id.
    pub async fn create_segment(
        &self,
        principal: &Principal,
        body: SegmentBody,
    ) -> Result<SegmentView> {
        let id = Id::parse(quan_store::new_id("seg", self.now().as_millisecond()))
            .map_err(|_| Error::internal())?;
        Ok(self.put_segment(principal, id, body).await?.1)
    }

    async fn segment_record(&self, principal: &Principal, id: &str) -> Result<SegmentRecord> {
        require(principal, Capability::Segments.roles())?;
        self.store
            .segment(id)
            .await?
            .ok_or_else(|| Error::not_found("segment"))
    }

    /// One segment with its size as of now (or `as_of`).
    pub async fn segment(
        &self,
        principal: &Principal,
        id: &Id,
        as_of: Option<Timestamp>,
    ) -> Result<SegmentView> {
        let s = self.segment_record(principal, id).await?;
        let size = scrm::segment_members(self.store.as_ref(), &s, self.as_of(as_of)?)
            .await?
            .len();
        Ok(SegmentView::new(s, Some(size)))
    }

    /// Segments in id order (without sizes: ask one segment for its size).
    pub async fn list_segments(
        &self,
        principal: &Principal,
        paging: Paging,
    ) -> Result<PageBody<SegmentView>> {
        require(principal, Capability::Segments.roles())?;
        let page = self
            .store
            .list_segments(paging.limit()?, paging.cursor)
            .await?;
        Ok(PageBody::from(page, |s| SegmentView::new(s, None)))
    }

    /// Sizes a rule without saving it.
    pub async fn preview_segment(
        &self,
        principal: &Principal,
        body: PreviewBody,
    ) -> Result<PreviewView> {
        require(principal, Capability::Segments.roles())?;
        body.rule.validate("rule")?;
        let members =
            scrm::rule_members(self.store.as_ref(), &body.rule, self.as_of(body.as_of)?).await?;
        Ok(PreviewView {
            size: members.len(),
            sample: members.into_iter().take(20).collect(),
        })
    }

    /// A segment's members as of now (or `as_of`), in id order.
    pub async fn segment_members(
        &self,
        principal: &Principal,
        id: &Id,
        q: MembersQuery,
    ) -> Result<PageBody<MemberView>> {
        let limit = page::limit(q.limit)? as usize;
        let s = self.segment_record(principal, id).await?;
        let now = self.now();
        let ids = scrm::segment_members(self.store.as_ref(), &s, self.as_of(q.as_of)?).await?;
        let start = q
            .cursor
            .as_ref()
            .map_or(0, |c| ids.partition_point(|m| m <= c));
        let config = scrm::lifecycle_config(self.store.as_ref()).await?;
        let mut items = Vec::new();
        for m in ids.iter().skip(start).take(limit) {
            if let Some(record) = self.store.member(m).await? {
                items.push(MemberView::current(record, now, &config));
            }
        }
        let next = (start + limit < ids.len()).then(|| ids[start + limit - 1].clone());
        Ok(PageBody {
            items,
            total: ids.len() as i64,
            next,
        })
    }

    /// Every member of a segment as of now (or `as_of`), in id order, for an export.
    pub async fn segment_export(
        &self,
        principal: &Principal,
        id: &Id,
        as_of: Option<Timestamp>,
    ) -> Result<Vec<MemberView>> {
        let s = self.segment_record(principal, id).await?;
        let _report = self
            .reports
            .acquire()
            .await
            .map_err(|_| Error::internal())?;
        let now = self.now();
        let ids: std::collections::HashSet<String> =
            scrm::segment_members(self.store.as_ref(), &s, self.as_of(as_of)?)
                .await?
                .into_iter()
                .collect();
        let config = scrm::lifecycle_config(self.store.as_ref()).await?;
        Ok(self
            .store
            .all_members()
            .await?
            .into_iter()
            .filter(|m| ids.contains(&m.profile.id))
            .map(|m| MemberView::current(m, now, &config))
            .collect())
    }
}
