//! The audit-log CSV of `/export` and `signpost export` (RFC 4180: comma
//! separated, CRLF line ends, fields with commas, quotes or line breaks in
//! double quotes, quotes doubled).
//!
//! Free-text columns (post text, author, member name, reason) that start
//! with `=`, `+`, `-`, `@` or a tab are prefixed with `'`, so a spreadsheet
//! never runs a formula someone posted in a comment. Post text is masked
//! by the caller when the org's config says so.

use crate::store::ExportRow;
use chrono::SecondsFormat;

/// The header row's columns.
pub const COLUMNS: &[&str] = &[
    "id",
    "at_utc",
    "org",
    "post_id",
    "platform",
    "author",
    "post_text",
    "actor_id",
    "actor_name",
    "action",
    "reason",
    "outcome",
    "detail",
    "hash",
];

/// Appends one field, quoted when it must be.
pub fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) || field.starts_with(' ') || field.ends_with(' ') {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// A free-text value made safe to open in a spreadsheet.
pub fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn push_record(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, f);
    }
    out.push_str("\r\n");
}

/// The header line.
pub fn header() -> String {
    let mut out = String::new();
    push_record(&mut out, COLUMNS);
    out
}

/// Appends one audit row; `post_text` is the (possibly masked) text to show.
pub fn push_row(out: &mut String, r: &ExportRow, post_text: Option<&str>) {
    let a = &r.row;
    let id = a.id.to_string();
    let at = a.at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let post_id = a.post_id.map(|p| p.to_string()).unwrap_or_default();
    let author = defuse(r.author_handle.as_deref().unwrap_or(""));
    let text = defuse(post_text.unwrap_or(""));
    let actor_name = defuse(&a.actor_name);
    let reason = defuse(a.reason.as_deref().unwrap_or(""));
    push_record(
        out,
        &[
            &id,
            &at,
            &a.org,
            &post_id,
            r.platform.as_deref().unwrap_or(""),
            &author,
            &text,
            &a.actor_id,
            &actor_name,
            &a.action,
            &reason,
            &a.outcome,
            a.detail.as_deref().unwrap_or(""),
            &a.hash,
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> String {
        let mut out = String::new();
        push_field(&mut out, s);
        out
    }

    #[test]
    fn plain_fields_are_left_alone() {
        assert_eq!(field("hide"), "hide");
        assert_eq!(field(""), "");
    }

    #[test]
    fn commas_quotes_and_newlines_are_quoted() {
        assert_eq!(field("a, b"), "\"a, b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("line one\nline two"), "\"line one\nline two\"");
        assert_eq!(field("cr\r\nlf"), "\"cr\r\nlf\"");
        assert_eq!(field(" padded"), "\" padded\"");
    }

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("@everyone"), "'@everyone");
        assert_eq!(defuse("-1"), "'-1");
        assert_eq!(defuse("fine"), "fine");
    }

    #[test]
    fn the_header_names_every_column() {
        assert_eq!(
            header(),
            "id,at_utc,org,post_id,platform,author,post_text,actor_id,actor_name,action,reason,outcome,detail,hash\r\n"
        );
    }
}
