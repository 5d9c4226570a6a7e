//! Plans → Rust source: tokens built with `quote`, printed by `prettyplease` (rustfmt-clean).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::plan::{EntityPlan, FieldPlan, FieldType, Role};

/// The source of one entity module.
pub(crate) fn entity_module(plan: &EntityPlan, generator: &str) -> String {
    let ident = format_ident!("{}", plan.ident);
    let service = &plan.service;
    let table = plan.module.trim_end_matches('_');
    let mut header = vec![
        format!(
            " `{}`: CDMS entity `{}`, scaffolded from `$metadata` by {generator}.",
            plan.set, plan.service
        ),
        String::new(),
        " Edit freely: the struct is plain annotated Rust (see the derives' documentation)."
            .to_owned(),
    ];
    if !plan.unmapped.is_empty() {
        header.push(String::new());
        header.push(" Not mapped:".to_owned());
        for (property, reason) in &plan.unmapped {
            header.push(format!(" - `{property}`: {reason}"));
        }
    }
    let header = header.iter().map(|line| quote!(#![doc = #line]));
    let uses = uses(plan);
    let fields = plan.fields.iter().map(field);
    let struct_doc = format!(" CDMS `{service}` (set `{}`, table `{table}`).", plan.set);
    let option_sets = plan.option_sets.iter().map(|(name, property)| {
        let name = format_ident!("{name}");
        let doc = format!(
            " The `{property}` option set of `{service}`: the code as CDMS stores it (the labels \
             are not in `$metadata`)."
        );
        quote! {
            #[doc = #doc]
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, OptionSet)]
            pub struct #name(pub i32);
        }
    });
    let tokens = quote! {
        #(#header)*
        #uses

        #[doc = #struct_doc]
        #[derive(Debug, Clone, PartialEq, Entity, CdmsSynced)]
        #[entity(table = #table)]
        #[cdms(service = #service)]
        pub struct #ident {
            /// The local primary key (0 until saved).
            #[entity(primary_key)]
            pub id: i64,
            #(#fields)*
        }

        #(#option_sets)*
    };
    unparse(tokens)
}

/// The `mod.rs` listing the modules and `entities()`, referenced entities first.
pub(crate) fn mod_rs(plans: &[&EntityPlan], generator: &str) -> String {
    let header = format!(" Entities scaffolded from CDMS's `$metadata` by {generator}.");
    // Declarations in rustfmt's order; `entities()` keeps the reference order.
    let mut sorted = plans.to_vec();
    sorted.sort_by(|a, b| a.module.cmp(&b.module));
    let modules = sorted.iter().map(|p| format_ident!("{}", p.module));
    let reexports = sorted.iter().map(|p| {
        let module = format_ident!("{}", p.module);
        let ident = format_ident!("{}", p.ident);
        quote!(pub use #module::#ident;)
    });
    let metas = plans.iter().map(|p| {
        let ident = format_ident!("{}", p.ident);
        quote!(<#ident as ::cdms_runtime::Entity>::META)
    });
    let tokens = quote! {
        #![doc = #header]

        #(pub mod #modules;)*

        #(#reexports)*

        /// Every scaffolded entity, referenced entities before the entities that reference them:
        /// the order in which to create tables and load.
        pub fn entities() -> &'static [&'static ::cdms_runtime::EntityMeta] {
            const ALL: &[&::cdms_runtime::EntityMeta] = &[#(#metas),*];
            ALL
        }
    };
    unparse(tokens)
}

fn uses(plan: &EntityPlan) -> TokenStream {
    let has = |pred: &dyn Fn(&FieldPlan) -> bool| plan.fields.iter().any(pred);
    let plain = |name: &'static str| move |f: &FieldPlan| f.ty == FieldType::Plain(name);
    let mut runtime = vec![quote!(CdmsSynced), quote!(Entity)];
    if !plan.option_sets.is_empty() {
        runtime.push(quote!(OptionSet));
    }
    if has(&|f| matches!(f.ty, FieldType::Ref { .. })) {
        runtime.push(quote!(Ref));
    }
    let mut out = quote!(use cdms_runtime::{#(#runtime),*};);
    if has(&plain("DateTime<Utc>")) {
        out.extend(quote!(
            use chrono::{DateTime, Utc};
        ));
    }
    if has(&plain("Decimal")) {
        out.extend(quote!(
            use rust_decimal::Decimal;
        ));
    }
    if has(&plain("Uuid")) {
        out.extend(quote!(
            use uuid::Uuid;
        ));
    }
    out
}

fn field(f: &FieldPlan) -> TokenStream {
    let ident = format_ident!("{}", f.ident);
    let docs = wrap(&f.docs.join(" "), 92).into_iter().map(|d| {
        let d = format!(" {d}");
        quote!(#[doc = #d])
    });
    let inner = match &f.ty {
        FieldType::Plain(name) => {
            syn::parse_str::<syn::Type>(name).map_or_else(|_| quote!(String), |t| quote!(#t))
        }
        FieldType::OptionSet(name) => {
            let name = format_ident!("{name}");
            quote!(#name)
        }
        FieldType::Ref { module, ident } => {
            let module = format_ident!("{module}");
            let ident = format_ident!("{ident}");
            quote!(Ref<super::#module::#ident>)
        }
    };
    let ty = if f.optional {
        quote!(Option<#inner>)
    } else {
        inner
    };
    let property = &f.property;
    let attrs = match f.role {
        Role::Id => quote! {
            #[entity(unique)]
            #[cdms(field = #property, id)]
        },
        Role::Modified => quote!(#[entity(modified)]),
        Role::Created => quote!(#[entity(created)]),
        Role::Plain => {
            let mut keys = vec![quote!(field = #property)];
            if f.money {
                keys.push(quote!(money));
            }
            if f.null_default {
                keys.push(quote!(null = default));
            }
            if f.raw_lookup {
                keys.push(quote!(with = ::cdms_runtime::cdms::lookup::raw_id));
            }
            if f.read_only {
                keys.push(quote!(read_only));
            }
            quote!(#[cdms(#(#keys),*)])
        }
    };
    quote! {
        #(#docs)*
        #attrs
        pub #ident: #ty,
    }
}

/// prettyplease breaks lines at 89 columns, rustfmt at 100: a field type it broke as
/// `pub f: Option<` / `Type,` / `>,` is put back on one line when that fits in 100 columns, as
/// rustfmt writes it.
fn join_short_generics(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::with_capacity(lines.len());
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let field = line.starts_with("    pub ") && line.ends_with('<');
        if field && i + 2 < lines.len() && lines[i + 2] == "    >," {
            let inner = lines[i + 1].trim().trim_end_matches(',');
            let joined = format!("{line}{inner}>,");
            if joined.chars().count() <= 100 {
                out.push(joined);
                i += 3;
                continue;
            }
        }
        out.push(line.to_owned());
        i += 1;
    }
    out
}

/// `text` in lines of at most `width` characters (a longer word stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Prints `tokens` as a file, with a blank line between top-level items (which rustfmt keeps
/// and prettyplease leaves out). Tokens built here always parse; should a bug make them not,
/// the text is still returned (unformatted) rather than panicking.
fn unparse(tokens: TokenStream) -> String {
    let text = match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => return tokens.to_string(),
    };
    let mut out = String::with_capacity(text.len() + 256);
    let mut previous = "";
    for line in &join_short_generics(&text) {
        let line = line.as_str();
        let top_level = !line.starts_with(char::is_whitespace) && !line.is_empty();
        let item_ended = previous == "}" || previous.ends_with(';');
        let header_ended = previous.starts_with("//!") && !line.starts_with("//!");
        let uses = previous.starts_with("use ") && line.starts_with("use ");
        let members = previous.starts_with("pub mod ") && line.starts_with("pub mod ")
            || previous.starts_with("pub use ") && line.starts_with("pub use ");
        if top_level && (item_ended || header_ended) && !uses && !members {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = line;
    }
    out
}
