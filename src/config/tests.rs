//! Loading end to end with literal inputs: decoding semantics, every error kind's wording,
//! warnings, flags over files, the directory provider on real temp files.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

fn static_ok(text: &str, name: &str) -> (StaticConfig, Vec<Warning>) {
    match parse_static(text, name) {
        Ok(loaded) => loaded,
        Err(e) => panic!("{e}"),
    }
}

fn static_err(text: &str, name: &str) -> String {
    match parse_static(text, name) {
        Ok((config, _)) => panic!("accepted: {config:?}"),
        Err(e) => e.to_string(),
    }
}

fn dynamic_ok(text: &str, name: &str) -> Loaded {
    match parse_dynamic(text, name) {
        Ok(loaded) => loaded,
        Err(e) => panic!("{e}"),
    }
}

fn dynamic_err(text: &str, name: &str) -> String {
    match parse_dynamic(text, name) {
        Ok(loaded) => panic!("accepted: {loaded:?}"),
        Err(e) => e.to_string(),
    }
}

fn strings(warnings: &[Warning]) -> Vec<String> {
    warnings.iter().map(ToString::to_string).collect()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// A fresh directory under the target dir's tmp, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let base =
            std::env::temp_dir().join(format!("tollgate-config-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&base);
        fs::create_dir_all(&base).expect("create temp dir");
        TempDir(base)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create dir");
        }
        fs::write(&path, text).expect("write file");
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---- decoding semantics ----

#[test]
fn field_names_ignore_case_and_map_keys_do_not() {
    // Checked against traefik v3.7: `entrypoints:`, `LOG:`/`LEVEL:`, `loadbalancer:` all load.
    let (config, warnings) =
        static_ok("entrypoints:\n  Web:\n    ADDRESS: \":80\"\nLOG:\n  LEVEL: debug\n", "t.yml");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(config.entry_points["Web"].address, ":80");
    assert!(!config.entry_points.contains_key("web"));
    assert_eq!(config.log.level, "debug");

    let loaded = dynamic_ok(
        "HTTP:\n  routers:\n    MyRouter:\n      RULE: Host(`a`)\n      entrypoints: web\n      \
         service: s\n  services:\n    s:\n      loadbalancer:\n        servers:\n          - URL: http://b\n",
        "d.yml",
    );
    let router = &loaded.config.http.routers["MyRouter"];
    assert_eq!(router.rule, "Host(`a`)");
    assert_eq!(router.entry_points, ["web"]);
    let lb = loaded.config.http.services["s"].load_balancer.as_ref().expect("lb");
    assert_eq!(lb.servers[0].url, "http://b");
}

#[test]
fn scalars_convert_to_the_wanted_type() {
    let (config, _) = static_ok(
        "entryPoints:\n  web:\n    address: :80\n    forwardedHeaders:\n      \
         trustedIPs: \"10.0.0.1, 10.0.0.0/8\"\n      insecure: \"T\"\n    transport:\n      \
         respondingTimeouts:\n        readTimeout: 5\n        idleTimeout: 1m30s\n\
         accessLog:\n  bufferingSize: \"100\"\n",
        "t.yml",
    );
    let web = &config.entry_points["web"];
    assert_eq!(web.forwarded_headers.trusted_ips, ["10.0.0.1", "10.0.0.0/8"]);
    assert!(web.forwarded_headers.insecure);
    assert_eq!(web.transport.responding_timeouts.read_timeout, Duration::from_secs(5));
    assert_eq!(web.transport.responding_timeouts.idle_timeout, Duration::from_secs(90));
    assert_eq!(config.access_log.as_ref().map(|a| a.buffering_size), Some(100));
}

#[test]
fn empty_and_true_sections() {
    // `accessLog:` with nothing is off (as in traefik); `{}` is on with defaults.
    let (config, _) = static_ok("accessLog:\n", "t.yml");
    assert_eq!(config.access_log, None);
    let (config, _) = static_ok("accessLog: {}\n", "t.yml");
    assert_eq!(config.access_log.map(|a| a.format), Some("common".to_owned()));
    let loaded = dynamic_ok("http:\n  routers:\n    r:\n      tls: {}\n", "d.yml");
    assert!(loaded.config.http.routers["r"].tls.is_some());
}

#[test]
fn value_errors_name_file_line_column_and_key_path() {
    let text = "entryPoints:\n  web:\n    address: \":80\"\n    transport:\n      respondingTimeouts:\n        readTimeout: 1x\n";
    assert_eq!(
        static_err(text, "traefik.yml"),
        "traefik.yml:6:22: entryPoints.web.transport.respondingTimeouts.readTimeout: `1x` is not a \
         duration (expected e.g. `10s`, `1m30s`, `250ms` or a number of seconds)"
    );
    assert_eq!(
        static_err("entryPoints:\n  web:\n    forwardedHeaders:\n      insecure: yes\n", "t.yml"),
        "t.yml:4:17: entryPoints.web.forwardedHeaders.insecure: `yes` is not a boolean (expected true or false)"
    );
    assert_eq!(
        static_err("stats:\n  channelCapacity: -1\n", "t.yml"),
        format!("t.yml:2:20: stats.channelCapacity: `-1` is out of range (0 to {})", usize::MAX)
    );
    assert_eq!(
        dynamic_err(
            "http:\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: a\n            weight: heavy\n",
            "d.yml"
        ),
        "d.yml:7:21: http.services.s.loadBalancer.servers[0].weight: `heavy` is not a whole number"
    );
    assert_eq!(
        dynamic_err("http:\n  routers:\n    r:\n      rule: [a, b]\n", "d.yml"),
        "d.yml:4:13: http.routers.r.rule: expected a single value, found a list"
    );
    assert_eq!(
        dynamic_err("http:\n  routers:\n    r:\n      entryPoints: {a: 1}\n", "d.yml"),
        "d.yml:4:20: http.routers.r.entryPoints: expected a list, found a mapping"
    );
    assert_eq!(
        dynamic_err("http:\n  routers: web\n", "d.yml"),
        "d.yml:2:12: http.routers: expected a section of keys, found `web` (an empty value or \
         `true` turns a section on with its defaults; to turn it off, remove it)"
    );
}

#[test]
fn unknown_keys_are_errors_with_suggestions_all_reported() {
    assert_eq!(
        static_err(
            "log:\n  lvel: DEBUG\nentryPoints:\n  web:\n    adress: \":80\"\n    bogus: 1\n",
            "t.yml"
        ),
        "t.yml:2:3: log: unknown key `lvel` (did you mean `level`?)\n\
         t.yml:5:5: entryPoints.web: unknown key `adress` (did you mean `address`?)\n\
         t.yml:6:5: entryPoints.web: unknown key `bogus`"
    );
    // A user cannot set the loader's own `unsupported` field.
    assert_eq!(
        dynamic_err("http:\n  middlewares:\n    m:\n      unsupported: x\n", "d.yml"),
        "d.yml:4:7: http.middlewares.m: unknown key `unsupported`"
    );
}

#[test]
fn traefik_keys_not_implemented_warn_once_per_subtree() {
    let (_, warnings) = static_ok(
        "metrics:\n  prometheus:\n    entryPoint: x\n    buckets: [1, 2]\nentryPoints:\n  web:\n    \
         address: \":80\"\n    http3: {}\nx-anchors: &a {}\nentrypoint: {}\n",
        "t.yml",
    );
    assert_eq!(
        strings(&warnings),
        [
            "t.yml:1:1: `metrics` is a Traefik option tollgate does not implement yet; ignored",
            "t.yml:8:5: entryPoints.web: `http3` is a Traefik option tollgate does not implement yet; ignored",
            "t.yml:9:1: unknown top-level key `x-anchors` ignored",
            "t.yml:10:1: unknown top-level key `entrypoint` ignored (did you mean `entryPoints`?)",
        ]
    );
}

#[test]
fn unsupported_middleware_kinds_are_recorded_for_rejection() {
    let loaded = dynamic_ok(
        "http:\n  middlewares:\n    auth:\n      basicAuth:\n        users: [\"a:b\"]\n    \
         sec:\n      headers:\n        frameDeny: true\n        customRequestHeaders:\n          X-A: b\n    \
         strip:\n      stripPrefix:\n        prefixes: /api\n  services:\n    hrw:\n      failover:\n        service: a\n",
        "d.yml",
    );
    let middlewares = &loaded.config.http.middlewares;
    assert_eq!(middlewares["auth"].unsupported.as_deref(), Some("basicAuth"));
    let headers = middlewares["sec"].headers.as_ref().expect("headers");
    assert_eq!(headers.unsupported.as_deref(), Some("frameDeny"));
    assert_eq!(headers.custom_request_headers["X-A"], "b");
    assert_eq!(middlewares["strip"].unsupported, None);
    assert_eq!(
        middlewares["strip"].strip_prefix.as_ref().map(|s| s.prefixes.clone()),
        Some(vec!["/api".to_owned()])
    );
    assert_eq!(loaded.config.http.services["hrw"].unsupported.as_deref(), Some("failover"));
    assert_eq!(
        strings(&loaded.warnings),
        [
            "d.yml:4:7: http.middlewares.auth: `basicAuth` is not implemented by tollgate yet; routers using this middleware are rejected",
            "d.yml:8:9: http.middlewares.sec.headers: `frameDeny` is not implemented by tollgate yet; routers using this headers middleware are rejected",
            "d.yml:16:7: http.services.hrw: `failover` is not implemented by tollgate yet; routers using this service are rejected",
        ]
    );
}

#[test]
fn toml_decodes_the_same_way() {
    let (config, _) = static_ok(
        "[entryPoints.web]\naddress = \":80\"\n[entryPoints.web.forwardedHeaders]\ntrustedIPs = [\"10.0.0.1\"]\n\
         [log]\nlevel = \"DEBUG\"\n[providers.file]\nwatch = false\ndirectory = \"/x\"\n",
        "t.toml",
    );
    assert_eq!(config.entry_points["web"].forwarded_headers.trusted_ips, ["10.0.0.1"]);
    assert_eq!(config.providers.file.as_ref().map(|f| f.watch), Some(false));
    assert_eq!(
        static_err("[log]\nlevle = \"DEBUG\"\n", "t.toml"),
        "t.toml:2:1: log: unknown key `levle` (did you mean `level`?)"
    );
    assert_eq!(
        static_err(
            "[entryPoints.web]\naddress = \":80\"\n[entryPoints.web.transport.lifeCycle]\ngraceTimeOut = \"ten\"\n",
            "t.toml"
        ),
        "t.toml:4:16: entryPoints.web.transport.lifeCycle.graceTimeOut: `ten` is not a duration \
         (expected e.g. `10s`, `1m30s`, `250ms` or a number of seconds)"
    );
    let loaded = dynamic_ok("[http.routers.r]\nrule = \"Path(`/`)\"\npriority = 7\n", "d.toml");
    assert_eq!(loaded.config.http.routers["r"].priority, Some(7));
    assert_eq!(loaded.origins.router("r").map(ToString::to_string).as_deref(), Some("d.toml:1:15"));
}

// ---- static loading: validation, flags, file choice ----

#[test]
fn validation_reports_every_error_with_its_origin() {
    let text = "entryPoints:\n  web:\n    address: \"80\"\n    http:\n      redirections:\n        entryPoint:\n          to: websecure\n  \
                other:\n    address: \":8080/udp\"\n    forwardedHeaders:\n      trustedIPs:\n        - 10.0.0.1\n        - 10.0.0.300\n\
                log:\n  level: verbose\ncore:\n  defaultRuleSyntax: v4\nproviders:\n  file: {}\n";
    assert_eq!(
        static_err(text, "t.yml"),
        "t.yml:9:14: entryPoints.other.address: `:8080/udp`: only TCP entry points are supported (`/tcp` or no suffix)\n\
         t.yml:13:11: entryPoints.other.forwardedHeaders.trustedIPs[1]: `10.0.0.300` is not an IP address or CIDR range\n\
         t.yml:3:14: entryPoints.web.address: `80` has no port (expected e.g. `:80`, `127.0.0.1:8080` or `[::]:80`)\n\
         t.yml:7:15: entryPoints.web.http.redirections.entryPoint.to: entry point `websecure` does not exist (entry points: other, web)\n\
         t.yml:15:10: log.level: `verbose` is not a log level (expected one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC, DISABLED)\n\
         t.yml:17:22: core.defaultRuleSyntax: `v4` is not a rule syntax (expected v3 or v2)\n\
         t.yml:19:9: providers.file: either `filename` or `directory` is required"
    );
    // A port as the redirection target is fine.
    static_ok(
        "entryPoints:\n  web:\n    address: \":80\"\n    http:\n      redirections:\n        entryPoint:\n          to: \":443\"\n",
        "t.yml",
    );
}

#[test]
fn flags_override_the_file_and_carry_their_own_origin() {
    let dir = TempDir::new("flags");
    let file = dir.write(
        "traefik.yml",
        "entryPoints:\n  web:\n    address: \":80\"\n    forwardedHeaders:\n      trustedIPs: [10.0.0.1]\nlog:\n  level: INFO\n",
    );
    let file_arg = format!("--configFile={}", file.display());
    let (config, meta) = load_static_with(
        &args(&[
            &file_arg,
            "--entrypoints.web.address",
            "127.0.0.1:9000",
            "--log.level=DEBUG",
            "--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.2,10.0.0.0/8",
            "--entryPoints.web.forwardedHeaders.trustedIPs=fd00::/8",
            "--entryPoints.admin.address=:9001",
        ]),
        &[],
    )
    .expect("loads");
    assert_eq!(meta.source, StaticSource::File(file));
    assert_eq!(config.entry_points["web"].address, "127.0.0.1:9000");
    assert_eq!(
        config.entry_points["web"].forwarded_headers.trusted_ips,
        ["10.0.0.2", "10.0.0.0/8", "fd00::/8"]
    );
    assert_eq!(config.log.level, "DEBUG");
    assert_eq!(meta.addresses["web"].socket.to_string(), "127.0.0.1:9000");
    assert_eq!(meta.addresses["admin"].socket.to_string(), "[::]:9001");

    let e = load_static_with(
        &args(&[&file_arg, "--log.level=loud", "--entryPoints.web.address=:x"]),
        &[],
    )
    .expect_err("bad flags");
    assert_eq!(
        e.to_string(),
        "flag `--entryPoints.web.address=:x`: entryPoints.web.address: `:x`: the port must be a number from 0 to 65535\n\
         flag `--log.level=loud`: log.level: `loud` is not a log level (expected one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, PANIC, DISABLED)"
    );
    let e = load_static_with(&args(&["--log.lvel=DEBUG"]), &[]).expect_err("unknown flag");
    assert_eq!(
        e.to_string(),
        "flag `--log.lvel=DEBUG`: log: unknown key `lvel` (did you mean `level`?)"
    );
}

#[test]
fn file_choice_search_paths_and_embedded_default() {
    let dir = TempDir::new("search");
    let missing = dir.path().join("none.yml");
    let found = dir.write("found.yml", "entryPoints:\n  web:\n    address: \"127.0.0.1:1234\"\n");
    let (config, meta) = load_static_with(&[], &[missing.clone(), found.clone()]).expect("found");
    assert_eq!(meta.source, StaticSource::File(found));
    assert_eq!(config.entry_points["web"].address, "127.0.0.1:1234");

    let (config, meta) =
        load_static_with(&args(&["--log.level=DEBUG"]), std::slice::from_ref(&missing))
            .expect("default");
    assert_eq!(meta.source, StaticSource::Embedded);
    assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
    assert_eq!(config.entry_points["web"].address, ":8080");
    assert_eq!(meta.addresses["web"].socket.port(), 8080);
    assert_eq!(config.log.level, "DEBUG");
    let file = config.providers.file.expect("file provider");
    assert_eq!(file.directory.as_deref(), Some("/etc/tollgate/dynamic"));
    assert!(file.watch);
    assert!(DEFAULT_STATIC.contains("level: INFO"));

    let e = load_static_with(&args(&["--config", &missing.display().to_string()]), &[])
        .expect_err("missing");
    assert!(
        e.to_string().starts_with(&format!("cannot read `{}`: No such file", missing.display())),
        "{e}"
    );
}

// ---- dynamic: file provider ----

#[test]
fn directory_provider_merges_in_traefik_order_and_skips_duplicates() {
    let dir = TempDir::new("dir");
    dir.write(
        "b.yml",
        "http:\n  routers:\n    r:\n      rule: Host(`b`)\n      service: s\n  services:\n    s:\n      loadBalancer:\n        servers:\n          - url: http://127.0.0.1:2\n",
    );
    dir.write("a.yml", "http:\n  routers:\n    r:\n      rule: Host(`a`)\n      service: s\n");
    dir.write("sub/c.toml", "[http.routers.c]\nrule = \"Host(`c`)\"\nservice = \"s\"\n");
    dir.write("notes.txt", "not configuration");
    dir.write("empty.yaml", "");
    let loaded = load_dynamic_dir(dir.path()).expect("loads");
    let routers = &loaded.config.http.routers;
    assert_eq!(routers.keys().collect::<Vec<_>>(), ["c", "r"]);
    assert_eq!(routers["r"].rule, "Host(`a`)", "the first file in name order wins, as in traefik");
    let a = dir.path().join("a.yml").display().to_string();
    let b = dir.path().join("b.yml").display().to_string();
    let c = dir.path().join("sub/c.toml").display().to_string();
    assert_eq!(loaded.origins.router("r").map(ToString::to_string), Some(format!("{a}:3:5")));
    assert_eq!(loaded.origins.router("c").map(ToString::to_string), Some(format!("{c}:1:15")));
    assert_eq!(loaded.origins.service("s").map(ToString::to_string), Some(format!("{b}:7:5")));
    assert_eq!(loaded.origins.middleware("s"), None);
    assert_eq!(
        strings(&loaded.warnings),
        [format!("{b}:3:5: router `r` is already defined at {a}:3:5; this definition is skipped")]
    );
}

#[test]
fn a_broken_file_fails_the_whole_load_with_its_position() {
    let dir = TempDir::new("broken");
    dir.write("a.yml", "http:\n  routers:\n    r:\n      rule: Host(`a`)\n");
    let bad = dir.write("b.yml", "http:\n  routers:\n    r2:\n      rule: [unclosed\n");
    let e = load_dynamic_dir(dir.path()).expect_err("broken");
    let text = e.to_string();
    assert!(text.starts_with(&format!("{}:5:1: ", bad.display())), "{text}");

    let e = load_dynamic_file(&dir.path().join("gone.yml")).expect_err("missing");
    assert!(e.to_string().contains("gone.yml`: No such file"), "{e}");
}

#[test]
fn missing_directory_is_a_warning_and_templates_are_flagged() {
    let loaded =
        load_dynamic_dir(Path::new("/nonexistent/tollgate/dynamic")).expect("warning only");
    assert_eq!(loaded.config, DynamicConfig::default());
    assert_eq!(
        strings(&loaded.warnings),
        [
            "directory `/nonexistent/tollgate/dynamic` does not exist; no dynamic configuration read from it"
        ]
    );
    let loaded = dynamic_ok(
        "http:\n  routers:\n    r:\n      rule: \"Host(`{{ env \\\"X\\\" }}`)\"\n",
        "d.yml",
    );
    assert_eq!(
        strings(&loaded.warnings),
        ["d.yml:4:20: `{{` found: Go templates in dynamic files are not rendered by tollgate"]
    );
}
