//! Arbitrary rule text, in both syntaxes and wrapped into the matchers whose arguments are
//! languages of their own (Go regexes, gorilla/mux templates). Properties: parsing never panics;
//! an error's column lies within the text (or just past its end); a rule that parses matches a
//! few fixed requests without panicking; the routing path of the text never panics either.
#![no_main]

use http::{HeaderMap, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use tollgate::rule::{self, RequestView, RuleSetBuilder, Syntax};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let (rule_text, syntax) = match mode % 8 {
        0 => (text.to_string(), Syntax::V3),
        1 => (text.to_string(), Syntax::V2),
        2 => (format!("PathRegexp(`{text}`)"), Syntax::V3),
        3 => (format!("Path(`/{text}`)"), Syntax::V2),
        4 => (format!("HostRegexp(`{text}`)"), Syntax::V2),
        5 => (format!("Query(`{text}`)"), Syntax::V2),
        6 => (format!("Host(`a`) && !({text}) || Path(\"/x\")"), Syntax::V3),
        _ => (format!("HeaderRegexp(`X-A`, \"{text}\")"), Syntax::V3),
    };

    let _ = rule::routing_path(&text);
    let _ = rule::routing_path_with(&text, false);

    match rule::parse(&rule_text, syntax) {
        Err(e) => {
            let chars = rule_text.chars().count();
            let col = usize::try_from(e.col()).expect("u32 fits usize");
            assert!(
                (1..=chars + 1).contains(&col),
                "column {col} outside 1..={} for {rule_text:?}: {e}",
                chars + 1
            );
            let _ = e.to_string();
        }
        Ok(r) => {
            assert_eq!(r.default_priority(), i64::try_from(rule_text.len()).expect("fits"));
            let get = Method::GET;
            let custom = Method::from_bytes(b"purge").expect("valid method");
            let mut headers = HeaderMap::new();
            headers.append("x-a", HeaderValue::from_static("1"));
            headers.append("x-a", HeaderValue::from_bytes(b"\xff b").expect("obs-text is valid"));
            headers.append("content-type", HeaderValue::from_static("application/json"));
            let empty = HeaderMap::new();
            let long_query = format!("q={}&k=v", "%41".repeat(300));
            let views = [
                RequestView {
                    method: &get,
                    host: "example.com",
                    path: "/",
                    query: None,
                    headers: &empty,
                    client_ip: None,
                },
                RequestView {
                    method: &custom,
                    host: "API.Example.COM.:8443",
                    path: "/api/v1/caf\u{e9}/%2F",
                    query: Some("a=1&a=2;b=%zz&c+d=e%20f&flag"),
                    headers: &headers,
                    client_ip: Some([10, 1, 2, 3].into()),
                },
                RequestView {
                    method: &get,
                    host: "[::1]",
                    path: &text,
                    query: Some(&long_query),
                    headers: &headers,
                    client_ip: Some(std::net::Ipv6Addr::LOCALHOST.into()),
                },
                RequestView {
                    method: &get,
                    host: &text,
                    path: "*",
                    query: Some(&text),
                    headers: &empty,
                    client_ip: None,
                },
            ];
            for v in &views {
                let _ = r.matches(v);
            }
            let mut b = RuleSetBuilder::new();
            if b.add("fuzz@file", 0, r, ()).is_ok() {
                let set = b.build();
                for v in &views {
                    let _ = set.first_match(v);
                }
            }
        }
    }
});
