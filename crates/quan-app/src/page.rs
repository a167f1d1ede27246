//! Paging, as every list takes it: `limit` (1..=500, default 50) and the previous page's `next`.

use quan_core::ErrorCode;
use quan_store::Page;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Error, Result};

/// `?limit=&cursor=`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// At most this many items (1..=500, default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
}

impl Paging {
    pub fn limit(&self) -> Result<u32> {
        limit(self.limit)
    }
}

/// A page size: 1..=500, default 50.
pub fn limit(limit: Option<u32>) -> Result<u32> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=500) => Ok(n),
        Some(_) => Err(Error::field(
            ErrorCode::InvalidValue,
            "limit",
            "must be within 1..500",
        )),
    }
}

/// A page of a list: `{"items", "total", "next"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageBody<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub next: Option<String>,
}

impl<T> PageBody<T> {
    pub fn from<R>(page: Page<R>, f: impl FnMut(R) -> T) -> Self {
        PageBody {
            items: page.items.into_iter().map(f).collect(),
            total: page.total,
            next: page.next,
        }
    }
}
