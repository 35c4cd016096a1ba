//! Architecture invariant (docs/ARCHITECTURE.md): only `registry/src/service`
//! (and the `schema` crate) touch the database. The adapters (the JSON API,
//! the pages, the command line, authentication) and the pure allowlist
//! encoders name no table, no diesel item and no SQL. This test reads the
//! sources and fails, naming file and line, when one does.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::path::{Path, PathBuf};

/// What counts as touching the database.
fn offending(line: &str) -> Option<&'static str> {
    let code = line.split("//").next().unwrap_or("");
    if code.contains("schema::schema") {
        return Some("names the schema module");
    }
    if code.contains("diesel::") || code.contains("use diesel") {
        return Some("uses diesel");
    }
    if code.contains("sql_query") {
        return Some("runs SQL");
    }
    // `vendors::table`, `receipts::table.filter(...)`: a diesel table.
    let bytes = code.as_bytes();
    let mut from = 0;
    while let Some(i) = code[from..].find("::table") {
        let at = from + i;
        let end = at + "::table".len();
        let next_is_ident = bytes
            .get(end)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        let prev_is_ident = at > 0
            && bytes
                .get(at - 1)
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_');
        if prev_is_ident && !next_is_ident {
            return Some("names a diesel table");
        }
        from = end;
    }
    None
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

fn adapter_files() -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src.join("api"), &mut files);
    rust_files(&src.join("ui"), &mut files);
    for f in [
        "main.rs",
        "auth.rs",
        "error.rs",
        "state.rs",
        "lib.rs",
        "allowlist.rs",
    ] {
        files.push(src.join(f));
    }
    files
}

#[test]
fn only_the_service_layer_touches_tables() {
    let files = adapter_files();
    assert!(files.len() > 15, "the adapters were not found: {files:?}");
    let mut problems = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if let Some(why) = offending(line) {
                problems.push(format!("{}:{}: {why}: {}", f.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "only registry/src/service may touch the database; move these into a service function:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_rule_recognises_table_access_and_nothing_else() {
    for bad in [
        "let n = vendors::table.count().get_result(c)?;",
        "use schema::schema::{receipts, vendors};",
        "diesel::insert_into(x)",
        "use diesel::prelude::*;",
        "let rows = diesel::sql_query(\"SELECT 1\");",
        "        api_tokens::table",
    ] {
        assert!(offending(bad).is_some(), "not caught: {bad}");
    }
    for good in [
        "let t = vendors::list(c, &actor)?;",
        "// vendors::table is read by the service",
        "fn table_of_contents() {}",
        "let x = crate::service::receipts::PageRequest::new(None, None, None);",
        "use crate::allowlist::Stage;",
    ] {
        assert!(offending(good).is_none(), "false alarm: {good}");
    }
}
