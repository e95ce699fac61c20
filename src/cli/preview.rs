//! Short, safe renderings of payload bytes for terminal output.

/// A one-line description of a payload: text if it is printable UTF-8, the pickle
/// protocol if it starts like a pickle, else hex; at most `max` input bytes shown.
pub fn describe(payload: &[u8], max: usize) -> String {
    if let [0x80, proto @ 0..=5, ..] = payload {
        return format!("pickle (protocol {proto})  {}", hex_prefix(payload, max));
    }
    if let Ok(text) = std::str::from_utf8(payload) {
        if !payload.is_empty()
            && text
                .chars()
                .all(|c| !c.is_control() || c == '\n' || c == '\t')
        {
            let shown: String = text.chars().take(max).collect();
            let ellipsis = if shown.len() < text.len() { "…" } else { "" };
            return format!("{shown:?}{ellipsis}");
        }
    }
    hex_prefix(payload, max)
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
}
