//! YAML text to the positioned source tree, from saphyr-parser's events (each carries a span).
//!
//! Why an event parser: the serde YAML crates do not say where each key was written, and unknown
//! keys must be reported with their line and column. saphyr-parser is maintained, YAML 1.2, and
//! small (two small dependencies); yaml-rust2 would pull encoding_rs. docs/CONFIG.md has more.
//!
//! What Traefik's YAML (Go's yaml.v3) does and this matches: anchors and aliases, `<<` merge keys
//! (keys written in the mapping win over merged ones), a repeated key is an error, only the first
//! document is read, `~`/`null`/empty are null, every other scalar is text.

use std::collections::HashMap;
use std::sync::Arc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::error::{ConfigError, ConfigErrorKind};
use super::node::{Entry, MAX_DEPTH, MAX_NODES, Node, Value};
use super::origin::{Origin, saturate};

/// Parses `text` (the contents of `file`) into a tree whose root is a map (empty for an empty
/// document).
pub(crate) fn parse(text: &str, file: &Arc<str>) -> Result<Node, ConfigError> {
    // Characters per line, to keep positions inside the text: the parser reports the end of
    // input as the start of a line after the last one.
    let line_chars = text.split('\n').map(|line| line.chars().count()).collect();
    Builder { file, line_chars, anchors: HashMap::new(), stack: Vec::new(), nodes: 0 }.run(text)
}

/// A collection being built.
enum Frame {
    Seq { origin: Origin, anchor: usize, items: Vec<Node> },
    Map { origin: Origin, anchor: usize, entries: Vec<Entry>, key: Option<Key>, merges: Vec<Node> },
}

struct Key {
    text: String,
    origin: Origin,
    /// A plain `<<`: the YAML merge key.
    merge: bool,
}

struct Builder<'a> {
    file: &'a Arc<str>,
    line_chars: Vec<usize>,
    anchors: HashMap<usize, Node>,
    stack: Vec<Frame>,
    nodes: usize,
}

impl Builder<'_> {
    fn run(mut self, text: &str) -> Result<Node, ConfigError> {
        let mut parser = Parser::new_from_str(text);
        let mut root: Option<Node> = None;
        while let Some(event) = parser.next_event() {
            let (event, span) = event.map_err(|e| {
                let mark = e.marker();
                let origin = self.position(mark.line(), mark.col());
                ConfigError::at(&origin, "", ConfigErrorKind::Syntax(e.info().into()))
            })?;
            let origin = self.origin(&span);
            let done = match event {
                Event::Nothing | Event::StreamStart | Event::DocumentStart(_) => None,
                Event::StreamEnd | Event::DocumentEnd => break,
                Event::Alias(id) => {
                    let node = self.anchors.get(&id).cloned().ok_or_else(|| {
                        let msg = "alias to an anchor that is not defined before it";
                        ConfigError::at(&origin, "", ConfigErrorKind::Syntax(msg.into()))
                    })?;
                    self.add_nodes(node.count(), &origin)?;
                    Some((node, false, 0))
                }
                Event::Scalar(text, style, anchor, tag) => {
                    self.add_nodes(1, &origin)?;
                    let plain = style == ScalarStyle::Plain;
                    let tagged_str = tag.is_some_and(|t| t.suffix == "str");
                    let null = plain
                        && !tagged_str
                        && matches!(&*text, "" | "~" | "null" | "Null" | "NULL");
                    let value = if null { Value::Null } else { Value::Scalar(text.into_owned()) };
                    Some((Node::new(origin, value), plain, anchor))
                }
                Event::SequenceStart(anchor, _) => {
                    self.push(Frame::Seq { origin, anchor, items: Vec::new() })?;
                    None
                }
                Event::MappingStart(anchor, _) => {
                    let frame = Frame::Map {
                        origin,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                        merges: Vec::new(),
                    };
                    self.push(frame)?;
                    None
                }
                Event::SequenceEnd | Event::MappingEnd => Some(self.pop(&origin)?),
            };
            if let Some((node, plain, anchor)) = done {
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                if self.stack.is_empty() {
                    root = Some(node);
                } else {
                    self.deliver(node, plain)?;
                }
            }
        }
        let file_start = Origin::file(self.file, 1, 1);
        match root {
            None => Ok(Node::empty_map(file_start)),
            Some(Node { value: Value::Null, origin }) => Ok(Node::empty_map(origin)),
            Some(node @ Node { value: Value::Map(_), .. }) => Ok(node),
            Some(node) => Err(ConfigError::at(
                &node.origin,
                "",
                ConfigErrorKind::Syntax(
                    format!(
                        "the top level must be a mapping of keys, found {}",
                        describe(&node.value)
                    )
                    .into(),
                ),
            )),
        }
    }

    fn origin(&self, span: &Span) -> Origin {
        self.position(span.start.line(), span.start.col())
    }

    /// The origin of a parser mark (line from 1, column from 0), kept inside the text.
    fn position(&self, line: usize, col: usize) -> Origin {
        let last = self.line_chars.len().max(1);
        let (line, col) = if line > last {
            (last, self.line_chars.last().copied().unwrap_or(0))
        } else {
            (line.max(1), col.min(self.line_chars.get(line.max(1) - 1).copied().unwrap_or(0)))
        };
        Origin::file(self.file, saturate(line), saturate(col + 1))
    }

    fn add_nodes(&mut self, n: usize, origin: &Origin) -> Result<(), ConfigError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > MAX_NODES {
            let msg = format!("more than {MAX_NODES} values after expanding aliases");
            return Err(ConfigError::at(origin, "", ConfigErrorKind::Limit(msg.into())));
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame) -> Result<(), ConfigError> {
        let origin = match &frame {
            Frame::Seq { origin, .. } | Frame::Map { origin, .. } => origin.clone(),
        };
        if self.stack.len() >= MAX_DEPTH {
            let msg = format!("nested deeper than {MAX_DEPTH} levels");
            return Err(ConfigError::at(&origin, "", ConfigErrorKind::Limit(msg.into())));
        }
        self.add_nodes(1, &origin)?;
        self.stack.push(frame);
        Ok(())
    }

    /// Closes the innermost collection: (node, plain, anchor).
    fn pop(&mut self, at: &Origin) -> Result<(Node, bool, usize), ConfigError> {
        match self.stack.pop() {
            Some(Frame::Seq { origin, anchor, items }) => {
                Ok((Node::new(origin, Value::Seq(items)), false, anchor))
            }
            Some(Frame::Map { origin, anchor, mut entries, key, merges }) => {
                if let Some(key) = key {
                    // A key without a value cannot reach here (the parser emits an empty
                    // scalar), but keep the key rather than lose it.
                    entries.push(Entry {
                        key: key.text,
                        key_origin: key.origin.clone(),
                        value: Node::new(key.origin, Value::Null),
                    });
                }
                for source in merges {
                    self.merge_into(&mut entries, source)?;
                }
                Ok((Node::new(origin, Value::Map(entries)), false, anchor))
            }
            None => Err(ConfigError::at(
                at,
                "",
                ConfigErrorKind::Syntax("unbalanced collection".into()),
            )),
        }
    }

    /// `<<: *base` or `<<: [*a, *b]`: entries not written in the mapping itself are added; of
    /// several sources the first that has a key wins.
    fn merge_into(&mut self, entries: &mut Vec<Entry>, source: Node) -> Result<(), ConfigError> {
        let maps = match source.value {
            Value::Map(_) => vec![source],
            Value::Seq(items) if items.iter().all(|n| matches!(n.value, Value::Map(_))) => items,
            other => {
                let msg = format!(
                    "`<<` needs a mapping or a list of mappings, found {}",
                    describe(&other)
                );
                return Err(ConfigError::at(
                    &source.origin,
                    "",
                    ConfigErrorKind::Syntax(msg.into()),
                ));
            }
        };
        for map in maps {
            if let Value::Map(from) = map.value {
                for entry in from {
                    if !entries.iter().any(|e| e.key == entry.key) {
                        self.add_nodes(entry.value.count(), &entry.key_origin)?;
                        entries.push(entry);
                    }
                }
            }
        }
        Ok(())
    }

    fn deliver(&mut self, node: Node, plain: bool) -> Result<(), ConfigError> {
        let Some(frame) = self.stack.last_mut() else {
            return Ok(());
        };
        match frame {
            Frame::Seq { items, .. } => items.push(node),
            Frame::Map { entries, key, merges, .. } => match key.take() {
                None => {
                    let Value::Scalar(text) = node.value else {
                        let msg = format!("a key must be text, found {}", describe(&node.value));
                        return Err(ConfigError::at(
                            &node.origin,
                            "",
                            ConfigErrorKind::Syntax(msg.into()),
                        ));
                    };
                    if let Some(first) = entries.iter().find(|e| e.key == text) {
                        let line = first.key_origin.line_col().map_or(0, |(l, _)| l);
                        let msg = format!("key `{text}` is already defined at line {line}");
                        return Err(ConfigError::at(
                            &node.origin,
                            "",
                            ConfigErrorKind::Syntax(msg.into()),
                        ));
                    }
                    let merge = plain && text == "<<";
                    *key = Some(Key { text, origin: node.origin, merge });
                }
                Some(Key { merge: true, .. }) => merges.push(node),
                Some(Key { text, origin, .. }) => {
                    entries.push(Entry { key: text, key_origin: origin, value: node });
                }
            },
        }
        Ok(())
    }
}

pub(crate) fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Scalar(_) => "a single value",
        Value::Seq(_) | Value::Repeated(_) => "a list",
        Value::Map(_) => "a mapping",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Node {
        match parse(text, &"t.yml".into()) {
            Ok(node) => node,
            Err(e) => panic!("{e}"),
        }
    }

    fn parse_err(text: &str) -> String {
        match parse(text, &"t.yml".into()) {
            Ok(node) => panic!("parsed: {node:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn scalar_at<'a>(node: &'a Node, path: &[&str]) -> (&'a str, String) {
        match node.find(path) {
            Some((key_origin, Node { value: Value::Scalar(s), .. })) => (s, key_origin.to_string()),
            other => panic!("{path:?}: {other:?}"),
        }
    }

    #[test]
    fn keys_and_values_carry_line_and_column() {
        let root = parse_ok("log:\n  level: DEBUG\nentryPoints:\n  web:\n    address: \":80\"\n");
        assert_eq!(scalar_at(&root, &["log", "level"]), ("DEBUG", "t.yml:2:3".into()));
        assert_eq!(
            scalar_at(&root, &["entryPoints", "web", "address"]),
            (":80", "t.yml:5:5".into())
        );
        let (_, node) = root.find(&["entryPoints", "web", "address"]).expect("address");
        assert_eq!(node.origin.to_string(), "t.yml:5:14");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let root =
            parse_ok("base: &b\n  a: 1\n  b: 2\nuse:\n  <<: *b\n  b: 3\ncopy: *b\nlist: [x, *b]\n");
        assert_eq!(scalar_at(&root, &["use", "a"]).0, "1");
        assert_eq!(scalar_at(&root, &["use", "b"]).0, "3");
        assert_eq!(scalar_at(&root, &["copy", "b"]).0, "2");
    }

    #[test]
    fn nulls_and_quoted_nulls() {
        let root = parse_ok("a:\nb: ~\nc: 'null'\nd: null\n");
        assert!(matches!(root.find(&["a"]), Some((_, Node { value: Value::Null, .. }))));
        assert!(matches!(root.find(&["b"]), Some((_, Node { value: Value::Null, .. }))));
        assert_eq!(scalar_at(&root, &["c"]).0, "null");
        assert!(parse_ok("").entries().is_empty());
        assert!(parse_ok("# only a comment\n").entries().is_empty());
    }

    #[test]
    fn syntax_errors_have_positions() {
        assert_eq!(parse_err("a: 1\na: 2\n"), "t.yml:2:1: key `a` is already defined at line 1");
        assert_eq!(
            parse_err("- a\n- b\n"),
            "t.yml:1:1: the top level must be a mapping of keys, found a list"
        );
        assert_eq!(parse_err("a: *nope\n"), "t.yml:1:4: while parsing node, found unknown anchor");
        let e = parse_err("a: [1, 2\n");
        assert!(e.starts_with("t.yml:2:1: "), "{e}");
        assert_eq!(parse_err("? [a]\n: 1\n"), "t.yml:1:3: a key must be text, found a list");
        assert_eq!(
            parse_err("<<: x\n"),
            "t.yml:1:5: `<<` needs a mapping or a list of mappings, found a single value"
        );
    }

    #[test]
    fn end_of_input_errors_point_inside_the_text() {
        // Found by fuzzing: the parser marks the end of input as a line after the last one.
        let e = parse_err("http:\n  mid# x iss:\n  g i");
        assert!(e.starts_with("t.yml:3:6: "), "{e}");
    }

    #[test]
    fn expansion_and_depth_are_bounded() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, prev) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
            let name = ["b", "c", "d", "e", "f", "g"][i];
            bomb.push_str(&format!("{name}: &{name} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(parse_err(&bomb).contains("more than 200000 values after expanding aliases"));
        let deep = format!("a: {}{}\n", "[".repeat(100), "]".repeat(100));
        assert!(parse_err(&deep).ends_with("nested deeper than 64 levels"), "{}", parse_err(&deep));
    }

    #[test]
    fn only_the_first_document_is_read() {
        let root = parse_ok("a: 1\n---\nb: 2\n");
        assert!(root.find(&["a"]).is_some());
        assert!(root.find(&["b"]).is_none());
    }
}
