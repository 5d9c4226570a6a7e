//! `emulate`: a CDMS emulator of the application's entity sets, or of a `$metadata` file.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;

use super::app::Context;
use super::args::count_in;
use super::{CliError, Outcome};
use crate::cdms::CdmsMeta;
use crate::emulator::{edmx, Emulator, EmulatorBuilder, Latency};

/// Options of `emulate`.
#[derive(Debug, Clone, Args)]
pub struct EmulateArgs {
    /// The address to serve on (`127.0.0.1:0` picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Fill the sets: N generated records per set, each property a value of its type and each
    /// lookup a record of its target set (an application with a data set of its own seeds N of
    /// its records instead: cdms-sync's examples seed N organisations, 2.5 contacts each and the
    /// full lookup sets). Without it, every set starts empty.
    #[arg(long, value_name = "N", value_parser = count_in(0, 1_000_000))]
    pub seed: Option<usize>,
    /// Serve the entity sets of this `$metadata` document (EDMX, as CRM publishes it) instead of
    /// the application's entities.
    #[arg(long, value_name = "FILE.edmx")]
    pub metadata: Option<PathBuf>,
    /// With --metadata: only these entity sets (repeatable; default: every set of the file).
    #[arg(long = "set", value_name = "SET", requires = "metadata")]
    pub sets: Vec<String>,
    /// Answer every request this many milliseconds late, like a CDMS across a network (0: at
    /// once).
    #[arg(long, value_name = "MS", default_value_t = 0, value_parser = count_in(0, 60_000))]
    pub latency_ms: usize,
}

/// The emulator `args` ask for, and whether records are generated rather than seeded by the
/// application.
fn builder(args: &EmulateArgs, ctx: &Context<'_>) -> Result<(EmulatorBuilder, bool), CliError> {
    if let Some(path) = &args.metadata {
        let text = std::fs::read_to_string(path).map_err(|e| {
            CliError::usage(format!("cannot read --metadata {}: {e}", path.display()))
        })?;
        let doc = edmx::parse(&text)
            .map_err(|e| CliError::usage(format!("--metadata {}: {e}", path.display())))?;
        for skipped in &doc.skipped {
            tracing::warn!(
                set = skipped.set,
                property = skipped.property,
                r#type = skipped.edm_type,
                "not served: the emulator has no such property type"
            );
        }
        let specs = doc.select(&args.sets).map_err(CliError::usage)?;
        return Ok((Emulator::builder().specs(specs), true));
    }
    if let Some(emulation) = ctx.emulation() {
        return Ok(((emulation.builder)(), emulation.seed.is_none()));
    }
    let sets = ctx.entities().iter().filter_map(|m| CdmsMeta::of(m));
    Ok((Emulator::builder().sets(sets), true))
}

/// `emulate`: serves until Ctrl-C.
pub async fn emulate(args: &EmulateArgs, ctx: &Context<'_>) -> Result<Outcome, CliError> {
    let started = Instant::now();
    let (builder, generated) = builder(args, ctx)?;
    let emulator = builder.build()?;
    if let Some(n) = args.seed {
        let records = match ctx.emulation().and_then(|e| e.seed) {
            Some(seed) if !generated => seed(&emulator, n)?,
            _ => emulator.generate(n, 0x5EED)?,
        };
        tracing::info!(records, "seeded in {:.1}s", started.elapsed().as_secs_f64());
    }
    if args.latency_ms > 0 {
        let ms = u64::try_from(args.latency_ms).unwrap_or(u64::MAX);
        emulator.set_latency(Latency::Fixed(Duration::from_millis(ms)));
    }
    let running = emulator.serve(args.listen.as_str()).await?;
    println!(
        "CDMS emulator: {}  (entity sets: {})",
        running.base_url(),
        emulator.set_names().join(", ")
    );
    let bin = std::env::args_os()
        .next()
        .and_then(|a| {
            let name = std::path::Path::new(&a).file_name()?.to_str()?.to_owned();
            Some(name)
        })
        .unwrap_or_else(|| "cdms-sync".to_owned());
    println!("use it with: CDMS_URL={} {bin} load", running.base_url());
    let _ = std::io::Write::flush(&mut std::io::stdout());
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| CliError::Other(format!("waiting for Ctrl-C: {e}")))?;
    running.shutdown().await?;
    println!("stopped after {} requests", emulator.log().len());
    Ok(Outcome::Ok)
}
