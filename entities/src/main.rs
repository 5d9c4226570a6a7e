//! `cdms-sync`: see `cdms-sync --help` and [`cdms_entities::cli`].

fn main() -> std::process::ExitCode {
    cdms_entities::cli::main()
}
