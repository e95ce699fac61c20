//! The auth exchange: the token compared in constant time, and the replies the
//! JVM sends when it is wrong or missing.

use subtle::ConstantTimeEq;

/// `!xs…` for a wrong token; the JVM then closes the connection.
pub const BAD_TOKEN: &[u8] = b"!xsAuthentication error: bad auth token received.\n";
/// `!xs…` for a first command that is not `A`; the JVM then closes.
pub const UNEXPECTED_COMMAND: &[u8] = b"!xsAuthentication error: unexpected command.\n";
/// `!yv`: authenticated.
pub const OK: &[u8] = b"!yv\n";

/// Whether `given` is the token, in time independent of where they differ.
pub fn token_matches(expected: &str, given: &str) -> bool {
    expected.len() == given.len() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_whole_tokens() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abc", "abd"));
        assert!(!token_matches("abc", "ab"));
        assert!(!token_matches("abc", "abcd"));
        assert!(!token_matches("", "x"));
    }
}
