//! TOML text to the positioned source tree, through the `toml` crate's spanned document
//! (`toml::de::DeTable`). Like Traefik (BurntSushi/toml into a generic map, then paerser), every
//! scalar becomes text: integers in decimal, booleans as `true`/`false`.

use std::sync::Arc;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{ConfigError, ConfigErrorKind};
use super::node::{Entry, MAX_DEPTH, Node, Value};
use super::origin::{Origin, line_col};

/// Parses `text` (the contents of `file`) into a tree whose root is a map.
pub(crate) fn parse(text: &str, file: &Arc<str>) -> Result<Node, ConfigError> {
    let origin_at = |at: usize| {
        let (line, col) = line_col(text, at);
        Origin::file(file, line, col)
    };
    let table = DeTable::parse(text).map_err(|e| {
        let origin = origin_at(e.span().map_or(0, |s| s.start));
        // The crate's message is several lines with a source excerpt; keep the first line.
        let message = e.message().lines().next().unwrap_or("invalid TOML").trim().to_owned();
        ConfigError::at(&origin, "", ConfigErrorKind::Syntax(message.into()))
    })?;
    let root_origin = origin_at(0);
    convert_table(table.get_ref(), root_origin, &origin_at, 0)
}

fn convert_table(
    table: &DeTable<'_>,
    origin: Origin,
    origin_at: &dyn Fn(usize) -> Origin,
    depth: usize,
) -> Result<Node, ConfigError> {
    check_depth(depth, &origin)?;
    // The table is ordered by key; put the keys back in the order written.
    let mut items: Vec<_> = table.iter().collect();
    items.sort_by_key(|(k, _)| k.span().start);
    let mut entries = Vec::with_capacity(items.len());
    for (key, value) in items {
        let key_origin = origin_at(key.span().start);
        let node = convert_value(value, &key_origin, origin_at, depth + 1)?;
        entries.push(Entry { key: key.get_ref().to_string(), key_origin, value: node });
    }
    Ok(Node::new(origin, Value::Map(entries)))
}

fn convert_value(
    value: &Spanned<DeValue<'_>>,
    key_origin: &Origin,
    origin_at: &dyn Fn(usize) -> Origin,
    depth: usize,
) -> Result<Node, ConfigError> {
    let span = value.span();
    // Tables opened by a header (`[a.b]`) have no text of their own: use the key's place.
    let origin = if span.is_empty() { key_origin.clone() } else { origin_at(span.start) };
    let scalar = |s: String| Ok(Node::new(origin.clone(), Value::Scalar(s)));
    match value.get_ref() {
        DeValue::String(s) => scalar(s.to_string()),
        DeValue::Integer(i) => match i128::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => scalar(n.to_string()),
            Err(_) => scalar(i.to_string()),
        },
        DeValue::Float(f) => scalar(f.as_str().to_owned()),
        DeValue::Boolean(b) => scalar(b.to_string()),
        DeValue::Datetime(d) => scalar(d.to_string()),
        DeValue::Array(items) => {
            check_depth(depth, &origin)?;
            let mut nodes = Vec::new();
            for item in items {
                nodes.push(convert_value(item, &origin, origin_at, depth + 1)?);
            }
            Ok(Node::new(origin, Value::Seq(nodes)))
        }
        DeValue::Table(table) => convert_table(table, origin, origin_at, depth),
    }
}

fn check_depth(depth: usize, origin: &Origin) -> Result<(), ConfigError> {
    if depth > MAX_DEPTH {
        let msg = format!("nested deeper than {MAX_DEPTH} levels");
        return Err(ConfigError::at(origin, "", ConfigErrorKind::Limit(msg.into())));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        match parse(text, &"t.toml".into()) {
            Ok(node) => node,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn keys_keep_positions_and_scalars_become_text() {
        let root = parse_ok(
            "[entryPoints.web]\naddress = \":80\"\n\n[log]\nlevel = \"DEBUG\"\nnoColor = true\n\
             [http.services.s.loadBalancer]\nservers = [{ url = \"http://a\" }]\nport = 0x1F\n",
        );
        let (key, node) = root.find(&["entryPoints", "web", "address"]).expect("address");
        assert_eq!(key.to_string(), "t.toml:2:1");
        assert_eq!(node.origin.to_string(), "t.toml:2:11");
        assert_eq!(node.value, Value::Scalar(":80".into()));
        let (_, node) = root.find(&["log", "noColor"]).expect("noColor");
        assert_eq!(node.value, Value::Scalar("true".into()));
        let (_, node) =
            root.find(&["http", "services", "s", "loadBalancer", "port"]).expect("port");
        assert_eq!(node.value, Value::Scalar("31".into()));
        // Keys come back in the order written, not sorted.
        let keys: Vec<_> = root.entries().iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["entryPoints", "log", "http"]);
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let e = parse("a = 1\nb = = 2\n", &"t.toml".into()).expect_err("bad");
        assert!(e.to_string().starts_with("t.toml:2:"), "{e}");
        let e = parse("a = 1\na = 2\n", &"t.toml".into()).expect_err("dup");
        assert!(e.to_string().starts_with("t.toml:2:1: "), "{e}");
    }
}
