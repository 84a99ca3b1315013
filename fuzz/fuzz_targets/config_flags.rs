//! Arbitrary command lines (one argument per line) as static configuration flags: loading never
//! panics, and every error names a flag or is a command-line error without a file position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tollgate::config::load_static_with;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let args: Vec<String> = text.split('\n').map(str::to_owned).collect();
    // `--config FILE` reads a file: keep the fuzzer away from the machine's files.
    if args.iter().any(|a| a.trim_start_matches('-').to_ascii_lowercase().starts_with("config")) {
        return;
    }
    // No search paths: the embedded default is the file, and the flags go over it.
    if let Err(errors) = load_static_with(&args, &[]) {
        for error in errors.iter() {
            if let Some(name) = error.origin.as_ref().and_then(|o| o.file_name()) {
                assert_eq!(name, tollgate::config::DEFAULT_STATIC_NAME, "{error}");
            }
        }
    }
});
