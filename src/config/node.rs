//! The positioned source tree, as Traefik's own loader (paerser) builds one: every source (YAML,
//! TOML, flags) becomes maps of keys, sequences and scalar strings, each node carrying its origin.
//! Types are decided later, by the serde models (`de.rs`), so `"80"`, `80` and `--x=80` are alike.

use super::origin::Origin;

/// Deepest nesting a source may have. Traefik's deepest key is about eight levels; the limit keeps
/// the recursive decoder's stack small whatever the input.
pub(crate) const MAX_DEPTH: usize = 64;

/// Most nodes one source may expand to (YAML aliases can multiply a small text).
pub(crate) const MAX_NODES: usize = 200_000;

/// One node of the source tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub(crate) origin: Origin,
    pub(crate) value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Written but empty (`key:` in YAML, `~`, `null`).
    Null,
    /// Every scalar is text; the model's type decides how it reads.
    Scalar(String),
    Seq(Vec<Node>),
    /// Keys in the order written; keys are kept exactly as written.
    Map(Vec<Entry>),
    /// One flag given several times: a list gets all values, anything else the last one, as
    /// paerser's flag parser does.
    Repeated(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) key: String,
    pub(crate) key_origin: Origin,
    pub(crate) value: Node,
}

impl Node {
    pub(crate) fn new(origin: Origin, value: Value) -> Node {
        Node { origin, value }
    }

    pub(crate) fn empty_map(origin: Origin) -> Node {
        Node { origin, value: Value::Map(Vec::new()) }
    }

    pub(crate) fn entries(&self) -> &[Entry] {
        match &self.value {
            Value::Map(entries) => entries,
            _ => &[],
        }
    }

    /// Lays `over` on top of `self`: maps merge key by key (exact keys; case variants of a struct
    /// field are merged later by the decoder, which knows which keys are fields), anything else
    /// is replaced. A bare `--api` (`true`) over a map written in the file keeps the map: the
    /// flag only says the section is on.
    pub(crate) fn merge(&mut self, over: Node) {
        match (&mut self.value, over.value) {
            (Value::Map(base), Value::Map(entries)) => {
                for entry in entries {
                    match base.iter_mut().find(|e| e.key == entry.key) {
                        Some(existing) => existing.value.merge(entry.value),
                        None => base.push(entry),
                    }
                }
            }
            (Value::Map(_), Value::Null) => {}
            (Value::Map(_), Value::Scalar(s)) if s.is_empty() || s.eq_ignore_ascii_case("true") => {
            }
            (_, value) => *self = Node { origin: over.origin, value },
        }
    }

    /// The node at `path`, matching keys without case (struct fields) and preferring the last
    /// match, which is the one a later source wrote. Used to find where a value came from.
    pub(crate) fn find(&self, path: &[&str]) -> Option<(&Origin, &Node)> {
        let (first, rest) = path.split_first()?;
        let entry = self.entries().iter().rev().find(|e| e.key.eq_ignore_ascii_case(first))?;
        if rest.is_empty() {
            Some((&entry.key_origin, &entry.value))
        } else {
            entry.value.find(rest)
        }
    }

    /// Number of nodes in this subtree (itself included).
    pub(crate) fn count(&self) -> usize {
        1 + match &self.value {
            Value::Null | Value::Scalar(_) => 0,
            Value::Seq(items) | Value::Repeated(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|e| e.value.count()).sum(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flag(name: &str) -> Origin {
        Origin::Flag(name.into())
    }

    fn map(entries: Vec<(&str, Node)>) -> Node {
        Node::new(
            flag("m"),
            Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Entry { key: k.into(), key_origin: flag(k), value: v })
                    .collect(),
            ),
        )
    }

    fn scalar(s: &str) -> Node {
        Node::new(flag(s), Value::Scalar(s.into()))
    }

    #[test]
    fn merge_overrides_scalars_and_joins_maps() {
        let mut base = map(vec![("a", map(vec![("x", scalar("1")), ("y", scalar("2"))]))]);
        base.merge(map(vec![("a", map(vec![("y", scalar("3"))])), ("b", scalar("4"))]));
        assert_eq!(base.find(&["a", "x"]).map(|(_, n)| &n.value), Some(&Value::Scalar("1".into())));
        assert_eq!(base.find(&["A", "Y"]).map(|(_, n)| &n.value), Some(&Value::Scalar("3".into())));
        assert_eq!(base.find(&["b"]).map(|(_, n)| &n.value), Some(&Value::Scalar("4".into())));
        assert_eq!(base.count(), 5);
    }

    #[test]
    fn bare_true_keeps_a_section() {
        let mut base = map(vec![("api", map(vec![("dashboard", scalar("true"))]))]);
        base.merge(map(vec![("api", scalar("true"))]));
        assert!(base.find(&["api", "dashboard"]).is_some());
    }
}
