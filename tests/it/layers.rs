//! The layers of `src/` form a line: a module imports only from layers below its own. The table
//! of layers is the one in ARCHITECTURE.md; this test reads it and every file under `src/`, and
//! fails on an import that goes sideways or up, or on a top-level module the table does not name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layer number by top-level module, from ARCHITECTURE.md's table.
fn layers(architecture: &str) -> BTreeMap<String, usize> {
    let start = architecture
        .find("<!-- layers")
        .expect("ARCHITECTURE.md has a <!-- layers --> table");
    let end = architecture[start..]
        .find("<!-- /layers -->")
        .expect("the layers table ends with <!-- /layers -->")
        + start;
    let mut layers = BTreeMap::new();
    for row in architecture[start..end].lines() {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let Some(layer) = cells.get(1).and_then(|cell| cell.parse::<usize>().ok()) else {
            continue;
        };
        for module in cells[2].split(',') {
            let module = module.trim().trim_matches('`');
            assert!(!module.is_empty(), "an empty module name in row {row:?}");
            assert!(
                layers.insert(module.to_owned(), layer).is_none(),
                "{module} is in two rows"
            );
        }
    }
    assert!(layers.len() > 5, "the table names the modules: {layers:?}");
    layers
}

/// The text of a Rust file without its comments (doc links name paths that are not imports).
fn without_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(at) = rest.find("//") {
        // A `//` inside a string literal (a URL) is not a comment: count the quotes before it.
        let line_start = rest[..at].rfind('\n').map_or(0, |i| i + 1);
        let quotes = rest[line_start..at].matches('"').count();
        if quotes % 2 == 1 {
            out.push_str(&rest[..at + 2]);
            rest = &rest[at + 2..];
            continue;
        }
        out.push_str(&rest[..at]);
        rest = rest[at..].find('\n').map_or("", |end| &rest[at + end..]);
    }
    out.push_str(rest);
    out
}

/// The top-level modules a file names through `crate::`: `crate::engine::run`,
/// `use crate::{model::Op, summary}`.
fn crate_references(source: &str) -> Vec<String> {
    let code = without_comments(source);
    let mut found = Vec::new();
    let ident = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of a group: split at commas outside nested braces.
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        let name = ident(&group[i..]);
                        if !name.is_empty() {
                            found.push(name);
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                found.push(name);
            }
        }
    }
    found
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// Every import that breaks the table: (file, its module, the module it names).
fn violations(
    src: &Path,
    layers: &BTreeMap<String, usize>,
    files: &[(PathBuf, String)],
) -> Vec<String> {
    let mut found = Vec::new();
    for (path, source) in files {
        let relative = path.strip_prefix(src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(&own) = layers.get(&top) else {
            found.push(format!(
                "{}: module `{top}` is not in ARCHITECTURE.md's layers table",
                relative.display()
            ));
            continue;
        };
        for name in crate_references(source) {
            if name == top {
                continue;
            }
            match layers.get(&name) {
                Some(&theirs) if theirs < own => {}
                Some(&theirs) => found.push(format!(
                    "{}: `{top}` (layer {own}) imports `{name}` (layer {theirs})",
                    relative.display()
                )),
                // Items of the crate root (lib.rs re-exports); lib.rs itself is exempt.
                None => found.push(format!(
                    "{}: `{top}` names `crate::{name}`, which is no module in the table",
                    relative.display()
                )),
            }
        }
    }
    found
}

fn project() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_module_imports_only_from_layers_below_it() {
    let architecture = std::fs::read_to_string(project().join("ARCHITECTURE.md")).unwrap();
    let layers = layers(&architecture);
    let src = project().join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    paths.sort();
    let files: Vec<(PathBuf, String)> = paths
        .into_iter()
        .map(|path| {
            let source = std::fs::read_to_string(&path).unwrap();
            (path, source)
        })
        .collect();
    assert!(files.len() > 50, "read {} files", files.len());
    let found = violations(&src, &layers, &files);
    assert!(
        found.is_empty(),
        "imports against the layers of ARCHITECTURE.md:\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn an_upward_or_sideways_import_is_caught() {
    let layers: BTreeMap<String, usize> = [("model", 1), ("api", 3), ("sim", 3), ("cli", 14)]
        .into_iter()
        .map(|(name, layer)| (name.to_owned(), layer))
        .collect();
    let src = Path::new("/x/src");
    let file = |path: &str, source: &str| (src.join(path), source.to_owned());
    let files = [
        // Fine: down, and within itself; comments and doc links do not count.
        file(
            "api/client.rs",
            "use crate::model::Op;\nuse crate::api::sse;\n/// see [`crate::cli::run`]\n",
        ),
        // Up, inside a group, and sideways by a path in code.
        file(
            "model/op.rs",
            "use crate::{api::Client, model::Metric};\nfn f() { crate::cli::Exit::Passed; }\n",
        ),
        file(
            "sim/mod.rs",
            "let url = \"http://x\"; use crate::api::Call;\n",
        ),
        file("store.rs", "use crate::model::Op;\n"),
    ];
    let found = violations(src, &layers, &files);
    assert_eq!(
        found,
        [
            "model/op.rs: `model` (layer 1) imports `api` (layer 3)",
            "model/op.rs: `model` (layer 1) imports `cli` (layer 14)",
            "sim/mod.rs: `sim` (layer 3) imports `api` (layer 3)",
            "store.rs: module `store` is not in ARCHITECTURE.md's layers table",
        ]
    );
}
