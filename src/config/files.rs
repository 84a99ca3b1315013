//! Dynamic configuration from files, as Traefik's file provider reads it: one file, or every
//! `.yml`/`.yaml`/`.toml` file under a directory (subdirectories too, each directory's entries in
//! name order), merged. A name defined twice keeps its first definition and the second is
//! reported with both places, which is what Traefik does (it logs "already configured,
//! skipping"). One file that fails to parse fails the whole load, as in Traefik: the provider's
//! last good configuration stays in force.
//!
//! Traefik renders Go templates in these files; tollgate does not (a warning says so).

use std::collections::BTreeMap;
use std::path::Path;

use super::de::{Ctx, decode};
use super::dynamic::DynamicConfig;
use super::error::{ConfigError, ConfigErrors, Warning, WarningKind};
use super::node::Node;
use super::origin::{Origin, line_col};
use super::source;
use super::static_config::FileProvider;

/// Deepest directory nesting followed under `providers.file.directory`.
const MAX_DIR_DEPTH: usize = 16;

/// One provider's dynamic configuration with where each named thing was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    pub config: DynamicConfig,
    pub origins: Origins,
    pub warnings: Vec<Warning>,
}

/// Where each router, service, middleware and servers transport was defined (its name's key).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Origins {
    routers: BTreeMap<String, Origin>,
    services: BTreeMap<String, Origin>,
    middlewares: BTreeMap<String, Origin>,
    servers_transports: BTreeMap<String, Origin>,
}

impl Origins {
    pub fn router(&self, name: &str) -> Option<&Origin> {
        self.routers.get(name)
    }

    pub fn service(&self, name: &str) -> Option<&Origin> {
        self.services.get(name)
    }

    pub fn middleware(&self, name: &str) -> Option<&Origin> {
        self.middlewares.get(name)
    }

    pub fn servers_transport(&self, name: &str) -> Option<&Origin> {
        self.servers_transports.get(name)
    }

    /// Records the names under `http.routers` (and the others) in `tree`.
    fn collect(tree: &Node) -> Origins {
        let mut origins = Origins::default();
        for http in tree.entries().iter().filter(|e| e.key.eq_ignore_ascii_case("http")) {
            for section in http.value.entries() {
                let map = match section.key.to_ascii_lowercase().as_str() {
                    "routers" => &mut origins.routers,
                    "services" => &mut origins.services,
                    "middlewares" => &mut origins.middlewares,
                    "serverstransports" => &mut origins.servers_transports,
                    _ => continue,
                };
                for named in section.value.entries() {
                    map.entry(named.key.clone()).or_insert_with(|| named.key_origin.clone());
                }
            }
        }
        origins
    }
}

/// Parses dynamic configuration text; `name` (its extension picks YAML or TOML) is used in
/// origins. For tests, fuzzing and `tollgate check`.
pub fn parse_dynamic(text: &str, name: &str) -> Result<Loaded, ConfigErrors> {
    let tree = source::parse_text(text, name)?;
    let ctx = Ctx::default();
    let config: DynamicConfig = decode(&tree, &ctx).map_err(ConfigErrors)?;
    let mut warnings = Vec::new();
    if let Some(at) = text.find("{{") {
        let (line, col) = line_col(text, at);
        let origin = Origin::File { file: name.into(), line, col };
        warnings.push(Warning {
            origin: Some(origin),
            path: "".into(),
            kind: WarningKind::Template,
        });
    }
    warnings.extend(ctx.warnings.take());
    Ok(Loaded { config, origins: Origins::collect(&tree), warnings })
}

/// Loads one dynamic configuration file (`providers.file.filename`).
pub fn load_dynamic_file(path: &Path) -> Result<Loaded, ConfigErrors> {
    let name = path.display().to_string();
    if source::format_of(&name).is_none() {
        return parse_dynamic("", &name);
    }
    let text = source::read(path)?;
    parse_dynamic(&text, &name)
}

/// Loads every configuration file under `dir` (`providers.file.directory`), merged. A missing
/// directory is a warning and an empty configuration.
pub fn load_dynamic_dir(dir: &Path) -> Result<Loaded, ConfigErrors> {
    if !dir.exists() {
        let kind = WarningKind::MissingDirectory { path: dir.display().to_string().into() };
        let warning = Warning { origin: None, path: "".into(), kind };
        return Ok(Loaded { warnings: vec![warning], ..Loaded::default() });
    }
    let mut files = Vec::new();
    collect_files(dir, 0, &mut files)?;
    let mut merged = Loaded::default();
    for file in files {
        merge(&mut merged, load_dynamic_file(&file)?);
    }
    Ok(merged)
}

/// Loads what `providers.file` names: the directory if set (Traefik looks at it first), else
/// the file.
pub fn load_file_provider(provider: &FileProvider) -> Result<Loaded, ConfigErrors> {
    match (provider.directory.as_deref(), provider.filename.as_deref()) {
        (Some(dir), _) if !dir.is_empty() => load_dynamic_dir(Path::new(dir)),
        (_, Some(file)) if !file.is_empty() => load_dynamic_file(Path::new(file)),
        _ => Err(ConfigError::new(
            None,
            "providers.file",
            super::error::ConfigErrorKind::Invalid(
                "either `filename` or `directory` is required".into(),
            ),
        )
        .into()),
    }
}

/// Configuration files under `dir`, depth first, each directory in name order (Go's
/// `os.ReadDir` order, which Traefik walks). Symbolic links to directories are not followed.
fn collect_files(
    dir: &Path,
    depth: usize,
    out: &mut Vec<std::path::PathBuf>,
) -> Result<(), ConfigError> {
    let read_error = |e: &std::io::Error| ConfigError::read(dir, e);
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| read_error(&e))? {
        let entry = entry.map_err(|e| read_error(&e))?;
        let kind = entry.file_type().map_err(|e| read_error(&e))?;
        entries.push((entry.file_name(), entry.path(), kind.is_dir()));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, path, is_dir) in entries {
        if is_dir {
            if depth < MAX_DIR_DEPTH {
                collect_files(&path, depth + 1, out)?;
            }
        } else if name.to_str().and_then(source::format_of).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

/// Adds `next` to `merged`: new names are taken, names already defined are skipped with a
/// warning naming both places.
fn merge(merged: &mut Loaded, next: Loaded) {
    merged.warnings.extend(next.warnings);
    let http = next.config.http;
    let target = &mut merged.config.http;
    merge_named(
        "router",
        http.routers,
        &mut target.routers,
        &next.origins.routers,
        &mut merged.origins.routers,
        &mut merged.warnings,
    );
    merge_named(
        "service",
        http.services,
        &mut target.services,
        &next.origins.services,
        &mut merged.origins.services,
        &mut merged.warnings,
    );
    merge_named(
        "middleware",
        http.middlewares,
        &mut target.middlewares,
        &next.origins.middlewares,
        &mut merged.origins.middlewares,
        &mut merged.warnings,
    );
    merge_named(
        "servers transport",
        http.servers_transports,
        &mut target.servers_transports,
        &next.origins.servers_transports,
        &mut merged.origins.servers_transports,
        &mut merged.warnings,
    );
}

fn merge_named<T>(
    what: &'static str,
    items: BTreeMap<String, T>,
    into: &mut BTreeMap<String, T>,
    origins: &BTreeMap<String, Origin>,
    merged_origins: &mut BTreeMap<String, Origin>,
    warnings: &mut Vec<Warning>,
) {
    for (name, item) in items {
        let origin = origins.get(&name).cloned();
        if let Some(first) = merged_origins.get(&name).cloned().filter(|_| into.contains_key(&name))
        {
            let kind = WarningKind::Duplicate { what, name: name.as_str().into(), first };
            warnings.push(Warning { origin, path: "".into(), kind });
            continue;
        }
        if let Some(origin) = origin {
            merged_origins.insert(name.clone(), origin);
        }
        into.insert(name, item);
    }
}
