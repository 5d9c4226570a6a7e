//! The `cdms-sync` command line: the demo, a standalone CDMS emulator, and the bulk engines
//! (`migrate`, `load`, `backfill`, `poll`, `status`) for this crate's entities.
//!
//! Exit codes: 0 success; 1 error; 2 bad usage; 3 `status` found drift; 130 interrupted (a
//! `load` stopped by Ctrl-C: run it again to resume).

mod args;
mod backfill;
mod commands;
mod demo;
mod render;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use args::{ProgressMode, DEFAULT_CDMS_URL, DEFAULT_DATABASE_URL};
pub use demo::DEFAULT_DEMO_DATABASE;

/// Keep a local database in sync with a Microsoft Dynamics CRM 2011 ("CDMS") organisation.
///
/// Start with `cdms-sync demo`: it needs nothing but this binary.
///
/// Configuration comes from flags or the environment: DATABASE_URL (default: the SQLite file
/// ./cdms-sync.sqlite), CDMS_URL (default: http://127.0.0.1:8080/UKTI, where `cdms-sync emulate`
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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole sync on embedded defaults: a built-in CDMS emulator with a realistic data
    /// set, a local SQLite file, the initial load, then edits flowing both ways, a rollback,
    /// history and a summary.
    Demo(demo::DemoArgs),
    /// Serve a CDMS emulator (the demo data set with --seed) until Ctrl-C.
    Emulate(commands::EmulateArgs),
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
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad arguments or configuration.
    #[error("{0}")]
    Usage(String),
    /// A runtime (database, CDMS, sync) error.
    #[error(transparent)]
    Runtime(#[from] cdms_runtime::Error),
    /// A CDMS client error.
    #[error(transparent)]
    Cdms(#[from] cdms_runtime::cdms::CdmsError),
    /// An emulator error.
    #[error(transparent)]
    Emulator(#[from] cdms_runtime::emulator::EmulatorError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
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

/// Runs a parsed command line, reporting progress to `reporter`.
async fn run(cli: &Cli, reporter: &render::Reporter) -> Result<Outcome, CliError> {
    match &cli.command {
        Command::Demo(args) => demo::demo(args, reporter).await,
        Command::Emulate(args) => commands::emulate(args).await,
        Command::Migrate(args) => commands::migrate_command(args).await,
        Command::Load(args) => commands::load(args, reporter).await,
        Command::Backfill(args) => backfill::backfill(args, reporter).await,
        Command::Poll(args) => commands::poll(args, reporter).await,
        Command::Status(args) => commands::status(args, reporter).await,
    }
}

/// The `cdms-sync` binary: parses the arguments, sets up logging, progress and the async
/// runtime, runs the command and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let writer = render::init_logging(cli.verbose, cli.quiet);
    let reporter = render::reporter(cli.progress);
    if let Some(bars) = &reporter.bars {
        writer.attach(bars.multi());
    }
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
    match runtime.block_on(run(&cli, &reporter)) {
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
