//! Short, safe renderings of payload bytes for terminal output.

/// A one-line description of a payload: text if it is printable UTF-8, the pickle
/// protocol if it starts like a pickle, else hex; at most `max` input bytes shown.
pub fn describe(payload: &[u8], max: usize) -> String {
    if let [0x80, proto @ 0..=5, ..] = payload {
        return format!("pickle (protocol {proto})  {}", hex_prefix(payload, max));
    }
    if let Ok(text) = std::str::from_utf8(payload) {
        if is_text(text) {
            let shown: String = text.chars().take(max).collect();
            let ellipsis = if shown.len() < text.len() { "…" } else { "" };
            return format!("{shown:?}{ellipsis}");
        }
    }
    hex_prefix(payload, max)
}

/// What is printed instead of a payload that looks like an auth secret.
pub const SECRET_WITHHELD: &str = "auth secret? (hex digits only; not shown)";

/// Whether a frame is, by its place and shape, the secret of Spark's socket
/// handshake: the first frame of a connection (either direction, as the
/// client is the worker in simple mode and the JVM in daemon mode), made of 16
/// or more ASCII hex digits and nothing else (Spark generates secrets as hex;
/// `spark.authenticate.secretBitLength` bits, 256 by default). Such a frame is
/// never printed, in any format: a capture file may be shared, the secret
/// must not travel with it.
pub fn looks_like_secret(index: u64, payload: &[u8]) -> bool {
    index == 0 && payload.len() >= 16 && payload.iter().all(u8::is_ascii_hexdigit)
}

/// The whole payload as a quoted, escaped string if it is UTF-8 text (what
/// [`describe`] shows a prefix of), else `None`.
pub fn full_text(payload: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(payload).ok()?;
    is_text(text).then(|| format!("{text:?}"))
}

fn is_text(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || c == '\n' || c == '\t' || c == '\r')
}

/// The first `max` bytes as spaced hex, with an ellipsis when cut.
pub fn hex_prefix(payload: &[u8], max: usize) -> String {
    let mut s: Vec<String> = payload
        .iter()
        .take(max)
        .map(|b| format!("{b:02x}"))
        .collect();
    if payload.len() > max {
        s.push("…".to_owned());
    }
    s.join(" ")
}

/// Lowercase hex without separators.
pub fn hex(payload: &[u8]) -> String {
    payload.iter().map(|b| format!("{b:02x}")).collect()
}

/// A classic 16-bytes-per-line hex dump, indented.
pub fn hex_dump(payload: &[u8], indent: &str) -> String {
    let mut out = String::new();
    for (i, line) in payload.chunks(16).enumerate() {
        let ascii: String = line
            .iter()
            .map(|b| {
                if b.is_ascii_graphic() || *b == b' ' {
                    char::from(*b)
                } else {
                    '.'
                }
            })
            .collect();
        out.push_str(&format!(
            "{indent}{:08x}  {:<47}  |{ascii}|\n",
            i * 16,
            hex_prefix(line, 16)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_kinds() {
        assert_eq!(
            describe(b"\x80\x05K\x01.", 3),
            "pickle (protocol 5)  80 05 4b …"
        );
        assert_eq!(describe("héllo".as_bytes(), 3), "\"hél\"…");
        assert_eq!(describe(b"\x00\x01", 8), "00 01");
        assert_eq!(describe(b"", 8), "");
    }

    #[test]
    fn secrets_are_recognised_only_first_and_all_hex() {
        let secret = b"d00d27ae140c18b0c6ed1beb0123456789abcdef0123456789abcdef01234567";
        assert!(looks_like_secret(0, secret));
        assert!(!looks_like_secret(1, secret));
        assert!(!looks_like_secret(0, b"ok"));
        assert!(!looks_like_secret(0, b"0123456789abcdeg"));
    }
}
