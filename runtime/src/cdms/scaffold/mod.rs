//! Annotated entity source code from CDMS's `$metadata` (feature `scaffold`).
//!
//! The input is the EDMX text CRM 2011 publishes at `<service root>/$metadata` (fetch it with
//! any HTTP client, or read a saved file); nothing here talks to the network. The output is one
//! module per entity set plus a `mod.rs` declaring them with `pub fn entities()`, the list the
//! store's `migrate` and the bulk engines take, referenced entities first:
//!
//! ```no_run
//! # fn demo(edmx: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use cdms_runtime::cdms::scaffold::{self, Options};
//!
//! let options = Options::sets(["AccountSet", "ContactSet"]).exclude(["Address2_Fax"]);
//! let files = scaffold::generate(edmx, &options)?;
//! scaffold::write_files("src/cdms".as_ref(), &files, false)?;
//! # Ok(()) }
//! ```
//!
//! The generated code needs `cdms-runtime`, `chrono`, `rust_decimal` and `uuid` as
//! dependencies. How each property is mapped is described in the `plan` module's rules and in
//! the README ("Scaffold from CDMS"); every field carries a doc comment with its CDMS schema name
//! and type, and what could not be mapped is listed in the module's documentation.

mod edmx;
mod error;
mod plan;
mod render;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

pub use error::ScaffoldError;

use plan::EntityPlan;

/// What to scaffold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The entity sets (`AccountSet`), case-sensitive; each becomes a module.
    pub sets: Vec<String>,
    /// When not empty, only these properties are mapped (besides the key, `ModifiedOn` and
    /// `CreatedOn`, which always are). `Name` applies to every set that has it,
    /// `AccountSet.Name` to one set.
    pub only: Vec<String>,
    /// Properties left out, in the same forms as `only`.
    pub exclude: Vec<String>,
    /// Lookup targets `$metadata` does not declare.
    pub lookups: Vec<LookupTargets>,
    /// Who generated the files, named in their header (default `cdms-runtime scaffold`).
    pub generator: Option<String>,
}

/// The entity sets a lookup may point at, for lookups `$metadata` says nothing about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupTargets {
    /// The set that has the lookup (`ContactSet`).
    pub set: String,
    /// The lookup property (`ParentCustomerId`).
    pub property: String,
    /// The sets it points at (`AccountSet`); more than one makes it polymorphic.
    pub targets: Vec<String>,
}

impl Options {
    /// Options scaffolding `sets`, every property.
    pub fn sets<I: IntoIterator<Item = S>, S: Into<String>>(sets: I) -> Self {
        Options {
            sets: sets.into_iter().map(Into::into).collect(),
            ..Options::default()
        }
    }

    /// Maps only these properties (plus the key, `ModifiedOn`, `CreatedOn`).
    pub fn only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, properties: I) -> Self {
        self.only.extend(properties.into_iter().map(Into::into));
        self
    }

    /// Leaves these properties out.
    pub fn exclude<I: IntoIterator<Item = S>, S: Into<String>>(mut self, properties: I) -> Self {
        self.exclude.extend(properties.into_iter().map(Into::into));
        self
    }

    /// Declares the targets of lookup `property` of `set` (entity set names).
    pub fn lookup(mut self, set: &str, property: &str, targets: &[&str]) -> Self {
        self.lookups.push(LookupTargets {
            set: set.to_owned(),
            property: property.to_owned(),
            targets: targets.iter().map(|t| (*t).to_owned()).collect(),
        });
        self
    }
}

/// One generated source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// The path relative to the directory of the generated modules (`account.rs`, `mod.rs`).
    pub path: PathBuf,
    /// The Rust source, formatted.
    pub contents: String,
}

/// Writes `files` into `dir` (created if missing). An existing file is an error
/// ([`ScaffoldError::Exists`], nothing written) unless `overwrite` is set.
pub fn write_files(
    dir: &Path,
    files: &[GeneratedFile],
    overwrite: bool,
) -> Result<(), ScaffoldError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| ScaffoldError::Io {
            path,
            message: e.to_string(),
        }
    };
    if !overwrite {
        if let Some(f) = files.iter().find(|f| dir.join(&f.path).exists()) {
            return Err(ScaffoldError::Exists {
                path: dir.join(&f.path),
            });
        }
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    for f in files {
        let path = dir.join(&f.path);
        std::fs::write(&path, &f.contents).map_err(io(&path))?;
    }
    Ok(())
}

/// The entity sets `$metadata` declares, in document order.
pub fn entity_sets(edmx: &str) -> Result<Vec<String>, ScaffoldError> {
    Ok(edmx::parse(edmx)?
        .sets
        .into_iter()
        .map(|s| s.name)
        .collect())
}

/// Generates the modules of `options.sets` from the EDMX text `edmx`: one file per set
/// (`<module>.rs`) and `mod.rs`, in that order.
pub fn generate(edmx: &str, options: &Options) -> Result<Vec<GeneratedFile>, ScaffoldError> {
    if options.sets.is_empty() {
        return Err(ScaffoldError::NoSets);
    }
    let meta = edmx::parse(edmx)?;
    let mut sets = Vec::with_capacity(options.sets.len());
    for name in &options.sets {
        let set = meta.set(name).ok_or_else(|| ScaffoldError::UnknownSet {
            set: name.clone(),
            available: meta.sets.iter().map(|s| s.name.clone()).collect(),
        })?;
        if !sets.iter().any(|s: &&edmx::EntitySet| s.name == set.name) {
            sets.push(set);
        }
    }
    for set in &sets {
        let key = set.ty.properties.iter().find(|p| p.name == set.ty.key);
        if let Some(key) = key.filter(|k| k.ty != "Edm.Guid") {
            return Err(ScaffoldError::KeyNotGuid {
                set: set.name.clone(),
                property: key.name.clone(),
                found: key.ty.clone(),
            });
        }
    }
    let set_names: Vec<String> = sets.iter().map(|s| s.name.clone()).collect();
    let chosen: HashSet<&str> = sets.iter().map(|s| s.name.as_str()).collect();
    check_names(&sets, "only", &options.only, &set_names)?;
    check_names(&sets, "exclude", &options.exclude, &set_names)?;
    for l in &options.lookups {
        let set = sets.iter().find(|s| s.name == l.set);
        let has = set.is_some_and(|s| s.ty.properties.iter().any(|p| p.name == l.property));
        if !has {
            return Err(ScaffoldError::UnknownProperty {
                option: "lookup",
                property: format!("{}.{}", l.set, l.property),
                sets: set_names.clone(),
            });
        }
    }
    let plans: Vec<EntityPlan> = sets
        .iter()
        .map(|set| {
            let keep = |property: &str| {
                let named = |list: &[String]| {
                    list.iter().any(|n| match n.split_once('.') {
                        Some((s, p)) => s == set.name && p == property,
                        None => n == property,
                    })
                };
                (options.only.is_empty() || named(&options.only)) && !named(&options.exclude)
            };
            plan::entity(&meta, set, &chosen, options, &keep)
        })
        .collect();
    let generator = options
        .generator
        .as_deref()
        .unwrap_or("cdms-runtime scaffold");
    let ordered = reference_order(&plans);
    let mut files: Vec<GeneratedFile> = ordered
        .iter()
        .map(|p| GeneratedFile {
            path: PathBuf::from(format!("{}.rs", p.module)),
            contents: render::entity_module(p, generator),
        })
        .collect();
    files.push(GeneratedFile {
        path: PathBuf::from("mod.rs"),
        contents: render::mod_rs(&ordered, generator),
    });
    Ok(files)
}

/// Every `only`/`exclude` name must name a property of a scaffolded set.
fn check_names(
    sets: &[&edmx::EntitySet],
    option: &'static str,
    names: &[String],
    set_names: &[String],
) -> Result<(), ScaffoldError> {
    for name in names {
        let has = |set: &edmx::EntitySet, p: &str| set.ty.properties.iter().any(|q| q.name == p);
        let found = match name.split_once('.') {
            Some((s, p)) => sets.iter().any(|set| set.name == s && has(set, p)),
            None => sets.iter().any(|set| has(set, name)),
        };
        if !found {
            return Err(ScaffoldError::UnknownProperty {
                option,
                property: name.clone(),
                sets: set_names.to_vec(),
            });
        }
    }
    Ok(())
}

/// The plans with referenced entities first (depth-first over `Ref<T>` edges, in set order;
/// a cycle is cut where it closes).
fn reference_order(plans: &[EntityPlan]) -> Vec<&EntityPlan> {
    let by_module: BTreeMap<&str, &EntityPlan> =
        plans.iter().map(|p| (p.module.as_str(), p)).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::with_capacity(plans.len());
    fn visit<'a>(
        plan: &'a EntityPlan,
        by_module: &BTreeMap<&str, &'a EntityPlan>,
        visiting: &mut BTreeSet<String>,
        done: &mut BTreeSet<String>,
        out: &mut Vec<&'a EntityPlan>,
    ) {
        if done.contains(&plan.module) || !visiting.insert(plan.module.clone()) {
            return;
        }
        for target in &plan.refers_to {
            if let Some(t) = by_module.get(target.as_str()) {
                visit(t, by_module, visiting, done, out);
            }
        }
        done.insert(plan.module.clone());
        out.push(plan);
    }
    let mut visiting = BTreeSet::new();
    for plan in plans {
        visit(plan, &by_module, &mut visiting, &mut done, &mut out);
    }
    out
}
