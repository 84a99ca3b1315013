//! The `tollgate` command: parses the command line and calls one library function per subcommand.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config_path =
        args.iter().position(|a| a == "--config").and_then(|i| args.get(i + 1)).cloned().or_else(
            || args.iter().find_map(|a| a.strip_prefix("--configFile=").map(str::to_owned)),
        );
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .init();
    let config = match config_path {
        Some(path) => match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_norway::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(c) => c,
            Err(e) => {
                eprintln!("tollgate: {path}: {e}");
                return ExitCode::from(78);
            }
        },
        None => tollgate::config::StaticConfig::default(),
    };
    match tollgate::runtime::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tollgate: {err:#}");
            ExitCode::FAILURE
        }
    }
}
