//! Write a realistic COMBINED access log to standard output (see `tollgate::logs::generate`).
//!
//! `cargo run --release --example genlog -- [--lines N] [--seed S] [--days D] [--pages N]
//! [--clients N] [--agents N]`

use tollgate::logs::generate::{Spec, write_combined};

fn main() {
    let mut spec = Spec::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < args.len() {
        let v: u64 = match args[i + 1].parse() {
            Ok(v) => v,
            Err(_) => {
                eprintln!("genlog: {}: `{}` is not a number", args[i], args[i + 1]);
                std::process::exit(2);
            }
        };
        match args[i].as_str() {
            "--lines" => spec.lines = v,
            "--seed" => spec.seed = v,
            "--days" => spec.days = v as u32,
            "--pages" => spec.pages = v as usize,
            "--clients" => spec.clients = v as usize,
            "--agents" => spec.agents = v as usize,
            other => {
                eprintln!("genlog: unknown option `{other}`");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    if let Err(e) = write_combined(&spec, &mut std::io::stdout().lock())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("genlog: {e}");
        std::process::exit(1);
    }
}
