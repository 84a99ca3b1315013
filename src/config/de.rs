//! A serde `Deserializer` over the positioned source tree, with Traefik's (paerser's) semantics:
//!
//! - struct field names match without case (`entrypoints`, `ENTRYPOINTS`); map keys (router,
//!   service, entry point names) are kept exactly as written;
//! - every scalar is text converted to the requested type: `"80"` to an integer, `true`/`1`/`t`
//!   (Go's `strconv.ParseBool`) to a boolean; a scalar where a list is wanted splits on commas;
//! - an empty value or `true` where a section is wanted turns the section on with its defaults
//!   (`--api`, `accessLog: {}`), and an empty value where an optional section is wanted leaves
//!   it off (`accessLog:`), as Traefik reads them;
//! - keys that name no field are looked up in `known` (warning, subtree ignored) or reported as
//!   errors with a suggestion; those errors are collected and decoding goes on, so one run
//!   reports every unknown key;
//! - every error carries the origin and the key path.

use std::borrow::Cow;
use std::cell::RefCell;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::error::{ConfigError, ConfigErrorKind, Warning, WarningKind};
use super::known;
use super::node::{Entry, Node, Value};
use super::origin::Origin;
use super::yaml::describe;

/// What decoding found besides the value: warnings, and errors that did not stop it.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub(crate) warnings: RefCell<Vec<Warning>>,
    pub(crate) errors: RefCell<Vec<ConfigError>>,
}

/// Decodes the tree into `T`. Errors: the collected unknown-key errors plus, if decoding stopped,
/// the error that stopped it.
pub(crate) fn decode<T: DeserializeOwned>(root: &Node, ctx: &Ctx) -> Result<T, Vec<ConfigError>> {
    let result = T::deserialize(De { node: root, path: String::new(), ctx });
    // Sections are visited parent first; report in the order written (flags after the file).
    ctx.warnings.borrow_mut().sort_by_key(|w| written_order(w.origin.as_ref()));
    let mut errors = ctx.errors.take();
    errors.sort_by_key(|e| written_order(e.origin.as_ref()));
    match result {
        Ok(value) if errors.is_empty() => Ok(value),
        Ok(_) => Err(errors),
        Err(e) => {
            errors.push(e);
            Err(errors)
        }
    }
}

/// Sort key putting file positions first in reading order, then flags, then the rest.
fn written_order(origin: Option<&Origin>) -> (u8, u32, u32) {
    match origin {
        Some(origin) => origin.line_col().map_or((1, 0, 0), |(l, c)| (0, l, c)),
        None => (2, 0, 0),
    }
}

struct De<'a> {
    node: &'a Node,
    path: String,
    ctx: &'a Ctx,
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

fn value_error(msg: String) -> ConfigError {
    ConfigError::new(None, "", ConfigErrorKind::Value(msg.into()))
}

impl<'a> De<'a> {
    fn fail(&self, msg: String) -> ConfigError {
        ConfigError::at(&self.node.origin, &self.path, ConfigErrorKind::Value(msg.into()))
    }

    fn locate<T>(&self, result: Result<T, ConfigError>) -> Result<T, ConfigError> {
        result.map_err(|e| e.locate(&self.node.origin, &self.path))
    }

    /// The text of a scalar; the last value of a repeated flag; `None` for an empty value.
    fn text(&self, wanted: &str) -> Result<Option<&'a str>, ConfigError> {
        match &self.node.value {
            Value::Scalar(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            Value::Repeated(items) => match items.last().map(|n| &n.value) {
                Some(Value::Scalar(s)) => Ok(Some(s)),
                _ => Ok(None),
            },
            other => Err(self.fail(format!("expected {wanted}, found {}", describe(other)))),
        }
    }

    fn required_text(&self, wanted: &str) -> Result<&'a str, ConfigError> {
        self.text(wanted)?.ok_or_else(|| self.fail(format!("expected {wanted}, found nothing")))
    }

    fn integer(&self, min: i128, max: i128) -> Result<i128, ConfigError> {
        let text = self.required_text("a whole number")?;
        let n: i128 = text
            .trim()
            .parse()
            .map_err(|_| self.fail(format!("`{text}` is not a whole number")))?;
        if n < min || n > max {
            return Err(self.fail(format!("`{text}` is out of range ({min} to {max})")));
        }
        Ok(n)
    }

    /// An empty value or `true` where a section (struct or map) is wanted: the section with its
    /// defaults. Anything else that is not a mapping is an error.
    fn section_entries(&self) -> Result<&'a [Entry], ConfigError> {
        match &self.node.value {
            Value::Map(entries) => Ok(entries),
            Value::Null => Ok(&[]),
            Value::Scalar(s) if s.is_empty() || s.eq_ignore_ascii_case("true") => Ok(&[]),
            Value::Scalar(s) => Err(self.fail(format!(
                "expected a section of keys, found `{s}` (an empty value or `true` turns a \
                 section on with its defaults; to turn it off, remove it)"
            ))),
            other => {
                Err(self.fail(format!("expected a section of keys, found {}", describe(other))))
            }
        }
    }
}

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

macro_rules! integer {
    ($method:ident, $visit:ident, $ty:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
            let n = self.integer(i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))?;
            let n = <$ty>::try_from(n).map_err(|_| self.fail(format!("`{n}` is out of range")))?;
            self.locate(visitor.$visit(n))
        }
    };
}

impl<'de> de::Deserializer<'de> for De<'_> {
    type Error = ConfigError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        let result = match &self.node.value {
            Value::Null => visitor.visit_unit(),
            Value::Scalar(_) | Value::Repeated(_) => match self.text("a value")? {
                Some(s) => visitor.visit_str(s),
                None => visitor.visit_unit(),
            },
            Value::Seq(_) => return self.deserialize_seq(visitor),
            Value::Map(_) => return self.deserialize_map(visitor),
        };
        self.locate(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        let text = self.required_text("true or false")?;
        let b = parse_bool(text).ok_or_else(|| {
            self.fail(format!("`{text}` is not a boolean (expected true or false)"))
        })?;
        self.locate(visitor.visit_bool(b))
    }

    integer!(deserialize_i8, visit_i8, i8);
    integer!(deserialize_i16, visit_i16, i16);
    integer!(deserialize_i32, visit_i32, i32);
    integer!(deserialize_i64, visit_i64, i64);
    integer!(deserialize_u8, visit_u8, u8);
    integer!(deserialize_u16, visit_u16, u16);
    integer!(deserialize_u32, visit_u32, u32);
    integer!(deserialize_u64, visit_u64, u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        let text = self.required_text("a number")?;
        let n: f64 =
            text.trim().parse().map_err(|_| self.fail(format!("`{text}` is not a number")))?;
        self.locate(visitor.visit_f64(n))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        let text = self.text("a single value")?.unwrap_or("");
        self.locate(visitor.visit_str(text))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        let text = self.text("a single value")?.unwrap_or("");
        self.locate(visitor.visit_bytes(text.as_bytes()))
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        if self.node.value == Value::Null {
            return self.locate(visitor.visit_none());
        }
        let origin = self.node.origin.clone();
        let path = self.path.clone();
        visitor.visit_some(self).map_err(|e| e.locate(&origin, &path))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        self.locate(visitor.visit_unit())
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        let items: Cow<'_, [Node]> = match &self.node.value {
            Value::Seq(items) => Cow::Borrowed(items),
            Value::Null => Cow::Owned(Vec::new()),
            Value::Scalar(s) => Cow::Owned(split(s, &self.node.origin)),
            Value::Repeated(items) => Cow::Owned(
                items
                    .iter()
                    .flat_map(|n| match &n.value {
                        Value::Scalar(s) => split(s, &n.origin),
                        _ => Vec::new(),
                    })
                    .collect(),
            ),
            Value::Map(_) => return Err(self.fail("expected a list, found a mapping".into())),
        };
        let access = SeqAccess { items: &items, index: 0, path: &self.path, ctx: self.ctx };
        self.locate(visitor.visit_seq(access))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        let entries = self.section_entries()?;
        let access =
            MapAccess { entries: entries.iter(), pending: None, path: &self.path, ctx: self.ctx };
        self.locate(visitor.visit_map(access))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        let entries = self.section_entries()?;
        let items = self.match_fields(name, fields, entries);
        let access = StructAccess {
            items: items.into_iter(),
            pending: None,
            path: &self.path,
            ctx: self.ctx,
        };
        self.locate(visitor.visit_map(access))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, ConfigError> {
        let text = self.required_text("a name")?;
        let result = visitor.visit_enum(IntoDeserializer::<ConfigError>::into_deserializer(text));
        self.locate(result)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ConfigError> {
        visitor.visit_unit()
    }
}

/// A comma-separated scalar as list items, trimmed, as paerser splits them. Empty text is an
/// empty list.
fn split(text: &str, origin: &Origin) -> Vec<Node> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split(',')
        .map(|part| Node::new(origin.clone(), Value::Scalar(part.trim().to_owned())))
        .collect()
}

/// One struct field to decode: serde's field name, the node (several case variants of one
/// field merged into one), and the key as written, for the path.
struct FieldItem<'a> {
    field: &'static str,
    node: Cow<'a, Node>,
    written: String,
}

impl<'a> De<'a> {
    /// Sorts the keys of a section into fields, warnings and errors.
    fn match_fields(
        &self,
        model: &'static str,
        fields: &'static [&'static str],
        entries: &'a [Entry],
    ) -> Vec<FieldItem<'a>> {
        let has_unsupported = fields.contains(&"unsupported");
        let mut items: Vec<FieldItem<'a>> = Vec::new();
        for entry in entries {
            let field =
                fields.iter().find(|f| **f != "unsupported" && f.eq_ignore_ascii_case(&entry.key));
            if let Some(field) = field {
                match items.iter_mut().find(|i| i.field == *field) {
                    // `entryPoints:` and `entrypoints:` (or a file key and a flag) are one field:
                    // later ones override, as a second paerser node filling the field would.
                    Some(item) => item.node.to_mut().merge(entry.value.clone()),
                    None => items.push(FieldItem {
                        field,
                        node: Cow::Borrowed(&entry.value),
                        written: entry.key.clone(),
                    }),
                }
                continue;
            }
            let warn = |kind| Warning {
                origin: Some(entry.key_origin.clone()),
                path: self.path.as_str().into(),
                kind,
            };
            if let Some(traefik_key) = known::not_implemented(model, &entry.key) {
                if has_unsupported {
                    self.ctx.warnings.borrow_mut().push(warn(WarningKind::Unsupported {
                        key: traefik_key.into(),
                        what: unsupported_what(model),
                    }));
                    if !items.iter().any(|i| i.field == "unsupported") {
                        let node =
                            Node::new(entry.key_origin.clone(), Value::Scalar(traefik_key.into()));
                        items.push(FieldItem {
                            field: "unsupported",
                            node: Cow::Owned(node),
                            written: entry.key.clone(),
                        });
                    }
                } else {
                    self.ctx
                        .warnings
                        .borrow_mut()
                        .push(warn(WarningKind::NotImplemented { key: traefik_key.into() }));
                }
                continue;
            }
            let candidates = fields.iter().copied().chain(known::keys_of(model).iter().copied());
            let suggestion = known::suggest(&entry.key, candidates).map(Box::from);
            if known::is_lenient(model) {
                let kind =
                    WarningKind::UnknownTopLevel { key: entry.key.as_str().into(), suggestion };
                self.ctx.warnings.borrow_mut().push(warn(kind));
            } else {
                let kind =
                    ConfigErrorKind::UnknownKey { key: entry.key.as_str().into(), suggestion };
                self.ctx.errors.borrow_mut().push(ConfigError::at(
                    &entry.key_origin,
                    &self.path,
                    kind,
                ));
            }
        }
        items
    }
}

fn unsupported_what(model: &str) -> &'static str {
    match model {
        "Middleware" => "middleware",
        "Service" => "service",
        "Headers" => "headers middleware",
        _ => "section",
    }
}

struct StructAccess<'a> {
    items: std::vec::IntoIter<FieldItem<'a>>,
    pending: Option<FieldItem<'a>>,
    path: &'a str,
    ctx: &'a Ctx,
}

impl<'de> de::MapAccess<'de> for StructAccess<'_> {
    type Error = ConfigError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ConfigError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let key =
            seed.deserialize(IntoDeserializer::<ConfigError>::into_deserializer(item.field))?;
        self.pending = Some(item);
        Ok(Some(key))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ConfigError> {
        let item = self.pending.take().ok_or_else(|| value_error("value without a key".into()))?;
        let path = join(self.path, &item.written);
        seed.deserialize(De { node: &item.node, path, ctx: self.ctx })
    }
}

struct MapAccess<'a> {
    entries: std::slice::Iter<'a, Entry>,
    pending: Option<&'a Entry>,
    path: &'a str,
    ctx: &'a Ctx,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = ConfigError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ConfigError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        let key = seed
            .deserialize(IntoDeserializer::<ConfigError>::into_deserializer(entry.key.as_str()))
            .map_err(|e| e.locate(&entry.key_origin, self.path))?;
        self.pending = Some(entry);
        Ok(Some(key))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<T::Value, ConfigError> {
        let entry = self.pending.take().ok_or_else(|| value_error("value without a key".into()))?;
        seed.deserialize(De {
            node: &entry.value,
            path: join(self.path, &entry.key),
            ctx: self.ctx,
        })
    }
}

struct SeqAccess<'a> {
    items: &'a [Node],
    index: usize,
    path: &'a str,
    ctx: &'a Ctx,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = ConfigError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, ConfigError> {
        let Some(node) = self.items.get(self.index) else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        seed.deserialize(De { node, path, ctx: self.ctx }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.index)
    }
}
