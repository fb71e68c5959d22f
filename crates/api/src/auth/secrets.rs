//! Random secrets and their keyed hashes.
//!
//! Client and token secrets are 256-bit random values shown once; the store keeps only
//! HMAC-SHA-256 under the master key (which lives outside the database), compared in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// `n` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0_u8; N];
    // The OS CSPRNG failing is not recoverable: no secret may be made without it.
    getrandom::fill(&mut b).expect("the operating system's random number generator is available");
    b
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes lower- or upper-case hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A new 64-hex-character secret (256 bits).
pub fn new_secret() -> String {
    hex(&random_bytes::<32>())
}

/// A new 32-hex id (128 bits).
pub fn new_id() -> String {
    gatehouse_domain::new_hex_id(random_bytes::<16>())
}

/// The keyed hash stored for `secret`.
pub fn hash_secret(master_key: &[u8], secret: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(master_key).expect("HMAC accepts keys of any length");
    mac.update(b"gatehouse-secret-v1\0");
    mac.update(secret.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// True when `secret` hashes to `stored`; constant time in the hash comparison.
pub fn verify_secret(master_key: &[u8], secret: &str, stored: &str) -> bool {
    let computed = hash_secret(master_key, secret);
    computed.as_bytes().ct_eq(stored.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_verify_only_with_the_same_key_and_value() {
        let h = hash_secret(b"k1", "s");
        assert!(verify_secret(b"k1", "s", &h));
        assert!(!verify_secret(b"k2", "s", &h));
        assert!(!verify_secret(b"k1", "t", &h));
        assert_eq!(new_secret().len(), 64);
        assert_ne!(new_secret(), new_secret());
        assert_eq!(unhex(&hex(&[1, 255])), Some(vec![1, 255]));
    }

    /// SEC-3: sealing with the nonces credentials are sealed with (`random_bytes`, as
    /// `service_desk::build` does) repeats no nonce in 100,000 seals.
    #[test]
    fn a_hundred_thousand_seals_repeat_no_nonce() {
        use gatehouse_domain::sealed::{Keyring, Secret, NONCE_LEN};
        let key = Keyring::single(b"master").sealer("purpose");
        let secret = Secret::new("p@ss".into());
        let mut seen = std::collections::HashSet::with_capacity(100_000);
        for _ in 0..100_000 {
            let sealed = key.seal(&secret, b"ctx", random_bytes());
            let raw = base64::Engine::decode(
                &base64::engine::general_purpose::STANDARD,
                sealed.rsplit(':').next().unwrap(),
            )
            .unwrap();
            let nonce: [u8; NONCE_LEN] = raw[..NONCE_LEN].try_into().unwrap();
            assert!(seen.insert(nonce), "a nonce came twice");
        }
    }
}
