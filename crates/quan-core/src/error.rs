//! The one table of stable error codes: each code's HTTP status and meaning.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! codes {
    ($( $variant:ident = ($code:literal, $status:literal, $meaning:literal), )*) => {
        /// A stable, snake_case error code. The list is part of the API: codes are added, never renamed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $( #[doc = $meaning] $variant, )* }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$( ErrorCode::$variant, )*];

            /// The code as it appears in error bodies.
            pub fn as_str(self) -> &'static str {
                match self { $( ErrorCode::$variant => $code, )* }
            }

            /// The HTTP status that carries this code.
            pub fn status(self) -> u16 {
                match self { $( ErrorCode::$variant => $status, )* }
            }

            /// One sentence saying when the code is given.
            pub fn meaning(self) -> &'static str {
                match self { $( ErrorCode::$variant => $meaning, )* }
            }
        }
    };
}

codes! {
    MalformedJson = ("malformed_json", 400, "The body is not valid JSON."),
    InvalidType = ("invalid_type", 400, "A field has the wrong type or an unreadable value."),
    UnknownField = ("unknown_field", 400, "The body has a field the API does not know."),
    MissingField = ("missing_field", 400, "A required field is absent."),
    BadRequest = ("bad_request", 400, "The request cannot be read (bad header, query or path)."),
    Unauthorized = ("unauthorized", 401, "No API key, or an unknown one."),
    Forbidden = ("forbidden", 403, "The key's role may not do this."),
    NotFound = ("not_found", 404, "No such resource, or it belongs to another merchant."),
    MethodNotAllowed = ("method_not_allowed", 405, "The path does not accept this method."),
    NotClaimableNow = ("not_claimable_now", 409, "The template is not active or outside its claim window."),
    RouteNotAllowed = ("route_not_allowed", 409, "The template's distribution does not allow this route."),
    NeedsLink = ("needs_link", 409, "A link_only template needs a signed link or a claim code."),
    InvalidLink = ("invalid_link", 409, "The link or claim code is forged, expired, used or for another template."),
    ChannelNotAllowed = ("channel_not_allowed", 409, "The template does not allow the request's channel."),
    RegionNotAllowed = ("region_not_allowed", 409, "The template does not allow the request's region."),
    NotInAudience = ("not_in_audience", 409, "The user is not in the template's audience."),
    UserLimit = ("user_limit", 409, "The user has reached the per-user limit."),
    DailyLimit = ("daily_limit", 409, "The user has reached the per-day limit for today (tenant's local day)."),
    OutOfStock = ("out_of_stock", 409, "The template's stock is exhausted."),
    InvalidState = ("invalid_state", 409, "The resource's status does not allow this change."),
    CouponNotUsable = ("coupon_not_usable", 409, "A coupon of the order is not the member's, not claimed, not valid, or cannot apply to the cart; its id is in `field`."),
    NotYetValid = ("not_yet_valid", 409, "The coupon's validity has not begun."),
    Expired = ("expired", 409, "The coupon's validity has ended."),
    OutsideUsableWeekdays = ("outside_usable_weekdays", 409, "Today (tenant-local) is not one of the coupon's usable weekdays."),
    OutsideUsableHours = ("outside_usable_hours", 409, "The local time is outside the coupon's usable hours."),
    WrongChannel = ("wrong_channel", 409, "The coupon is not usable on this channel."),
    WrongRegion = ("wrong_region", 409, "The coupon is not usable in this region."),
    WrongOrder = ("wrong_order", 409, "The coupon is for other orders of the member (usable_on_orders)."),
    WrongStore = ("wrong_store", 409, "No line of the purchase is from the coupon's store."),
    OutOfScope = ("out_of_scope", 409, "No line of the purchase is in the coupon's categories or products."),
    ActivityPriceExcluded = ("activity_price_excluded", 409, "Every line the coupon could take is at an activity price, which it excludes."),
    BelowThreshold = ("below_threshold", 409, "The lines the coupon may take do not reach its threshold."),
    PinNotApplicable = ("pin_not_applicable", 409, "A pinned coupon cannot legally be used on this cart; its id is in `field`."),
    TooComplex = ("too_complex", 422, "The wallet has too many combinations for this cart; pin or exclude coupons."),
    Conflict = ("conflict", 409, "The resource already exists with other content."),
    PayloadTooLarge = ("payload_too_large", 413, "The body is larger than the API accepts."),
    InvalidValue = ("invalid_value", 422, "A value breaks a rule of the domain."),
    ReductionExceedsThreshold = ("reduction_exceeds_threshold", 422, "A reduction is larger than its (non-zero) threshold."),
    RateOutOfRange = ("rate_out_of_range", 422, "A rate in basis points is outside 1..9999."),
    NotPositive = ("not_positive", 422, "An amount, cap, count or limit must be at least 1."),
    Negative = ("negative", 422, "An amount must not be negative."),
    TooLarge = ("too_large", 422, "A number or list is larger than quan accepts."),
    EmptyList = ("empty_list", 422, "A list must have at least one element."),
    WindowInverted = ("window_inverted", 422, "An end time is not after its start time."),
    FundingNotWhole = ("funding_not_whole", 422, "Funding shares do not sum to 10000 basis points."),
    ScopeNotAllowed = ("scope_not_allowed", 422, "Gift and free-shipping coupons take store or platform scope only."),
    DistributionConflict = ("distribution_conflict", 422, "public and link_only cannot be combined."),
    RouteNotDistributed = ("route_not_distributed", 422, "The template's distribution never honours this route (links or claim codes on a service_only or campaign_only template): they would take stock for nothing."),
    IdempotencyMismatch = ("idempotency_mismatch", 422, "The Idempotency-Key was used with another request body."),
    RateLimited = ("rate_limited", 429, "Too many requests."),
    Internal = ("internal", 500, "An unexpected failure; nothing was changed."),
    Unavailable = ("unavailable", 503, "The service cannot reach its database."),
    UriTooLong = ("uri_too_long", 414, "The request's path and query are longer than the API accepts."),
    InFlight = ("in_flight", 409, "A request with this Idempotency-Key is still being processed."),
}

/// A refusal that names the field at fault by its dotted path (`benefit.off`, `lines[2].qty`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub code: ErrorCode,
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(code: ErrorCode, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            field: field.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_4xx_or_5xx() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
            assert!(code
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!((400..600).contains(&code.status()));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
