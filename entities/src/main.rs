//! `cdms-sync`: the command line of [`cdms_runtime::cli`] over the example entities, with the
//! `demo` command and the demo data set for `emulate --seed`. See `cdms-sync --help`.

use cdms_entities::demo::{self, DemoCommand};
use cdms_runtime::cli::App;

fn main() -> std::process::ExitCode {
    App::new(cdms_entities::all_entities())
        .commands::<DemoCommand>()
        .emulation(demo::emulation())
        .run()
}
