//! Traefik-style static configuration flags to the positioned source tree.
//!
//! Accepted, as the real `traefik` binary accepts them (checked against v3.7):
//! `--entryPoints.web.address=:80`, `--entrypoints.web.address :80` (value as the next argument),
//! a single dash (`-log.level=DEBUG`), a bare `--api.insecure` meaning `true`, lists as
//! comma-separated values, and a repeated list flag adding to the list. Key case does not matter
//! for Traefik's option names (the decoder matches them without case); names the user chooses
//! (entry points) are kept as written.
//!
//! One difference: Traefik decides from the option's type whether a bare flag takes the next
//! argument (so `--providers.file.watch false` leaves `false` behind). Without types at this
//! stage, a bare flag takes the next argument when that does not start with `-`.

use std::sync::Arc;

use super::error::{ConfigError, ConfigErrorKind, ConfigErrors};
use super::node::{Entry, MAX_DEPTH, Node, Value};
use super::origin::Origin;

/// The command line split into the configuration-file choice and the option tree.
#[derive(Debug)]
pub(crate) struct Flags {
    /// `--config FILE`, `--configFile=FILE` (Traefik's spelling; any case).
    pub(crate) config_file: Option<String>,
    /// Root map of every other flag.
    pub(crate) tree: Node,
}

pub(crate) fn parse(args: &[String]) -> Result<Flags, ConfigErrors> {
    let mut errors = Vec::new();
    let mut config_file = None;
    let mut tree = Node::empty_map(Origin::Flag("command line".into()));
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        let flag_error =
            |msg: String| ConfigError::new(None, "", ConfigErrorKind::Flag(msg.into()));
        if arg == "--" {
            for extra in rest.by_ref() {
                errors.push(flag_error(format!("unexpected argument `{extra}`")));
            }
            break;
        }
        let body = match arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) {
            Some(body) if !body.is_empty() && !body.starts_with(['-', '=']) => body,
            Some(_) => {
                errors.push(flag_error(format!("bad flag syntax: `{arg}`")));
                continue;
            }
            None => {
                errors.push(flag_error(format!(
                    "unexpected argument `{arg}` (options look like `--entryPoints.web.address=:80`)"
                )));
                continue;
            }
        };
        let (name, value, shown) = match body.split_once('=') {
            Some((name, value)) => (name, value.to_owned(), arg.clone()),
            None => match rest.clone().next() {
                Some(next) if !next.starts_with('-') => {
                    rest.next();
                    (body, next.clone(), format!("{arg} {next}"))
                }
                _ => (body, "true".to_owned(), arg.clone()),
            },
        };
        if name.eq_ignore_ascii_case("config") || name.eq_ignore_ascii_case("configFile") {
            if value == "true" && !body.contains('=') {
                errors.push(flag_error(format!("`{arg}` needs a file name")));
            } else {
                config_file = Some(value);
            }
            continue;
        }
        let origin = Origin::Flag(Arc::from(shown.as_str()));
        let segments: Vec<&str> = name.split('.').collect();
        if segments.iter().any(|s| s.is_empty()) {
            errors.push(ConfigError::at(
                &origin,
                "",
                ConfigErrorKind::Flag(format!("empty key in `{name}`").into()),
            ));
            continue;
        }
        if segments.len() > MAX_DEPTH {
            let msg = format!("nested deeper than {MAX_DEPTH} levels");
            errors.push(ConfigError::at(&origin, "", ConfigErrorKind::Limit(msg.into())));
            continue;
        }
        if let Err(e) = insert(&mut tree, &segments, value, &origin) {
            errors.push(e);
        }
    }
    if errors.is_empty() { Ok(Flags { config_file, tree }) } else { Err(ConfigErrors(errors)) }
}

/// Puts `value` at `path` under `map`, creating maps on the way.
fn insert(
    map: &mut Node,
    path: &[&str],
    value: String,
    origin: &Origin,
) -> Result<(), ConfigError> {
    let conflict = |at: &Origin| {
        let msg = format!("conflicts with {at}");
        ConfigError::at(origin, &path.join("."), ConfigErrorKind::Flag(msg.into()))
    };
    let mut value = Some(value);
    let mut node = map;
    for (i, segment) in path.iter().enumerate() {
        let last = i + 1 == path.len();
        // A bare `--api` (`true`) before `--api.insecure` only said the section is on.
        if matches!(&node.value, Value::Scalar(s) if s == "true") {
            node.value = Value::Map(Vec::new());
        }
        let node_origin = node.origin.clone();
        let Value::Map(entries) = &mut node.value else {
            return Err(conflict(&node_origin));
        };
        // paerser keys flags by their lowercased path, keeping the first spelling: so do we.
        let index = match entries.iter().position(|e| e.key.eq_ignore_ascii_case(segment)) {
            Some(index) => index,
            None => {
                let child = if last {
                    Node::new(origin.clone(), Value::Scalar(value.take().unwrap_or_default()))
                } else {
                    Node::empty_map(origin.clone())
                };
                entries.push(Entry {
                    key: (*segment).to_owned(),
                    key_origin: origin.clone(),
                    value: child,
                });
                if last {
                    return Ok(());
                }
                entries.len() - 1
            }
        };
        let entry = &mut entries[index];
        if last {
            let given = Node::new(origin.clone(), Value::Scalar(value.take().unwrap_or_default()));
            match &mut entry.value.value {
                Value::Repeated(items) => items.push(given),
                Value::Scalar(_) => {
                    let first = std::mem::replace(&mut entry.value, given.clone());
                    entry.value = Node::new(origin.clone(), Value::Repeated(vec![first, given]));
                }
                // `--api.insecure` then `--api`: keep the section.
                Value::Map(_) if given.value == Value::Scalar("true".into()) => {}
                _ => return Err(conflict(&entry.value.origin)),
            }
            return Ok(());
        }
        node = &mut entry.value;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn value_at<'a>(flags: &'a Flags, path: &[&str]) -> &'a Value {
        match flags.tree.find(path) {
            Some((_, node)) => &node.value,
            None => panic!("{path:?} missing"),
        }
    }

    #[test]
    fn equals_space_bare_and_single_dash() {
        let flags = parse(&args(&[
            "--entryPoints.web.address=:80",
            "--log.level",
            "DEBUG",
            "--api.insecure",
            "-providers.file.watch=false",
            "--configFile=/etc/t.yml",
        ]))
        .expect("parses");
        assert_eq!(flags.config_file.as_deref(), Some("/etc/t.yml"));
        assert_eq!(
            value_at(&flags, &["entryPoints", "web", "address"]),
            &Value::Scalar(":80".into())
        );
        assert_eq!(value_at(&flags, &["log", "level"]), &Value::Scalar("DEBUG".into()));
        assert_eq!(value_at(&flags, &["api", "insecure"]), &Value::Scalar("true".into()));
        assert_eq!(
            value_at(&flags, &["providers", "file", "watch"]),
            &Value::Scalar("false".into())
        );
        let (origin, _) = flags.tree.find(&["log", "level"]).expect("level");
        assert_eq!(origin.to_string(), "flag `--log.level DEBUG`");
    }

    #[test]
    fn config_flag_spellings() {
        for list in
            [&["--config", "a.yml"][..], &["--configfile=a.yml"], &["--configFile", "a.yml"]]
        {
            assert_eq!(parse(&args(list)).expect("parses").config_file.as_deref(), Some("a.yml"));
        }
        let e = parse(&args(&["--config"])).expect_err("no file");
        assert_eq!(e.to_string(), "`--config` needs a file name");
    }

    #[test]
    fn repeated_flags_and_sections() {
        let flags = parse(&args(&["--a.b=1", "--A.B=2", "--api", "--api.debug"])).expect("parses");
        assert!(
            matches!(value_at(&flags, &["a", "b"]), Value::Repeated(items) if items.len() == 2)
        );
        assert_eq!(value_at(&flags, &["api", "debug"]), &Value::Scalar("true".into()));
    }

    #[test]
    fn bad_flags_are_all_reported() {
        let e = parse(&args(&["stray", "--", "--x=1", "---y", "--a..b=1", "--a=1", "--a.b=2"]))
            .expect_err("bad");
        assert_eq!(
            e.to_string(),
            "unexpected argument `stray` (options look like `--entryPoints.web.address=:80`)\n\
             unexpected argument `--x=1`\n\
             unexpected argument `---y`\n\
             unexpected argument `--a..b=1`\n\
             unexpected argument `--a=1`\n\
             unexpected argument `--a.b=2`"
        );
        let e = parse(&args(&["---y", "--a..b=1", "--a=1", "--a.b=2"])).expect_err("bad");
        assert_eq!(
            e.to_string(),
            "bad flag syntax: `---y`\n\
             flag `--a..b=1`: empty key in `a..b`\n\
             flag `--a.b=2`: a.b: conflicts with flag `--a=1`"
        );
    }
}
