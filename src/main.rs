//! The `tollgate` command: parses the command line and calls one library function per subcommand.

use std::process::ExitCode;

// mimalloc instead of musl's allocator (mallocng: one global lock, memory handed back to the
// kernel eagerly). Measured through the proxy with one worker: 2.5x the requests per second and
// 2.4x less CPU per request; with two workers 2.7x. It costs 138 KiB of binary and ~0.5 MiB of
// idle RSS; built with `no_thp`, as transparent huge pages took idle RSS from 4 to 10 MiB
// (and the process refuses them altogether, below).
// docs/PERFORMANCE.md has the figures. `--no-default-features` builds with musl's allocator.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: tollgate::allocator::MiMalloc = tollgate::allocator::MiMalloc;

// Huge pages off before anything allocates: the heap's first touch would otherwise take a
// 2 MiB page where the system's setting is `always` (src/hugepages.rs). `.init_array` entries
// run before `main` and before Rust's runtime allocates.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)] // a constructor: the attribute places a function pointer, nothing more.
#[used]
#[unsafe(link_section = ".init_array")]
static REFUSE_HUGE_PAGES: extern "C" fn() = tollgate::hugepages::refuse;

/// Exit status for a command-line mistake (BSD `EX_USAGE`).
const EX_USAGE: u8 = 64;
/// Exit status for a configuration that cannot run (BSD `EX_CONFIG`); the systemd unit does not
/// restart on it.
const EX_CONFIG: u8 = 78;

const USAGE: &str = "\
usage: tollgate [run] [--config FILE] [--entryPoints.NAME.address=:80 ...]
       tollgate check [--config FILE] [--print-default] [FLAGS...]
       tollgate report [FILE...|-] [--log-format FMT] [--format html|json|csv|text] [-o FILE]
       tollgate version

run      serve (the default): Traefik static configuration from --config (or --configFile=),
         ./tollgate.yml, /etc/tollgate/tollgate.yml, else the embedded default
check    load and compile the configuration, print the routers, exit 1 on any error
report   analyse access logs (tollgate, Traefik, nginx, Apache, Caddy) offline
version  print the version
";

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let command = match args.first().map(String::as_str) {
        Some("run" | "check" | "report" | "version" | "help") => args.remove(0),
        Some("--version" | "-V") => "version".to_owned(),
        Some("--help" | "-h") => "help".to_owned(),
        _ => "run".to_owned(),
    };
    match command.as_str() {
        "version" => {
            println!("tollgate {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        "help" => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        "check" => check(args),
        "report" => ExitCode::from(u8::try_from(tollgate::report::main(&args)).unwrap_or(1)),
        _ => run(args),
    }
}

fn run(args: Vec<String>) -> ExitCode {
    let (config, meta) = match tollgate::config::load_static(&args) {
        Ok(loaded) => loaded,
        Err(errors) => return config_failed(&errors),
    };
    tollgate::logging::init(&config.log);
    match tollgate::runtime::run(config, meta) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tollgate: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn check(mut args: Vec<String>) -> ExitCode {
    if let Some(i) = args.iter().position(|a| a == "--print-default") {
        args.remove(i);
        print!("{}", tollgate::config::DEFAULT_STATIC);
        return ExitCode::SUCCESS;
    }
    let (config, meta) = match tollgate::config::load_static(&args) {
        Ok(loaded) => loaded,
        Err(errors) => {
            for error in errors.iter() {
                eprintln!("error: {error}");
            }
            return ExitCode::from(1);
        }
    };
    ExitCode::from(tollgate::check::run(&config, &meta))
}

fn config_failed(errors: &tollgate::config::ConfigErrors) -> ExitCode {
    for error in errors.iter() {
        eprintln!("tollgate: {error}");
    }
    let usage = errors.iter().any(|e| matches!(e.kind, tollgate::config::ConfigErrorKind::Flag(_)));
    if usage {
        eprint!("{USAGE}");
        return ExitCode::from(EX_USAGE);
    }
    ExitCode::from(EX_CONFIG)
}
