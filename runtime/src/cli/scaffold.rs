//! `scaffold`: annotated entity modules from CDMS's `$metadata` ([`crate::cdms::scaffold`]).

use std::path::PathBuf;

use clap::Args;

use super::args::CdmsArgs;
use super::{CliError, Outcome};
use crate::cdms::scaffold::{self, Options};

/// Options of `scaffold`.
#[derive(Debug, Clone, Args)]
pub struct ScaffoldArgs {
    /// An entity set to generate a module for (`AccountSet`); repeat for several. Without one,
    /// the sets `$metadata` declares are listed.
    #[arg(long = "set", value_name = "SET")]
    pub sets: Vec<String>,
    /// Read `$metadata` from this EDMX file instead of CDMS_URL.
    #[arg(long, value_name = "FILE.edmx")]
    pub metadata: Option<PathBuf>,
    /// Map only these properties (besides the key, `ModifiedOn` and `CreatedOn`): `Name` for
    /// every set that has it, `AccountSet.Name` for one set; repeatable.
    #[arg(long, value_name = "PROPERTY")]
    pub only: Vec<String>,
    /// Leave these properties out (same forms as --only); repeatable.
    #[arg(long, value_name = "PROPERTY")]
    pub exclude: Vec<String>,
    /// The targets of a lookup `$metadata` does not declare:
    /// `ContactSet.ParentCustomerId=AccountSet` (several targets separated by `,`); repeatable.
    #[arg(long, value_name = "SET.PROPERTY=TARGETS")]
    pub lookup: Vec<String>,
    /// The directory the modules are written to (one file per set and `mod.rs`).
    #[arg(long, value_name = "DIR", default_value = "src/entities")]
    pub out: PathBuf,
    /// Replace files that already exist.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub cdms: CdmsArgs,
}

/// `--lookup SET.PROPERTY=TARGET[,TARGET…]`.
fn parse_lookup(text: &str) -> Result<(String, String, Vec<String>), CliError> {
    let bad = || {
        CliError::usage(format!(
            "--lookup {text:?}: expected SET.PROPERTY=TARGET[,TARGET...]"
        ))
    };
    let (left, targets) = text.split_once('=').ok_or_else(bad)?;
    let (set, property) = left.split_once('.').ok_or_else(bad)?;
    let targets: Vec<String> = targets
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect();
    if set.trim().is_empty() || property.trim().is_empty() || targets.is_empty() {
        return Err(bad());
    }
    Ok((set.trim().to_owned(), property.trim().to_owned(), targets))
}

/// Runs `scaffold`.
pub async fn scaffold(args: &ScaffoldArgs) -> Result<Outcome, CliError> {
    let edmx = match &args.metadata {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| CliError::usage(format!("--metadata {}: {e}", path.display())))?,
        None => args.cdms.client()?.metadata().await?,
    };
    if args.sets.is_empty() {
        println!("entity sets in $metadata (choose with --set):");
        for set in scaffold::entity_sets(&edmx).map_err(scaffold_error)? {
            println!("  {set}");
        }
        return Ok(Outcome::Ok);
    }
    let mut options = Options::sets(args.sets.iter().cloned())
        .only(args.only.iter().cloned())
        .exclude(args.exclude.iter().cloned());
    for text in &args.lookup {
        let (set, property, targets) = parse_lookup(text)?;
        let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
        options = options.lookup(&set, &property, &targets);
    }
    options.generator = Some("cdms-sync scaffold".to_owned());
    let files = scaffold::generate(&edmx, &options).map_err(scaffold_error)?;
    scaffold::write_files(&args.out, &files, args.overwrite).map_err(scaffold_error)?;
    for f in &files {
        println!("wrote {}", args.out.join(&f.path).display());
    }
    let module = args
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "entities".to_owned());
    println!(
        "next: declare `mod {module};` in your crate and pass `{module}::entities()` to `cdms_runtime::cli::main`"
    );
    Ok(Outcome::Ok)
}

fn scaffold_error(e: scaffold::ScaffoldError) -> CliError {
    CliError::Other(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::parse_lookup;

    #[test]
    fn lookup_targets_are_parsed_and_checked() {
        let (set, property, targets) =
            parse_lookup("ContactSet.ParentCustomerId=AccountSet, ContactSet").unwrap();
        assert_eq!(
            (set.as_str(), property.as_str()),
            ("ContactSet", "ParentCustomerId")
        );
        assert_eq!(targets, ["AccountSet", "ContactSet"]);
        for bad in [
            "ContactSet=AccountSet",
            "ContactSet.X=",
            "ContactSet.X",
            ".X=A",
        ] {
            assert!(parse_lookup(bad).is_err(), "{bad}");
        }
    }
}
