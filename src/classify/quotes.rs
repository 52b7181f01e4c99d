//! Quoted speech: finds the spans of a raw post inside quotation marks, so
//! the classifier can tell abuse a post reports ("he called her a 'stupid
//! cow'") from abuse it makes. Pure text work, no rules.

/// Which pair of marks a quotation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Double,
    Single,
}

/// The raw text with every quoted span (marks included) replaced by a
/// space, or `None` when it has no complete quotation.
///
/// Double quotes (`"…"`, `“…”`) pair up as they come. A single quote
/// (`'…'`, `‘…’`) opens only where a word starts (not after a letter or
/// digit, not before a space) and closes only where a word ends, so the
/// apostrophes of "don't" and "nurses' station" open nothing.
pub fn unquoted(raw: &str) -> Option<String> {
    let chars: Vec<(usize, char)> = raw.char_indices().collect();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<(Kind, usize)> = None;
    for (n, &(at, c)) in chars.iter().enumerate() {
        let before = n.checked_sub(1).map(|p| chars[p].1);
        let after = chars.get(n + 1).map(|&(_, c)| c);
        let word_start =
            !before.is_some_and(char::is_alphanumeric) && after.is_some_and(|a| !a.is_whitespace());
        let word_end =
            before.is_some_and(|b| !b.is_whitespace()) && !after.is_some_and(char::is_alphanumeric);
        let end = at + c.len_utf8();
        match (open, c) {
            (None, '"' | '\u{201C}' | '\u{201E}') => open = Some((Kind::Double, at)),
            (None, '\'' | '\u{2018}') if word_start => open = Some((Kind::Single, at)),
            (Some((Kind::Double, from)), '"' | '\u{201D}') => {
                spans.push((from, end));
                open = None;
            }
            (Some((Kind::Single, from)), '\'' | '\u{2019}') if word_end => {
                spans.push((from, end));
                open = None;
            }
            _ => {}
        }
    }
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(raw.len());
    let mut at = 0;
    for (from, to) in spans {
        out.push_str(&raw[at..from]);
        out.push(' ');
        at = to;
    }
    out.push_str(&raw[at..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::unquoted;

    #[test]
    fn quotations_are_removed_and_apostrophes_kept() {
        let cases = [
            (
                r#"a man called her a "stupid cow" and left"#,
                Some("a man called her a   and left"),
            ),
            (
                "people writing 'lazy c*nts' under the post",
                Some("people writing   under the post"),
            ),
            ("he said \u{201C}I'll find you\u{201D}.", Some("he said  .")),
            (
                "called a \u{2018}waste of space\u{2019}",
                Some("called a  "),
            ),
            ("don't leave the nurses' station", None),
            ("an unclosed \"quote", None),
            ("no quotes at all", None),
            (
                "it's the 'system' that's broken",
                Some("it's the   that's broken"),
            ),
        ];
        for (raw, want) in cases {
            assert_eq!(unquoted(raw).as_deref(), want, "{raw}");
        }
    }
}
