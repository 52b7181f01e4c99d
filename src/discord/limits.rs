//! Discord's message limits, including those its OpenAPI spec leaves out,
//! and a checker for any message payload.

/// Embed title.
pub const TITLE: usize = 256;
/// Embed description.
pub const DESCRIPTION: usize = 4096;
/// Embed field name.
pub const FIELD_NAME: usize = 256;
/// Embed field value.
pub const FIELD_VALUE: usize = 1024;
/// Fields per embed.
pub const FIELDS: usize = 25;
/// Footer text.
pub const FOOTER: usize = 2048;
/// All text in all embeds of a message.
pub const EMBED_TOTAL: usize = 6000;
/// Action rows per message, and buttons per row.
pub const ROWS: usize = 5;
pub const BUTTONS_PER_ROW: usize = 5;
/// Button label.
pub const BUTTON_LABEL: usize = 80;
/// A component's custom_id.
pub const CUSTOM_ID: usize = 100;
/// Message content.
pub const CONTENT: usize = 2000;

/// Cut `s` to at most `max` characters, ending with "…" when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Every limit a message payload breaks, as readable lines (empty when fine).
pub fn violations(msg: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    let len = |v: &serde_json::Value| v.as_str().map_or(0, |s| s.chars().count());
    if len(&msg["content"]) > CONTENT {
        out.push(format!("content over {CONTENT}"));
    }
    let mut total = 0;
    for (i, e) in msg["embeds"].as_array().into_iter().flatten().enumerate() {
        let checks = [
            ("title", len(&e["title"]), TITLE),
            ("description", len(&e["description"]), DESCRIPTION),
            ("footer", len(&e["footer"]["text"]), FOOTER),
            ("author", len(&e["author"]["name"]), FIELD_NAME),
        ];
        for (what, n, max) in checks {
            if n > max {
                out.push(format!("embed {i} {what} is {n} > {max}"));
            }
            total += n;
        }
        let fields = e["fields"].as_array().map_or(&[][..], Vec::as_slice);
        if fields.len() > FIELDS {
            out.push(format!("embed {i} has {} fields > {FIELDS}", fields.len()));
        }
        for (j, f) in fields.iter().enumerate() {
            let (n, v) = (len(&f["name"]), len(&f["value"]));
            if n > FIELD_NAME {
                out.push(format!("embed {i} field {j} name is {n} > {FIELD_NAME}"));
            }
            if v > FIELD_VALUE {
                out.push(format!("embed {i} field {j} value is {v} > {FIELD_VALUE}"));
            }
            total += n + v;
        }
    }
    if total > EMBED_TOTAL {
        out.push(format!("embeds total {total} > {EMBED_TOTAL}"));
    }
    let rows = msg["components"].as_array().map_or(&[][..], Vec::as_slice);
    if rows.len() > ROWS {
        out.push(format!("{} rows > {ROWS}", rows.len()));
    }
    for (r, row) in rows.iter().enumerate() {
        let items = row["components"].as_array().map_or(&[][..], Vec::as_slice);
        if items.len() > BUTTONS_PER_ROW {
            out.push(format!(
                "row {r} has {} components > {BUTTONS_PER_ROW}",
                items.len()
            ));
        }
        for b in items {
            if len(&b["custom_id"]) > CUSTOM_ID {
                out.push(format!("custom_id over {CUSTOM_ID}: {}", b["custom_id"]));
            }
            if len(&b["label"]) > BUTTON_LABEL {
                out.push(format!("label over {BUTTON_LABEL}: {}", b["label"]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_and_marks_the_cut() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("ééééé", 4).chars().count(), 4);
    }

    #[test]
    fn violations_find_oversized_parts() {
        let msg = serde_json::json!({
            "embeds": [{"title": "t".repeat(300), "fields": [{"name": "n", "value": "v".repeat(1100)}]}],
            "components": [{"type": 1, "components": [{"type": 2, "custom_id": "x".repeat(101), "label": "l", "style": 1}]}]
        });
        let v = violations(&msg);
        assert_eq!(v.len(), 3, "{v:?}");
    }
}
