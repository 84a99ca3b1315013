//! The `tollgate` command: parses the command line and calls one library function per subcommand.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("report") {
        std::process::exit(tollgate::report::main(&args[1..]));
    }
    println!("tollgate {}", env!("CARGO_PKG_VERSION"));
}
