//! `tollgate check`: load the static and dynamic configuration, compile every router, print a
//! table of what would run and every error with its place. Exit status 1 when anything is wrong,
//! so it can stand in `ExecStartPre=` and CI.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::config::{StaticConfig, StaticMeta, load_file_provider};
use crate::provider::Aggregate;
use crate::proxy::{self, CompileInput, Element};
use crate::rule::Syntax;

/// Check and report to standard output / standard error. Returns the exit status.
pub fn run(config: &StaticConfig, meta: &StaticMeta) -> u8 {
    let mut failed = false;
    for warning in &meta.warnings {
        eprintln!("warning: {warning}");
    }
    let mut aggregate = Aggregate::default();
    if let Some(file) = &config.providers.file {
        match load_file_provider(file) {
            Ok(loaded) => {
                for warning in &loaded.warnings {
                    eprintln!("warning: {warning}");
                }
                aggregate.set("file", loaded);
            }
            Err(errors) => {
                for error in errors.iter() {
                    eprintln!("error: {error}");
                }
                failed = true;
            }
        }
    }
    let merged = aggregate.merged();
    let specs = proxy::entrypoint_specs(config);
    let compiled = proxy::compile(
        &merged,
        &CompileInput {
            entrypoints: &specs,
            default_syntax: if config.core.default_rule_syntax == "v2" {
                Syntax::V2
            } else {
                Syntax::V3
            },
            locate: &aggregate,
            previous: None,
            transports: &HashMap::new(),
        },
    );
    for error in &compiled.errors {
        eprintln!("error: {error}");
    }
    failed |= !compiled.errors.is_empty();
    print!("{}", router_table(&compiled.table, &specs));
    let bad_routers = compiled.errors.iter().filter(|e| e.element == Element::Router).count();
    println!(
        "{} router(s) ok, {} left out; {} service(s); {} error(s)",
        compiled.table.routers.len(),
        bad_routers,
        compiled.table.services.len(),
        compiled.errors.len()
    );
    u8::from(failed)
}

/// One line per router: entry points, priority, rule, service, middlewares.
fn router_table(table: &proxy::RouteTable, specs: &[proxy::EntryPointSpec]) -> String {
    // Routers are compiled per entry point; gather each one's entry points.
    let mut rows: Vec<(String, Vec<String>, i64, String, String, String)> = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        for router in table.routers_of(index) {
            if let Some(row) = rows.iter_mut().find(|r| r.0 == *router.name) {
                row.1.push(spec.name.clone());
                continue;
            }
            let service =
                router.service.map_or("-".to_owned(), |s| table.service(s).name().to_string());
            rows.push((
                router.name.to_string(),
                vec![spec.name.clone()],
                router.priority,
                router.rule.to_string(),
                service,
                router.middleware_names.join(","),
            ));
        }
    }
    rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    let header = ("ROUTER", "ENTRYPOINTS", "PRIORITY", "RULE", "SERVICE", "MIDDLEWARES");
    let cells: Vec<[String; 6]> = rows
        .into_iter()
        .map(|r| {
            [
                r.0,
                r.1.join(","),
                r.2.to_string(),
                r.3,
                r.4,
                if r.5.is_empty() { "-".into() } else { r.5 },
            ]
        })
        .collect();
    let mut widths = [
        header.0.len(),
        header.1.len(),
        header.2.len(),
        header.3.len(),
        header.4.len(),
        header.5.len(),
    ];
    for row in &cells {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cols: [&str; 6]| {
        for (i, (col, w)) in cols.iter().zip(widths).enumerate() {
            if i == 5 {
                let _ = writeln!(out, "{col}");
            } else {
                let _ = write!(out, "{col:<w$}  ");
            }
        }
    };
    line(&mut out, [header.0, header.1, header.2, header.3, header.4, header.5]);
    for row in &cells {
        line(&mut out, [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
    }
    out
}
