//! [`App`]: the command line over an application's entities, with the application's own
//! subcommands beside the built-in ones.

use std::future::Future;
use std::marker::PhantomData;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Subcommand};

use super::render::{self, Reporter};
use super::{Cli, CliError, Command, Outcome};
use crate::cdms::bulk::Progress;
use crate::EntityMeta;

/// What a command runs with: the application's entities and where progress goes.
pub struct Context<'a> {
    entities: &'static [&'static EntityMeta],
    reporter: &'a Reporter,
    #[cfg(feature = "emulator")]
    emulation: Option<&'a Emulation>,
}

impl Context<'_> {
    /// The application's entities, referenced entities first.
    pub fn entities(&self) -> &'static [&'static EntityMeta] {
        self.entities
    }

    /// The progress sink chosen by `--progress` (bars, log lines or nothing), for the bulk
    /// engines' `.progress(...)`.
    pub fn progress(&self) -> Arc<dyn Progress> {
        self.reporter.progress.clone()
    }

    pub(super) fn reporter(&self) -> &Reporter {
        self.reporter
    }

    #[cfg(feature = "emulator")]
    pub(super) fn emulation(&self) -> Option<&Emulation> {
        self.emulation
    }
}

/// An application's own subcommands: a `#[derive(clap::Subcommand)]` enum that runs them.
pub trait Commands: Subcommand {
    /// Runs the parsed subcommand.
    fn run(&self, ctx: &Context<'_>) -> impl Future<Output = Result<Outcome, CliError>>;
}

/// No subcommands beyond the built-in ones.
#[derive(Debug, Clone, Copy)]
pub enum NoCommands {}

impl FromArgMatches for NoCommands {
    fn from_arg_matches(_: &ArgMatches) -> Result<Self, clap::Error> {
        Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))
    }

    fn update_from_arg_matches(&mut self, _: &ArgMatches) -> Result<(), clap::Error> {
        match *self {}
    }
}

impl Subcommand for NoCommands {
    fn augment_subcommands(cmd: clap::Command) -> clap::Command {
        cmd
    }

    fn augment_subcommands_for_update(cmd: clap::Command) -> clap::Command {
        cmd
    }

    fn has_subcommand(_: &str) -> bool {
        false
    }
}

impl Commands for NoCommands {
    async fn run(&self, _: &Context<'_>) -> Result<Outcome, CliError> {
        match *self {}
    }
}

/// Seeds an emulator with `n` (the `--seed` value) of an application's own data set; returns
/// how many records it created.
#[cfg(feature = "emulator")]
pub type Seeder =
    fn(&crate::emulator::Emulator, usize) -> Result<u64, crate::emulator::EmulatorError>;

/// How `emulate` serves the application's entities when they need more than their derived
/// metadata (extra properties, primary names) or a data set of their own.
#[cfg(feature = "emulator")]
#[derive(Debug, Clone, Copy)]
pub struct Emulation {
    /// The emulator serving the application's sets.
    pub builder: fn() -> crate::emulator::EmulatorBuilder,
    /// Fills it for `--seed N`; `None`: generated records (as for `--metadata`).
    pub seed: Option<Seeder>,
}

/// The command line of an application: `App::new(entities).commands::<MyCommands>().run()`.
pub struct App<X = NoCommands> {
    entities: &'static [&'static EntityMeta],
    #[cfg(feature = "emulator")]
    emulation: Option<Emulation>,
    commands: PhantomData<fn() -> X>,
}

impl App {
    /// The built-in commands over `entities` (referenced entities first).
    pub fn new(entities: &'static [&'static EntityMeta]) -> Self {
        App {
            entities,
            #[cfg(feature = "emulator")]
            emulation: None,
            commands: PhantomData,
        }
    }
}

impl<X: Commands> App<X> {
    /// Adds the application's subcommands `Y` (listed before the built-in ones).
    pub fn commands<Y: Commands>(self) -> App<Y> {
        App {
            entities: self.entities,
            #[cfg(feature = "emulator")]
            emulation: self.emulation,
            commands: PhantomData,
        }
    }

    /// How `emulate` serves the application's own entities (without it: their derived metadata,
    /// and generated records for `--seed`).
    #[cfg(feature = "emulator")]
    pub fn emulation(mut self, emulation: Emulation) -> Self {
        self.emulation = Some(emulation);
        self
    }

    /// The clap command: global flags, the application's subcommands, the built-in ones.
    pub fn command() -> clap::Command {
        let cmd = <Cli as CommandFactory>::command();
        // Augmenting with a subcommand enum takes its doc comment as the about text: keep Cli's.
        let (about, long_about) = (cmd.get_about().cloned(), cmd.get_long_about().cloned());
        let mut cmd = Command::augment_subcommands(X::augment_subcommands(cmd))
            .subcommand_required(true)
            .arg_required_else_help(true);
        if let Some(about) = about {
            cmd = cmd.about(about);
        }
        if let Some(long_about) = long_about {
            cmd = cmd.long_about(long_about);
        }
        cmd
    }

    /// Parses the process arguments, sets up logging, progress and the async runtime, runs the
    /// command and maps the outcome to an exit code (usage errors exit with 2).
    pub fn run(self) -> ExitCode {
        let matches = Self::command().get_matches();
        let parsed = Cli::from_arg_matches(&matches).and_then(|cli| {
            let name = matches.subcommand_name().unwrap_or_default();
            let chosen = if X::has_subcommand(name) {
                Chosen::App(X::from_arg_matches(&matches)?)
            } else {
                Chosen::Builtin(Box::new(Command::from_arg_matches(&matches)?))
            };
            Ok((cli, chosen))
        });
        let (cli, chosen) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => e.exit(),
        };
        let writer = render::init_logging(cli.verbose, cli.quiet);
        let reporter = render::reporter(cli.progress);
        if let Some(bars) = &reporter.bars {
            writer.attach(bars.multi());
        }
        let ctx = Context {
            entities: self.entities,
            reporter: &reporter,
            #[cfg(feature = "emulator")]
            emulation: self.emulation.as_ref(),
        };
        super::block_on(async {
            match &chosen {
                Chosen::App(command) => command.run(&ctx).await,
                Chosen::Builtin(command) => super::run(command, &ctx).await,
            }
        })
    }
}

enum Chosen<X> {
    App(X),
    Builtin(Box<Command>),
}
