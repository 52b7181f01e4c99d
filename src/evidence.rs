//! Evidence packs: the snapshot Signpost keeps before any hide, delete,
//! block or police escalation, and the pack a trust hands to the police.
//!
//! This module owns the pack's content, its canonical JSON form and its
//! SHA-256, and the export/verification used by `signpost evidence`. Storage
//! is [`crate::store::Store::insert_evidence`] (table `evidence`,
//! append-only).
//!
//! # Content
//!
//! A pack (format `signpost.evidence/1`) holds: the post (store id,
//! platform, kind, platform id, org, account, URL, text and the raw platform
//! payload exactly as received, as a JSON string), the author (platform id
//! and handle), the post's classification, the acting team member (id and
//! name), the action and reason, and three times (`created_at`,
//! `received_at`, `captured_at`), each in UTC and UK local time
//! (Europe/London, with its offset and GMT/BST).
//!
//! # Canonical form and hash
//!
//! `sha256 = lowercase_hex(SHA-256(canonical))`, where `canonical` is the
//! pack as UTF-8 JSON text with:
//! - object members sorted by key, comparing keys by their UTF-8 bytes, at
//!   every depth; array order kept;
//! - no whitespace outside strings (`{"a":1,"b":[true,null]}`);
//! - strings with only `"` `\` and control characters escaped (`\"`, `\\`,
//!   `\b`, `\f`, `\n`, `\r`, `\t`, else `\u00xx` in lowercase hex); every
//!   other character, including `/` and non-ASCII, written as itself;
//! - numbers as integers in decimal (packs contain no fractions);
//! - `true`, `false`, `null` as such.
//!
//! The stored `pack` column is exactly this text, so anyone can recompute
//! the hash with `sha256sum` over the `canonical` string of an export.

use crate::store::{Actor, Classification, EvidenceRecord, StoredPost};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Europe::London;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The pack format identifier.
pub const FORMAT: &str = "signpost.evidence/1";

/// A time in UTC and UK local time.
pub fn moment(t: DateTime<Utc>) -> Value {
    let uk = t.with_timezone(&London);
    json!({
        "utc": t.to_rfc3339_opts(SecondsFormat::Millis, true),
        "uk_local": uk.to_rfc3339_opts(SecondsFormat::Millis, false),
        "uk_zone": uk.format("%Z").to_string(),
    })
}

/// Builds a pack (as a JSON value) for `post`.
pub fn build_pack(
    post: &StoredPost,
    classification: Option<&Classification>,
    actor: &Actor,
    action: &str,
    reason: Option<&str>,
    captured_at: DateTime<Utc>,
) -> Value {
    let p = &post.post;
    json!({
        "format": FORMAT,
        "post": {
            "id": post.id,
            "platform": p.platform.as_str(),
            "kind": p.kind.as_str(),
            "external_id": p.external_id,
            "org": p.org,
            "account": p.account,
            "url": p.url,
            "text": p.text,
            "raw": post.raw,
        },
        "author": { "id": p.author_id, "handle": p.author_handle },
        "classification": classification.map(|c| json!({
            "categories": c.categories,
            "rules": c.rules,
            "severity": c.severity.as_str(),
        })),
        "actor": { "id": actor.id, "name": actor.name },
        "action": action,
        "reason": reason,
        "times": {
            "created_at": moment(p.created_at),
            "received_at": moment(post.received_at),
            "captured_at": moment(captured_at),
        },
    })
}

/// The canonical JSON text of `v` (see the module docs).
pub fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Lowercase hex SHA-256 of a text's UTF-8 bytes.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A pack's canonical text and its hash.
pub fn seal(pack: &Value) -> (String, String) {
    let text = canonical(pack);
    let hash = sha256_hex(&text);
    (text, hash)
}

/// Whether a stored snapshot is intact: its text is in canonical form and
/// hashes to the stored hash. Returns the recomputed hash too.
pub fn verify(record: &EvidenceRecord) -> (bool, String) {
    let recomputed = sha256_hex(&record.pack);
    let canonical_ok = serde_json::from_str::<Value>(&record.pack)
        .map(|v| canonical(&v) == record.pack)
        .unwrap_or(false);
    (canonical_ok && recomputed == record.sha256, recomputed)
}

/// The export of a post's snapshots, as `signpost evidence` writes it.
pub fn export(
    post_id: i64,
    records: &[EvidenceRecord],
    exported_by: &Actor,
    exported_at: DateTime<Utc>,
) -> (Value, bool) {
    let mut all_ok = true;
    let snapshots: Vec<Value> = records
        .iter()
        .map(|r| {
            let (ok, recomputed) = verify(r);
            all_ok &= ok;
            json!({
                "evidence_id": r.id,
                "action": r.action,
                "actor": { "id": r.actor.id, "name": r.actor.name },
                "reason": r.reason,
                "captured_at": moment(r.captured_at),
                "sha256": r.sha256,
                "recomputed_sha256": recomputed,
                "verification": if ok { "hash verified" } else { "HASH MISMATCH" },
                "pack": serde_json::from_str::<Value>(&r.pack).unwrap_or(Value::Null),
                "canonical": r.pack,
            })
        })
        .collect();
    let out = json!({
        "format": "signpost.evidence-export/1",
        "post_id": post_id,
        "exported_at": moment(exported_at),
        "exported_by": { "id": exported_by.id, "name": exported_by.name },
        "hash": "sha256 = lowercase hex SHA-256 of the UTF-8 bytes of `canonical`: the pack \
                 as JSON with object keys sorted by UTF-8 bytes at every depth, no whitespace, \
                 only \" \\ and control characters escaped",
        "snapshots": snapshots,
        "verification": if all_ok { "hash verified" } else { "HASH MISMATCH: this pack has been altered" },
    });
    (out, all_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_sorts_keys_and_drops_whitespace() {
        let v: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": null, "a": "x/y"}], "a": "é\n\"\u0001" }"#)
                .unwrap();
        assert_eq!(
            canonical(&v),
            "{\"a\":\"é\\n\\\"\\u0001\",\"b\":[1,{\"a\":\"x/y\",\"z\":null}]}"
        );
    }

    #[test]
    fn moments_carry_uk_offset() {
        let summer = DateTime::parse_from_rfc3339("2026-07-01T13:02:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let m = moment(summer);
        assert_eq!(m["uk_local"], "2026-07-01T14:02:00.000+01:00");
        assert_eq!(m["uk_zone"], "BST");
        let winter = DateTime::parse_from_rfc3339("2026-12-24T14:02:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(moment(winter)["uk_local"], "2026-12-24T14:02:00.000+00:00");
    }
}
