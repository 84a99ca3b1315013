//! The environment systemd hands over, as text: `$JOURNAL_STREAM` (`DEVICE:INODE`) and
//! `$NOTIFY_SOCKET` (a path or `@abstract`). Parsing never panics, what parses prints back the
//! same, and a refused socket address is named in the error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some((dev, ino)) = tollgate::logging::parse_journal_stream(&text) {
        let again = format!("{dev}:{ino}");
        assert_eq!(tollgate::logging::parse_journal_stream(&again), Some((dev, ino)));
    }
    match tollgate::systemd::Notifier::connect(&text) {
        Ok(notifier) => assert!(notifier.is_enabled()),
        Err(err) => {
            assert!(err.to_string().starts_with(&format!("NOTIFY_SOCKET=`{text}`: ")), "{err}")
        }
    }
});
