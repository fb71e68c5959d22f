//! Identifier formats.

/// Formats 16 random bytes as the 32 lower-case hex characters SailPoint uses for object ids.
pub fn new_hex_id(random: [u8; 16]) -> String {
    let mut s = String::with_capacity(32);
    for b in random {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// True for a 32-character lower-case hex id.
pub fn is_hex_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_are_32_lower_hex() {
        let id = new_hex_id([0xab; 16]);
        assert_eq!(id, "abababababababababababababababab");
        assert!(is_hex_id(&id));
        assert!(!is_hex_id("ABABABABABABABABABABABABABABABAB"));
    }
}
