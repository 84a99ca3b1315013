//! Static configuration loading: which file, flags over it, decoding, then the checks the type
//! system cannot make. Every problem is collected and reported with its origin.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::address::{ListenAddress, check_ip_or_cidr, parse_address};
use super::de::{Ctx, decode};
use super::error::{ConfigError, ConfigErrorKind, ConfigErrors, Warning};
use super::flags;
use super::node::{Node, Value};
use super::origin::Origin;
use super::source;
use super::static_config::StaticConfig;

/// The embedded default static configuration (`tollgate check --print-default` prints it): used
/// when no `--config` is given and neither `./tollgate.yml` nor `/etc/tollgate/tollgate.yml`
/// exists. Binds unprivileged ports only.
pub const DEFAULT_STATIC: &str = include_str!("default.yml");

/// The name origins in the embedded default show.
pub const DEFAULT_STATIC_NAME: &str = "<embedded default>.yml";

/// Where tollgate looks for a static configuration file when `--config` is not given, in order.
pub const SEARCH_PATHS: &[&str] = &["tollgate.yml", "/etc/tollgate/tollgate.yml"];

/// Where the static configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticSource {
    /// A file, given or found.
    File(PathBuf),
    /// [`DEFAULT_STATIC`].
    Embedded,
}

/// What `load_static` learned besides the configuration.
#[derive(Debug, Clone)]
pub struct StaticMeta {
    pub source: StaticSource,
    /// Accepted but worth telling: Traefik options not implemented yet, unknown top-level keys.
    pub warnings: Vec<Warning>,
    /// Each entry point's parsed address, by entry point name (every one is valid: an invalid
    /// address fails the load).
    pub addresses: BTreeMap<String, ListenAddress>,
}

/// Loads the static configuration from the command line's flags (`--config FILE` /
/// `--configFile=FILE`, then Traefik-style `--a.b.c=value` options, which override the file).
/// `args` are the options only, without the program or subcommand name.
pub fn load_static(args: &[String]) -> Result<(StaticConfig, StaticMeta), ConfigErrors> {
    let search: Vec<PathBuf> = SEARCH_PATHS.iter().map(PathBuf::from).collect();
    load_static_with(args, &search)
}

/// [`load_static`] with the places to look for a file when none is given.
pub fn load_static_with(
    args: &[String],
    search: &[PathBuf],
) -> Result<(StaticConfig, StaticMeta), ConfigErrors> {
    let flags = flags::parse(args)?;
    let (source, mut tree) = match &flags.config_file {
        Some(file) => {
            let path = PathBuf::from(file);
            let (_, tree) = source::load(&path)?;
            (StaticSource::File(path), tree)
        }
        None => match search.iter().find(|p| p.is_file()) {
            Some(path) => {
                let (_, tree) = source::load(path)?;
                (StaticSource::File(path.clone()), tree)
            }
            None => {
                (StaticSource::Embedded, source::parse_text(DEFAULT_STATIC, DEFAULT_STATIC_NAME)?)
            }
        },
    };
    // Traefik reads either a file or flags, never both; tollgate lets flags override the file,
    // so a unit file can change one option without copying the whole configuration.
    tree.merge(flags.tree);
    let ctx = Ctx::default();
    let config: StaticConfig = decode(&tree, &ctx).map_err(ConfigErrors)?;
    let (addresses, errors) = validate(&config, &tree);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    Ok((config, StaticMeta { source, warnings: ctx.warnings.take(), addresses }))
}

/// Parses static configuration text (YAML or TOML by `name`'s extension) with no flags: for
/// `tollgate check` of a given text, tests and fuzzing.
pub fn parse_static(text: &str, name: &str) -> Result<(StaticConfig, Vec<Warning>), ConfigErrors> {
    let tree = source::parse_text(text, name)?;
    let ctx = Ctx::default();
    let config: StaticConfig = decode(&tree, &ctx).map_err(ConfigErrors)?;
    let (_, errors) = validate(&config, &tree);
    if !errors.is_empty() {
        return Err(ConfigErrors(errors));
    }
    Ok((config, ctx.warnings.take()))
}

const LOG_LEVELS: &[&str] =
    &["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "PANIC", "DISABLED"];

/// The checks the types cannot make. Returns the parsed addresses and every error found.
fn validate(
    config: &StaticConfig,
    tree: &Node,
) -> (BTreeMap<String, ListenAddress>, Vec<ConfigError>) {
    let mut errors = Vec::new();
    let mut addresses = BTreeMap::new();
    let place = |path: &[&str]| origin_of(tree, path);
    let mut invalid = |path: String, origin: Option<Origin>, msg: String| {
        errors.push(ConfigError::new(origin, path, ConfigErrorKind::Invalid(msg.into())));
    };

    for (name, entry_point) in &config.entry_points {
        let path = ["entryPoints", name, "address"];
        let origin = place(&path).or_else(|| place(&path[..2]));
        match parse_address(&entry_point.address) {
            Ok(address) => {
                addresses.insert(name.clone(), address);
            }
            Err(e) => invalid(path.join("."), origin, e.to_string()),
        }

        if let Some(redirect) =
            entry_point.http.redirections.as_ref().and_then(|r| r.entry_point.as_ref())
        {
            let path = ["entryPoints", name, "http", "redirections", "entryPoint", "to"];
            let origin = place(&path).or_else(|| place(&path[..5]));
            let to = redirect.to.as_str();
            let is_port =
                to.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_ok());
            if to.is_empty() {
                invalid(
                    path.join("."),
                    origin,
                    "a target entry point (or `:port`) is required".into(),
                );
            } else if !is_port && !config.entry_points.contains_key(to) {
                let known: Vec<&str> = config.entry_points.keys().map(String::as_str).collect();
                let msg = format!(
                    "entry point `{to}` does not exist (entry points: {})",
                    known.join(", ")
                );
                invalid(path.join("."), origin, msg);
            }
        }

        let path = ["entryPoints", name, "forwardedHeaders", "trustedIPs"];
        let list = tree_node(tree, &path);
        for (i, ip) in entry_point.forwarded_headers.trusted_ips.iter().enumerate() {
            if let Err(msg) = check_ip_or_cidr(ip) {
                let origin = list.and_then(|n| item_origin(n, i));
                invalid(format!("{}[{i}]", path.join(".")), origin, msg);
            }
        }
    }

    let level = config.log.level.as_str();
    if !LOG_LEVELS.iter().any(|l| l.eq_ignore_ascii_case(level)) {
        let msg =
            format!("`{level}` is not a log level (expected one of {})", LOG_LEVELS.join(", "));
        invalid("log.level".into(), place(&["log", "level"]), msg);
    }

    let syntax = config.core.default_rule_syntax.as_str();
    if syntax != "v3" && syntax != "v2" {
        let msg = format!("`{syntax}` is not a rule syntax (expected v3 or v2)");
        let path = ["core", "defaultRuleSyntax"];
        invalid(path.join("."), place(&path), msg);
    }

    let internal_entry_points = [
        ("ping", config.ping.as_ref().filter(|p| !p.manual_routing).map(|p| &p.entry_point)),
        ("report", config.report.as_ref().map(|r| &r.entry_point)),
    ];
    for (key, entry_point) in internal_entry_points {
        let Some(entry_point) = entry_point else { continue };
        if !config.entry_points.contains_key(entry_point) {
            let known: Vec<&str> = config.entry_points.keys().map(String::as_str).collect();
            let msg = format!(
                "entry point `{entry_point}` does not exist (entry points: {})",
                known.join(", ")
            );
            let path = [key, "entryPoint"];
            invalid(path.join("."), place(&path).or_else(|| place(&path[..1])), msg);
        }
    }

    if let Some(file) = &config.providers.file {
        let none = |s: &Option<String>| s.as_deref().is_none_or(str::is_empty);
        if none(&file.filename) && none(&file.directory) {
            let path = ["providers", "file"];
            invalid(
                path.join("."),
                place(&path),
                "either `filename` or `directory` is required".into(),
            );
        }
    }
    (addresses, errors)
}

/// Where the value at `path` was written (the value, else its key).
pub(crate) fn origin_of(tree: &Node, path: &[&str]) -> Option<Origin> {
    tree.find(path).map(|(key, node)| match node.value {
        Value::Null => key.clone(),
        _ => node.origin.clone(),
    })
}

fn tree_node<'a>(tree: &'a Node, path: &[&str]) -> Option<&'a Node> {
    tree.find(path).map(|(_, node)| node)
}

/// The origin of item `i` of a list as the decoder saw it (a YAML list, or comma-separated text).
fn item_origin(node: &Node, i: usize) -> Option<Origin> {
    match &node.value {
        Value::Seq(items) => items.get(i).map(|n| n.origin.clone()),
        Value::Repeated(items) => {
            // Each repeated flag may hold several comma-separated items: find the flag.
            let mut seen = 0;
            for n in items {
                let here = match &n.value {
                    Value::Scalar(s) if !s.is_empty() => s.split(',').count(),
                    _ => 0,
                };
                if i < seen + here {
                    return Some(n.origin.clone());
                }
                seen += here;
            }
            None
        }
        _ => Some(node.origin.clone()),
    }
}
