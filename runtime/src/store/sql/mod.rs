//! SQL text generation, one module per concern. Every value is bound as a parameter; only
//! identifiers (quoted with [`quote_ident`]) and integers computed here (limits, offsets) are
//! written into the text.

pub mod ddl;
pub mod filter;
pub mod fixed;
pub(crate) mod regex;
mod related;
pub mod select;
pub mod write;

use crate::entity::{EntityMeta, FieldMeta};
use crate::store::bind::Param;
use crate::store::Backend;
use crate::value::{Kind, Value};

/// The most parameters one generated statement binds (SQLite allows 32 766, PostgreSQL 65 535).
pub const MAX_PARAMS: usize = 30_000;

/// The alias of an entity's table in generated `SELECT`s.
pub const MAIN_ALIAS: &str = "t0";
/// The alias of a joined table (`select_related`).
pub const JOIN_ALIAS: &str = "t1";

/// `name` as a quoted SQL identifier (double quotes, embedded quotes doubled).
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    push_ident(&mut out, name);
    out
}

fn push_ident(out: &mut String, name: &str) {
    out.push('"');
    for c in name.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// A statement under construction: text plus the parameters its placeholders refer to.
#[derive(Debug, Clone)]
pub struct Sql {
    text: std::borrow::Cow<'static, str>,
    params: Vec<Param>,
    backend: Backend,
    entity: &'static str,
    /// Subquery aliases handed out so far ([`Sql::fresh_alias`]).
    aliases: usize,
}

impl Sql {
    /// An empty statement for `backend`; `entity` names the entity in error messages.
    pub fn new(backend: Backend, entity: &'static str) -> Self {
        Sql {
            text: std::borrow::Cow::Borrowed(""),
            params: Vec::new(),
            backend,
            entity,
            aliases: 0,
        }
    }

    /// A statement whose text is fixed (the derive's [`crate::entity::FixedSql`]); its
    /// parameters are added with [`Sql::bind`], in placeholder order.
    pub fn fixed(backend: Backend, entity: &'static str, text: &'static str) -> Self {
        Sql {
            text: std::borrow::Cow::Borrowed(text),
            ..Sql::new(backend, entity)
        }
    }

    /// Binds the next placeholder already in the text to `value` as `kind`.
    pub fn bind(&mut self, value: Value, kind: Kind) -> &mut Self {
        self.params.push(Param::new(value, kind));
        self
    }

    /// A table alias not yet used in this statement (`r1`, `r2`, …), for subqueries.
    pub(crate) fn fresh_alias(&mut self) -> String {
        self.aliases += 1;
        format!("r{}", self.aliases)
    }

    /// The SQL text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The bound parameters, in placeholder order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    pub(crate) fn params_mut(&mut self) -> &mut Vec<Param> {
        &mut self.params
    }

    /// The backend the text is written for.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The entity named in error messages.
    pub fn entity(&self) -> &'static str {
        self.entity
    }

    /// Appends raw SQL text (never user input).
    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.to_mut().push_str(s);
        self
    }

    /// Appends a quoted identifier.
    pub fn ident(&mut self, name: &str) -> &mut Self {
        push_ident(self.text.to_mut(), name);
        self
    }

    /// Appends `"alias"."column"` (or just `"column"` without an alias).
    pub fn column(&mut self, alias: Option<&str>, column: &str) -> &mut Self {
        if let Some(alias) = alias {
            self.ident(alias).push(".");
        }
        self.ident(column)
    }

    /// Appends a placeholder bound to `value` as `kind`.
    pub fn param(&mut self, value: Value, kind: Kind) -> &mut Self {
        self.params.push(Param::new(value, kind));
        let n = self.params.len();
        let text = self.text.to_mut();
        match self.backend {
            Backend::Sqlite => text.push('?'),
            Backend::Postgres => {
                text.push('$');
                text.push_str(&n.to_string());
            }
        }
        self
    }

    /// Appends an integer literal (limits and offsets computed by the library).
    pub fn int(&mut self, n: u64) -> &mut Self {
        self.text.to_mut().push_str(&n.to_string());
        self
    }

    /// Appends `items` separated by `sep`, each written by `f`.
    pub fn join<T>(
        &mut self,
        items: impl IntoIterator<Item = T>,
        sep: &str,
        mut f: impl FnMut(&mut Self, T),
    ) -> &mut Self {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.text.to_mut().push_str(sep);
            }
            f(self, item);
        }
        self
    }
}

/// The field at `index` of `meta`, or an error naming the entity.
pub(crate) fn field(
    meta: &'static EntityMeta,
    index: usize,
) -> Result<&'static FieldMeta, crate::error::Error> {
    meta.fields
        .get(index)
        .ok_or_else(|| crate::error::Error::InvalidQuery {
            entity: meta.name,
            message: format!(
                "no field number {index} (the entity has {})",
                meta.fields.len()
            ),
        })
}
