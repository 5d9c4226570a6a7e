//! The `cdms-sync` command line over an application's entities: `migrate`, `load`, `poll`,
//! `status` and (feature `emulator`) `emulate`, with the application's own commands beside them.
//!
//! ```no_run
//! # mod my_app { pub fn entities() -> &'static [&'static cdms_runtime::EntityMeta] { &[] } }
//! fn main() -> std::process::ExitCode {
//!     cdms_runtime::cli::main(my_app::entities())
//! }
//! ```
//!
//! Extra subcommands come from a [`clap::Subcommand`] enum implementing [`Commands`]:
//! `cli::App::new(entities).commands::<MyCommands>().run()`.
//!
//! Exit codes: 0 success; 1 error; 2 bad usage; 3 `status` found drift; 130 interrupted (a
//! `load` stopped by Ctrl-C: run it again to resume).

mod app;
mod args;
mod backfill;
mod commands;
#[cfg(feature = "emulator")]
mod emulate;
mod render;
#[cfg(feature = "scaffold")]
mod scaffold;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use app::{App, Commands, Context, NoCommands};
#[cfg(feature = "emulator")]
pub use app::{Emulation, Seeder};
pub use args::{count_in, ProgressMode, DEFAULT_CDMS_URL, DEFAULT_DATABASE_URL};
pub use commands::{migrate, requests_by_verb};

/// Keep a local database in sync with a Microsoft Dynamics CRM 2011 ("CDMS") organisation.
///
/// Configuration comes from flags or the environment: DATABASE_URL (default: the SQLite file
/// ./cdms-sync.sqlite), CDMS_URL (default: http://127.0.0.1:8080/UKTI, where `emulate`
/// serves), CDMS_USER and CDMS_PASSWORD or CDMS_TOKEN (never printed), CDMS_LOGIN_PATH for an
/// ADFS form sign-in.
///
/// Several `load` and `poll` processes may share one PostgreSQL database (they divide the work
/// through leases in it); with SQLite run one at a time.
#[derive(Debug, Parser)]
#[command(name = "cdms-sync", version, about, long_about, max_term_width = 100)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// How to show progress.
    #[arg(
        long,
        value_enum,
        global = true,
        default_value = "auto",
        value_name = "MODE"
    )]
    pub progress: ProgressMode,
}

/// The built-in commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve a CDMS emulator of the application's entity sets (or of a `$metadata` file) until
    /// Ctrl-C.
    #[cfg(feature = "emulator")]
    Emulate(emulate::EmulateArgs),
    /// Create or update the local tables: safe changes (new tables, nullable columns, indexes)
    /// directly; risky ones (drops, renames, type or nullability changes, new unique
    /// constraints) only from a reviewed migration file (--write, then --apply).
    Migrate(commands::MigrateArgs),
    /// Initial bulk load: every record of the chosen entities, partitioned, concurrent,
    /// resumable (Ctrl-C or a crash resumes from checkpoints in the database).
    Load(commands::LoadArgs),
    /// Fetch the CDMS properties mapped (or mapped differently) since rows were loaded, for
    /// those rows only: paged, concurrent, resumable like `load` (which also runs it when needed).
    Backfill(backfill::BackfillArgs),
    /// Incremental sync: apply the records changed in CDMS since the last poll, and remove the
    /// ones deleted there (periodic id reconciliation).
    Poll(commands::PollArgs),
    /// Drift report: per entity, counts on both sides, records missing on either side and
    /// records whose modification time differs (exit code 3 when they differ).
    Status(commands::StatusArgs),
    /// Write annotated entity modules for CDMS entity sets, from `$metadata` (CDMS_URL or
    /// --metadata FILE.edmx): every property mapped with its Rust type, lookups, option sets,
    /// read-only system properties.
    #[cfg(feature = "scaffold")]
    Scaffold(scaffold::ScaffoldArgs),
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or configuration.
    #[error("{0}")]
    Usage(String),
    /// A runtime (database, CDMS, sync) error.
    #[error(transparent)]
    Runtime(#[from] crate::Error),
    /// A CDMS client error.
    #[error(transparent)]
    Cdms(#[from] crate::cdms::CdmsError),
    /// An emulator error.
    #[cfg(feature = "emulator")]
    #[error(transparent)]
    Emulator(#[from] crate::emulator::EmulatorError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// A usage error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }
}

/// How a command ended (other than with an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done.
    Ok,
    /// `status` found drift.
    Drift,
    /// Stopped before the end (Ctrl-C).
    Interrupted,
}

impl Outcome {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ok => 0,
            Outcome::Drift => 3,
            Outcome::Interrupted => 130,
        }
    }
}

/// Runs a built-in command.
async fn run(command: &Command, ctx: &Context<'_>) -> Result<Outcome, CliError> {
    let entities = ctx.entities();
    match command {
        #[cfg(feature = "emulator")]
        Command::Emulate(args) => emulate::emulate(args, ctx).await,
        Command::Migrate(args) => commands::migrate_command(args, entities).await,
        Command::Load(args) => commands::load(args, entities, ctx.reporter()).await,
        Command::Backfill(args) => backfill::backfill(args, entities, ctx.reporter()).await,
        Command::Poll(args) => commands::poll(args, entities, ctx.reporter()).await,
        Command::Status(args) => commands::status(args, entities, ctx.reporter()).await,
        #[cfg(feature = "scaffold")]
        Command::Scaffold(args) => scaffold::scaffold(args).await,
    }
}

/// The command line over `entities` (referenced entities first: the order in which tables are
/// created and sets loaded): parses the arguments, sets up logging, progress and the async
/// runtime, runs the command and maps the outcome to an exit code.
pub fn main(entities: &'static [&'static crate::EntityMeta]) -> ExitCode {
    App::new(entities).run()
}

/// Runs `future` on a new multi-threaded runtime and maps its outcome to an exit code.
fn block_on(future: impl std::future::Future<Output = Result<Outcome, CliError>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(future) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        Err(CliError::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
