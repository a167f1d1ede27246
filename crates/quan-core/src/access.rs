//! Who may do what (docs/DOMAIN.md section 1): roles and the principal behind an API key.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The role an API key carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything in the tenant.
    Platform,
    /// Its own stores only.
    Merchant,
    /// A store guide (导购): grants the coupons of its stores.
    Guide,
    /// An end customer: claims for itself, reads its wallet, asks for quotes.
    Customer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Platform => "platform",
            Role::Merchant => "merchant",
            Role::Guide => "guide",
            Role::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "platform" => Role::Platform,
            "merchant" => Role::Merchant,
            "guide" => Role::Guide,
            "customer" => Role::Customer,
            _ => return None,
        })
    }
}

/// The caller, as its API key describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub key_id: String,
    pub role: Role,
    /// The stores a merchant or guide key is scoped to.
    pub store_ids: Vec<String>,
    /// The user a customer key speaks for, or the guide a guide key is.
    pub user_id: Option<String>,
}

/// Whether a usable key of `role` may be revoked while `usable_platform_keys` platform keys
/// (itself included) work: never the last platform key, which would leave no one to operate
/// the service (make another first, `quan keys create --role platform`).
pub fn may_revoke(role: Role, usable_platform_keys: i64) -> bool {
    role != Role::Platform || usable_platform_keys > 1
}

impl Principal {
    /// Whether this caller may see and manage things of `store` (`None`: platform-scoped).
    pub fn owns_store(&self, store: Option<&str>) -> bool {
        match self.role {
            Role::Platform => true,
            Role::Merchant | Role::Guide => {
                store.is_some_and(|s| self.store_ids.iter().any(|o| o == s))
            }
            Role::Customer => false,
        }
    }

    /// The stores this caller is confined to; `None` when it sees the whole tenant.
    pub fn store_filter(&self) -> Option<&[String]> {
        match self.role {
            Role::Platform => None,
            _ => Some(&self.store_ids),
        }
    }

    /// The stores whose coupons this caller may issue or see in a member's wallet and the
    /// coupon center; `None` when not confined: an operator, or a customer acting for itself.
    /// Merchants and guides are confined to their stores (a coupon outside them reads as not
    /// found).
    pub fn issuing_stores(&self) -> Option<&[String]> {
        match self.role {
            Role::Merchant | Role::Guide => Some(&self.store_ids),
            Role::Platform | Role::Customer => None,
        }
    }

    /// Whether this caller may act for `user_id` (a customer only for itself).
    pub fn speaks_for(&self, user_id: &str) -> bool {
        match self.role {
            Role::Customer => self.user_id.as_deref() == Some(user_id),
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role) -> Principal {
        Principal {
            key_id: "k".into(),
            role,
            store_ids: vec!["s1".into()],
            user_id: None,
        }
    }

    #[test]
    fn merchants_and_guides_issue_for_their_stores_only() {
        let s1 = ["s1".to_string()];
        assert_eq!(principal(Role::Merchant).issuing_stores(), Some(&s1[..]));
        assert_eq!(principal(Role::Guide).issuing_stores(), Some(&s1[..]));
        assert_eq!(principal(Role::Platform).issuing_stores(), None);
        assert_eq!(principal(Role::Customer).issuing_stores(), None);
    }
}
