//! The `tollgate` command: parses the command line and calls one library function per subcommand.

fn main() {
    println!("tollgate {}", env!("CARGO_PKG_VERSION"));
}
