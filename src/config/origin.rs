//! Where a piece of configuration came from: `file:line:col`, a command-line flag, or the
//! embedded default. Every node of the source tree carries one, so every error can say where.

use std::fmt;
use std::sync::Arc;

/// The place a key or value was written. Cheap to clone: the file name is shared.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// A position in a file (line and column count from 1; columns count characters).
    File { file: Arc<str>, line: u32, col: u32 },
    /// A command-line flag, as given (`--entryPoints.web.address=:80`).
    Flag(Arc<str>),
}

impl Origin {
    pub(crate) fn file(file: &Arc<str>, line: u32, col: u32) -> Origin {
        Origin::File { file: Arc::clone(file), line, col }
    }

    /// The file name, when the origin is a file.
    pub fn file_name(&self) -> Option<&str> {
        match self {
            Origin::File { file, .. } => Some(file),
            Origin::Flag(_) => None,
        }
    }

    /// `(line, col)`, when the origin is a file.
    pub fn line_col(&self) -> Option<(u32, u32)> {
        match self {
            Origin::File { line, col, .. } => Some((*line, *col)),
            Origin::Flag(_) => None,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { file, line, col } => write!(f, "{file}:{line}:{col}"),
            Origin::Flag(flag) => write!(f, "flag `{flag}`"),
        }
    }
}

/// Line (from 1) and column (from 1, in characters) of byte offset `at` in `text`. Offsets past
/// the end, or inside a character, are clamped to the nearest position before them.
pub(crate) fn line_col(text: &str, at: usize) -> (u32, u32) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (saturate(line), saturate(col))
}

pub(crate) fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_file_line_col_and_flags() {
        let file: Arc<str> = "traefik.yml".into();
        assert_eq!(Origin::file(&file, 12, 7).to_string(), "traefik.yml:12:7");
        assert_eq!(Origin::Flag("--log.level=x".into()).to_string(), "flag `--log.level=x`");
    }

    #[test]
    fn line_col_counts_characters_from_one() {
        let text = "ab\ncdé\nf";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 3), (2, 1));
        assert_eq!(line_col(text, 7), (2, 4)); // after the two-byte é
        assert_eq!(line_col(text, 6), (2, 3)); // inside é: clamped to its start
        assert_eq!(line_col(text, 99), (3, 2));
    }
}
