//! Errors about a scenario file that point at the spot: `file:line:col`, the dotted key, what is
//! wrong and how to fix it. Every rejection of a scenario goes through here.

use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One problem in a scenario file (or in a flag that overrides it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it, or the flag (`--vus`) when a flag was at fault.
    pub origin: String,
    /// 1-based line and column; absent for flags.
    pub position: Option<(usize, usize)>,
    /// The dotted key the problem is under, e.g. `load.duration` or `mix[2].agent`.
    pub key: Option<String>,
    pub message: String,
    pub help: Option<String>,
    /// The offending line with a caret under the spot.
    pub snippet: Option<String>,
}

impl Diagnostic {
    /// A problem with a file as a whole, or with a key whose position is no longer known.
    pub fn in_file(
        origin: &str,
        key: Option<&str>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        Diagnostic {
            origin: origin.to_owned(),
            position: None,
            key: key.map(str::to_owned),
            message: message.into(),
            help: Some(help.into()),
            snippet: None,
        }
    }

    /// A problem with a command-line flag.
    pub fn flag(flag: &str, message: impl Into<String>, help: impl Into<String>) -> Self {
        Diagnostic {
            origin: flag.to_owned(),
            position: None,
            key: None,
            message: message.into(),
            help: Some(help.into()),
            snippet: None,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, col)) => write!(f, "{}:{line}:{col}: {}", self.origin, self.message)?,
            None => write!(f, "{}: {}", self.origin, self.message)?,
        }
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        if let Some(key) = &self.key {
            write!(f, "\n  key:  {key}")?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// A scenario's text with what is needed to turn byte spans into positions and key paths.
pub struct Source<'a> {
    origin: &'a str,
    text: &'a str,
    document: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Source<'a> {
    pub fn new(origin: &'a str, text: &'a str) -> Self {
        Source {
            origin,
            text,
            document: DeTable::parse(text).ok(),
        }
    }

    /// A diagnostic at a byte span of the text.
    pub fn at(
        &self,
        span: Range<usize>,
        message: impl Into<String>,
        help: Option<String>,
    ) -> Diagnostic {
        let (line, col) = line_col(self.text, span.start);
        let key = self.key_at(&span);
        // Lines under [target] may hold credentials (a URL with a password, a misplaced token):
        // never echo them.
        let secret_prone = key
            .as_deref()
            .is_some_and(|k| k == "target" || k.starts_with("target."));
        Diagnostic {
            origin: self.origin.to_owned(),
            position: Some((line, col)),
            snippet: if secret_prone {
                None
            } else {
                snippet(self.text, line, col)
            },
            key,
            message: message.into(),
            help,
        }
    }

    /// A diagnostic for a value whose position serde kept.
    pub fn at_value<T>(
        &self,
        value: &Spanned<T>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Diagnostic {
        self.at(value.span(), message, Some(help.into()))
    }

    /// Turns a deserialization error into a diagnostic with a fix suggested for the common cases.
    pub fn from_toml(&self, error: &toml::de::Error) -> Diagnostic {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim().to_owned();
        let help = suggest_fix(&message).or_else(|| {
            self.document.is_none().then(|| {
                "this is not valid TOML here: strings need double quotes, tables start with [name], \
                 one `key = value` per line"
                    .to_owned()
            })
        });
        let mut diagnostic = self.at(span, message, help);
        if diagnostic.key.is_none() && error.span().is_none() {
            diagnostic.position = Some((1, 1));
        }
        diagnostic
    }

    /// The dotted path of the innermost key whose key or value covers `span`.
    fn key_at(&self, span: &Range<usize>) -> Option<String> {
        let document = self.document.as_ref()?;
        let path = find_in_table(document.get_ref(), span.start)?;
        Some(path.join("."))
    }
}

/// Searches every key and value, depth first. Tables' own spans cover only their header, so
/// nested tables are searched whatever their span.
fn find_in_table(table: &DeTable<'_>, offset: usize) -> Option<Vec<String>> {
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        if key.span().contains(&offset) {
            return Some(vec![name]);
        }
        if let Some(mut inner) = find_in_value(value.get_ref(), offset) {
            match inner.first_mut() {
                Some(first) if first.starts_with('[') => first.insert_str(0, &name),
                _ => inner.insert(0, name),
            }
            return Some(inner);
        }
        if value.span().contains(&offset) {
            return Some(vec![name]);
        }
    }
    None
}

fn find_in_value(value: &DeValue<'_>, offset: usize) -> Option<Vec<String>> {
    match value {
        DeValue::Table(table) => find_in_table(table, offset),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
            let mut path = find_in_value(item.get_ref(), offset)
                .or_else(|| item.span().contains(&offset).then(Vec::new))?;
            path.insert(0, format!("[{index}]"));
            // `[0]` then `op` becomes `[0].op`, joined by the caller as `mix[0].op`.
            if path.len() > 1 {
                let rest = path.split_off(1);
                path[0] = format!("{}.{}", path[0], rest.join("."));
            }
            Some(path)
        }),
        _ => None,
    }
}

/// The 1-based `line` of `text` with a caret under `col`, e.g.
/// ```text
///    3 | vus = = 1
///      |       ^
/// ```
fn snippet(text: &str, line: usize, col: usize) -> Option<String> {
    let content = text.lines().nth(line.checked_sub(1)?)?;
    if content.trim().is_empty() || content.chars().count() > 200 {
        return None;
    }
    let gutter = line.to_string().len();
    Some(format!(
        "  {line:>gutter$} | {content}\n  {:gutter$} | {:>col$}",
        "", "^"
    ))
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A fix for the messages serde and toml produce most often.
fn suggest_fix(message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (field, expected) = rest.split_once('`')?;
        let options = backticked(expected);
        if options.is_empty() {
            return Some(format!("remove `{field}`; this table takes no keys"));
        }
        return Some(match closest(field, &options) {
            Some(best) => format!(
                "did you mean `{best}`? Valid keys here: {}",
                options.join(", ")
            ),
            None => format!("remove `{field}` or use one of: {}", options.join(", ")),
        });
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (value, expected) = rest.split_once('`')?;
        let options = backticked(expected);
        return Some(match closest(value, &options) {
            Some(best) => format!(
                "did you mean \"{best}\"? Choose one of: {}",
                options.join(", ")
            ),
            None => format!("choose one of: {}", options.join(", ")),
        });
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next()?;
        return Some(format!(
            "add `{field} = ...` to this table; scenarios/README.md lists every key with an example"
        ));
    }
    if message.starts_with("invalid type") {
        let expected = message.split(", expected ").nth(1)?;
        let expected = match expected {
            "i64" | "u64" | "u32" | "i32" | "u16" => "a whole number, without quotes",
            "a string" | "a borrowed string" => "a string, in double quotes",
            other => other,
        };
        return Some(format!("use {expected}"));
    }
    None
}

fn backticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The option nearest to `word` by edit distance, if it is near enough to be a typo.
pub fn closest<'o>(word: &str, options: &'o [String]) -> Option<&'o str> {
    options
        .iter()
        .map(|option| (edit_distance(word, option), option))
        .filter(|(distance, option)| *distance <= 2.max(option.len() / 3))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, option)| option.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 9), (2, 3));
        assert_eq!(line_col(text, 1000), (3, 1));
    }

    #[test]
    fn key_paths_reach_into_arrays_of_tables() {
        let text = "[load]\nvus = 2\n\n[[mix]]\nop = \"get\"\n\n[[mix]]\nop = \"lst\"\n";
        let source = Source::new("s.toml", text);
        let offset = text.rfind("\"lst\"").unwrap();
        let diagnostic = source.at(offset..offset + 5, "bad", None);
        assert_eq!(diagnostic.key.as_deref(), Some("mix[1].op"));
        assert_eq!(diagnostic.position, Some((8, 6)));
        assert_eq!(
            diagnostic.snippet.as_deref(),
            Some("  8 | op = \"lst\"\n    |      ^")
        );
    }

    #[test]
    fn typos_get_a_suggestion() {
        let help =
            suggest_fix("unknown field `duraton`, expected one of `vus`, `duration`").unwrap();
        assert!(help.starts_with("did you mean `duration`?"), "{help}");
        let help = suggest_fix("unknown variant `runstream`, expected one of `run`, `run_stream`")
            .unwrap();
        assert!(help.starts_with("did you mean \"run_stream\"?"), "{help}");
        let help = suggest_fix("missing field `load`").unwrap();
        assert!(help.contains("add `load = ...`"), "{help}");
        let help = suggest_fix("invalid type: string \"8\", expected i64").unwrap();
        assert_eq!(help, "use a whole number, without quotes");
        assert_eq!(closest("zzzzzz", &["duration".to_owned()]), None);
    }

    #[test]
    fn display_names_file_line_key_and_help() {
        let diagnostic = Diagnostic {
            origin: "s.toml".into(),
            position: Some((3, 5)),
            key: Some("load.vus".into()),
            message: "must be at least 1".into(),
            help: Some("set vus = 1 or more".into()),
            snippet: None,
        };
        assert_eq!(
            diagnostic.to_string(),
            "s.toml:3:5: must be at least 1\n  key:  load.vus\n  help: set vus = 1 or more"
        );
    }
}
