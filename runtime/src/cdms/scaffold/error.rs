//! What can go wrong while scaffolding: the EDMX text, and the options naming what it lacks.

/// A scaffolding failure. Names the element, line, entity set or property involved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScaffoldError {
    /// The text is not well-formed XML.
    #[error("$metadata is not well-formed XML at line {line}, column {column}: {message}")]
    Xml {
        /// 1-based line.
        line: u32,
        /// 1-based column.
        column: u32,
        /// The parser's message.
        message: String,
    },
    /// The XML is not the EDMX CRM publishes (a required element or attribute is missing or
    /// refers to nothing).
    #[error("$metadata: <{element}> at line {line}: {reason}")]
    Edmx {
        /// The element's local name (`EntitySet`, `EntityType`, `Key`, ...).
        element: String,
        /// 1-based line of the element.
        line: u32,
        /// What is wrong with it.
        reason: String,
    },
    /// A requested entity set is not in `$metadata`.
    #[error("entity set {set:?} is not in $metadata (it has {})", list(.available))]
    UnknownSet {
        /// The requested name (case-sensitive, as CDMS spells it: `AccountSet`).
        set: String,
        /// Some of the sets that are there.
        available: Vec<String>,
    },
    /// An `only`/`exclude`/lookup option names a property no scaffolded set has.
    #[error("{option}: property {property:?} is not a property of {}", list(.sets))]
    UnknownProperty {
        /// `only`, `exclude` or `lookup`.
        option: &'static str,
        /// The name as given.
        property: String,
        /// The sets it was looked up in.
        sets: Vec<String>,
    },
    /// The key of a set is not the `Edm.Guid` the sync protocol needs.
    #[error("{set}: key property {property} is {found}, not Edm.Guid")]
    KeyNotGuid {
        /// The entity set.
        set: String,
        /// Its key property.
        property: String,
        /// The declared type.
        found: String,
    },
    /// A generated file could not be written.
    #[error("cannot write {}: {message}", .path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The operating system's message.
        message: String,
    },
    /// A generated file would replace an existing one, and overwriting was not asked for.
    #[error("{} exists; remove it or ask for overwriting", .path.display())]
    Exists {
        /// The file.
        path: std::path::PathBuf,
    },
    /// The options name nothing to scaffold.
    #[error("no entity set to scaffold: name at least one (e.g. AccountSet)")]
    NoSets,
}

/// Up to 8 names, then how many more.
fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "none".to_owned();
    }
    let mut out = names.iter().take(8).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > 8 {
        out.push_str(&format!(" and {} more", names.len() - 8));
    }
    out
}
