//! Sticky sessions by cookie, compatible with Traefik's: the cookie's default name is derived
//! from the service name and its value is the first 16 hex digits of the SHA-256 of the chosen
//! child's name (a server URL, or a child service name), so clients keep their server when a
//! user switches from Traefik.

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};

use super::hash::{hex, sha1, sha256};
use crate::config::dynamic::StickyCookie;

#[derive(Debug)]
pub struct Sticky {
    name: Box<str>,
    /// `; Path=/; HttpOnly; …` appended after `name=value`, built once.
    attributes: Box<str>,
    /// Cookie value per child, in child order.
    values: Box<[Box<str>]>,
    /// Older Traefik values (the raw child name, FNV-64 hashes) still accepted, then rewritten.
    legacy: Box<[[Box<str>; 3]]>,
}

impl Sticky {
    /// `service` is the service's qualified name (`name@provider`), `children` the child names.
    pub fn new(cfg: &StickyCookie, service: &str, children: &[&str]) -> Sticky {
        let name = match cfg.name.as_deref() {
            Some(n) if !n.is_empty() => sanitize(n),
            _ => generated_name(service),
        };
        Sticky {
            name: name.into(),
            attributes: attributes(cfg).into(),
            values: children.iter().map(|c| hex(&sha256(c.as_bytes()))[..16].into()).collect(),
            legacy: children
                .iter()
                .map(|c| {
                    let once = format!("{:x}", fnv64(c.as_bytes()));
                    let twice = format!("{:x}", fnv64(once.as_bytes()));
                    [(*c).into(), once.into(), twice.into()]
                })
                .collect(),
        }
    }

    /// The child the request's cookie names, and whether its cookie must be rewritten (it used a
    /// legacy value).
    pub fn chosen(&self, headers: &HeaderMap) -> Option<(usize, bool)> {
        let value = cookie_value(headers, &self.name)?;
        if let Some(i) = self.values.iter().position(|v| **v == *value) {
            return Some((i, false));
        }
        self.legacy.iter().position(|l| l.iter().any(|v| **v == *value)).map(|i| (i, true))
    }

    /// The `Set-Cookie` value that pins a client to `child`.
    pub fn set_cookie(&self, child: usize) -> Option<HeaderValue> {
        let value = self.values.get(child)?;
        HeaderValue::from_str(&format!("{}={}{}", self.name, value, self.attributes)).ok()
    }
}

/// Traefik's generated name: `_` and the first five hex digits of SHA-1("_TRAEFIK_BACKEND_" + service).
fn generated_name(service: &str) -> String {
    let digest = hex(&sha1(format!("_TRAEFIK_BACKEND_{service}").as_bytes()));
    format!("_{}", &digest[..5])
}

/// Characters outside a cookie name's token set become `_`, as Traefik does.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => c,
            '!' | '#' | '$' | '%' | '&' | '\'' | '*' | '+' | '-' | '.' | '^' | '`' | '|' | '~' => c,
            _ => '_',
        })
        .collect()
}

/// The attribute tail in the order Go's `http.Cookie.String` writes it.
fn attributes(cfg: &StickyCookie) -> String {
    let mut out = String::new();
    let path = cfg.path.as_deref().unwrap_or("/");
    if !path.is_empty() {
        out.push_str("; Path=");
        out.push_str(path);
    }
    if let Some(domain) = cfg.domain.as_deref().filter(|d| !d.is_empty()) {
        out.push_str("; Domain=");
        out.push_str(domain.trim_start_matches('.'));
    }
    if cfg.max_age > 0 {
        out.push_str(&format!("; Max-Age={}", cfg.max_age));
    } else if cfg.max_age < 0 {
        out.push_str("; Max-Age=0");
    }
    if cfg.http_only {
        out.push_str("; HttpOnly");
    }
    if cfg.secure {
        out.push_str("; Secure");
    }
    match cfg.same_site.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("none") => out.push_str("; SameSite=None"),
        Some("lax") => out.push_str("; SameSite=Lax"),
        Some("strict") => out.push_str("; SameSite=Strict"),
        _ => {}
    }
    out
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// FNV-1 64-bit (Go's `hash/fnv.New64`), for legacy cookie values.
fn fnv64(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        h.wrapping_mul(0x0000_0100_0000_01b3) ^ u64::from(b)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> StickyCookie {
        StickyCookie {
            http_only: true,
            same_site: Some("Lax".into()),
            max_age: 60,
            ..Default::default()
        }
    }

    #[test]
    fn traefik_compatible_name_and_value() {
        let s = Sticky::new(&cfg(), "whoami@file", &["http://127.0.0.1:8081"]);
        let digest = hex(&sha1(b"_TRAEFIK_BACKEND_whoami@file"));
        assert_eq!(&*s.name, format!("_{}", &digest[..5]));
        let value = &hex(&sha256(b"http://127.0.0.1:8081"))[..16];
        let cookie = s.set_cookie(0).expect("child 0 exists");
        assert_eq!(
            cookie,
            format!("{}={value}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax", s.name).as_str()
        );
    }

    #[test]
    fn finds_child_from_cookie_and_legacy_values() {
        let s = Sticky::new(
            &StickyCookie { name: Some("srv id".into()), ..Default::default() },
            "svc@file",
            &["a", "b"],
        );
        assert_eq!(&*s.name, "srv_id");
        let mut h = HeaderMap::new();
        let v = format!("other=1; srv_id={}", &hex(&sha256(b"b"))[..16]);
        h.insert(COOKIE, HeaderValue::from_str(&v).unwrap());
        assert_eq!(s.chosen(&h), Some((1, false)));
        h.insert(COOKIE, HeaderValue::from_static("srv_id=a"));
        assert_eq!(s.chosen(&h), Some((0, true)));
        h.insert(COOKIE, HeaderValue::from_static("srv_id=zzz"));
        assert_eq!(s.chosen(&h), None);
    }
}
