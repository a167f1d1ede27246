//! The store's one cache of parsed templates, by id and version, that every reader is handed.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use quan_core::template::{Template, TemplateSpec, TemplateStatus};

use crate::{Result, StoreError};

/// Parsed templates by id, each with the version it was parsed at and whether its content can
/// still change. Only a draft is edited (`TemplateStatus::editable`), and no template returns
/// to draft, so a template read past draft is the same at every later version number: it is
/// handed out without reading its row again. A draft is checked against its row each time.
#[derive(Default)]
pub(crate) struct TemplateCache(RwLock<HashMap<String, Parsed>>);

struct Parsed {
    version: i64,
    settled: bool,
    template: Arc<Template>,
}

impl TemplateCache {
    /// The parsed template of a row just read (`spec_json` at `version`, in `status`), parsed
    /// once per version.
    pub fn parsed(
        &self,
        id: &str,
        version: i64,
        status: TemplateStatus,
        spec_json: &str,
    ) -> Result<Arc<Template>> {
        if let Some(t) = self.at_version(id, version, status) {
            return Ok(t);
        }
        let settled = !status.editable();
        if let Some(p) = self.0.write().expect("template cache").get_mut(id) {
            if p.version == version {
                p.settled |= settled;
                return Ok(p.template.clone());
            }
        }
        let spec: TemplateSpec = serde_json::from_str(spec_json)
            .map_err(|e| StoreError::Corrupt(format!("template {id}: {e}")))?;
        let template = Arc::new(
            Template::parse(spec)
                .map_err(|e| StoreError::Corrupt(format!("template {id}: {e}")))?,
        );
        self.0.write().expect("template cache").insert(
            id.to_string(),
            Parsed {
                version,
                settled,
                template: template.clone(),
            },
        );
        Ok(template)
    }

    /// The template parsed at `version`, if held, when what it is known as covers `status` (a
    /// template parsed as a draft is not taken for the same version read past draft: the
    /// cache marks it settled when [`TemplateCache::parsed`] sees it so).
    pub fn at_version(
        &self,
        id: &str,
        version: i64,
        status: TemplateStatus,
    ) -> Option<Arc<Template>> {
        let settled = !status.editable();
        let cache = self.0.read().expect("template cache");
        cache
            .get(id)
            .filter(|p| p.version == version && p.settled >= settled)
            .map(|p| p.template.clone())
    }

    /// The template, if it was read past draft: its content can no longer change.
    pub fn settled(&self, id: &str) -> Option<Arc<Template>> {
        let cache = self.0.read().expect("template cache");
        cache
            .get(id)
            .filter(|p| p.settled)
            .map(|p| p.template.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(off: i64) -> String {
        json!({
            "name": "t", "scope": {"kind": "platform"},
            "benefit": {"kind": "reduction", "threshold": 0, "off": off},
            "validity": {"kind": "relative", "days": 7},
            "distribution": ["public"],
            "funding": {"platform_bp": 10000, "merchant_bp": 0}
        })
        .to_string()
    }

    #[test]
    fn a_draft_is_read_again_and_a_settled_template_is_not() {
        let cache = TemplateCache::default();
        let draft = cache
            .parsed("t1", 1, TemplateStatus::Draft, &spec(100))
            .unwrap();
        assert!(cache.settled("t1").is_none(), "a draft may still change");
        let edited = cache
            .parsed("t1", 2, TemplateStatus::Draft, &spec(200))
            .unwrap();
        assert_ne!(draft, edited, "a new version is parsed again");
        let active = cache
            .parsed("t1", 2, TemplateStatus::Active, &spec(200))
            .unwrap();
        assert!(Arc::ptr_eq(&edited, &active), "one parse per version");
        assert!(Arc::ptr_eq(&cache.settled("t1").unwrap(), &active));
    }
}
