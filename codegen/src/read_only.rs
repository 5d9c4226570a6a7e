//! `#[cdms(read_only)]`: a property read from CDMS and never written (system properties such as
//! `CreatedBy`, `OwningBusinessUnit`, `VersionNumber`, computed `*_Base` amounts).
//!
//! The grammar is in `attr.rs`, the flag is carried to `CdmsField::read_only` by
//! `expand/cdms.rs`, and the runtime's encoder leaves such properties out of every create and
//! MERGE body. The rules here: it conflicts with `id` (the key is sent on create) and is
//! redundant on the `modified`/`created` fields (CDMS's server-managed stamps, never written).
//! The conflict with `skip` is reported with the other `skip` conflicts.

use crate::attr::CdmsFieldAttrs;
use crate::ctxt::Ctxt;
use crate::model::{Field, Role};

/// Reports misplaced `read_only` keys of one field.
pub fn check(cx: &Ctxt, field: &Field, attrs: &CdmsFieldAttrs) {
    let Some(key) = &attrs.read_only else {
        return;
    };
    if attrs.id.is_some() {
        cx.error_at(
            key,
            "`read_only` conflicts with `id`: the CDMS id is sent when a record is created",
        );
    }
    if matches!(field.role, Role::Modified | Role::Created) {
        cx.error_at(
            key,
            "the `modified` and `created` fields mirror CDMS's server-managed ModifiedOn and \
             CreatedOn, which are never written; remove `read_only`",
        );
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use crate::ctxt::Ctxt;
    use crate::model::Synced;

    fn errors(input: syn::DeriveInput) -> Vec<String> {
        let cx = Ctxt::new();
        if let Some(model) = Synced::from_ast(&cx, &input) {
            crate::validate::synced(&cx, &model);
        }
        match cx.finish() {
            Ok(()) => Vec::new(),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn read_only_is_carried_and_checked() {
        let input: syn::DeriveInput = parse_quote! {
            #[cdms(service = "Account")]
            struct Org {
                #[entity(primary_key)] id: i64,
                #[cdms(field = "AccountId", id, read_only)] cdms_id: Option<Uuid>,
                #[entity(modified)] #[cdms(read_only)] modified_on: DateTime<Utc>,
                #[cdms(field = "CreatedBy", read_only)] created_by: Option<Uuid>,
                #[cdms(skip, read_only)] local: Option<String>,
            }
        };
        let cx = Ctxt::new();
        let model = Synced::from_ast(&cx, &input).expect("a model");
        let created_by = model.properties.iter().find(|p| p.name == "CreatedBy");
        assert!(created_by.is_some_and(|p| p.read_only));
        drop(cx);
        let errors = errors(input);
        let expected = [
            "`read_only` conflicts with `id`",
            "the `modified` and `created` fields mirror",
            "`read_only` conflicts with `skip`",
        ];
        assert_eq!(errors.len(), expected.len(), "{errors:#?}");
        for want in expected {
            assert!(
                errors.iter().any(|e| e.starts_with(want)),
                "{want:?} missing from {errors:#?}"
            );
        }
    }
}
