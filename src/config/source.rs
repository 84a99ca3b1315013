//! Reading one configuration file into the source tree: format chosen by extension, size bounded.

use std::path::Path;
use std::sync::Arc;

use super::error::{ConfigError, ConfigErrorKind};
use super::node::Node;
use super::{toml_file, yaml};

/// Largest configuration file read. Real ones are a few KiB; the cap keeps a stray huge file
/// from taking the device's memory.
pub(crate) const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Yaml,
    Toml,
}

/// The format for a file name, as Traefik decides it (extension, without case). Traefik's
/// loader also reads `.json` through its YAML decoder; so does tollgate.
pub(crate) fn format_of(name: &str) -> Option<Format> {
    let ext = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "yml" | "yaml" | "json" => Some(Format::Yaml),
        "toml" => Some(Format::Toml),
        _ => None,
    }
}

/// Parses `text` as the file `name` (used in every origin).
pub(crate) fn parse_text(text: &str, name: &str) -> Result<Node, ConfigError> {
    let file: Arc<str> = name.into();
    match format_of(name) {
        Some(Format::Yaml) => yaml::parse(text, &file),
        Some(Format::Toml) => toml_file::parse(text, &file),
        None => Err(ConfigError::new(
            None,
            "",
            ConfigErrorKind::Read {
                path: name.into(),
                reason: "unsupported file extension (expected .yml, .yaml or .toml)".into(),
            },
        )),
    }
}

/// Reads the file at `path`, bounded by [`MAX_FILE_BYTES`].
pub(crate) fn read(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| ConfigError::read(path, &e))?;
    let mut text = String::new();
    let read = file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text);
    match read {
        Ok(n) if n as u64 > MAX_FILE_BYTES => {
            let reason = format!("larger than {} MiB", MAX_FILE_BYTES / 1024 / 1024);
            let error = std::io::Error::other(reason);
            Err(ConfigError::read(path, &error))
        }
        Ok(_) => Ok(text),
        Err(e) => Err(ConfigError::read(path, &e)),
    }
}

/// Reads and parses the file at `path`, named in origins as written.
pub(crate) fn load(path: &Path) -> Result<(String, Node), ConfigError> {
    let name = path.display().to_string();
    if format_of(&name).is_none() {
        return parse_text("", &name).map(|node| (String::new(), node));
    }
    let text = read(path)?;
    let node = parse_text(&text, &name)?;
    Ok((text, node))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_decides_the_format() {
        assert_eq!(format_of("a.yml"), Some(Format::Yaml));
        assert_eq!(format_of("/x/A.YAML"), Some(Format::Yaml));
        assert_eq!(format_of("a.toml"), Some(Format::Toml));
        assert_eq!(format_of("a.conf"), None);
        assert_eq!(format_of("yml"), None);
        let e = parse_text("", "a.conf").expect_err("conf");
        assert_eq!(
            e.to_string(),
            "cannot read `a.conf`: unsupported file extension (expected .yml, .yaml or .toml)"
        );
    }
}
