//! Secrets kept at rest: authenticated encryption under a key derived from the master key.
//!
//! Stored credentials (a service desk's password, client secret or API token) are sealed with
//! XChaCha20-Poly1305 under a 256-bit key that is HMAC-SHA-256(master key, purpose label); the
//! master key lives outside the database, so a copy of the database alone reveals nothing. Each
//! value gets a fresh random 192-bit nonce (supplied by the caller, who owns the randomness), and
//! is bound by its associated data to where it is stored (tenant, object, attribute), so a
//! ciphertext moved to another row or attribute fails to open. The stored form is
//! `v1:` + base64(nonce ‖ ciphertext ‖ tag).
//!
//! A clear value is a [`Secret`], whose `Debug` is redacted and which has no `Display`, so it
//! cannot reach a log line or an error message by accident; its memory is zeroed when dropped.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// The prefix of the stored form (format and key-derivation version).
const PREFIX: &str = "v1:";
/// Nonce length of XChaCha20-Poly1305.
pub const NONCE_LEN: usize = 24;

/// A clear secret value. `Debug` shows `Secret(***)`; there is no `Display`; dropped memory is
/// zeroed. Read it with [`Secret::expose`] only where it is sent to its owner's endpoint.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a clear value.
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The clear value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Not in the `v1:` + base64 form, or too short to hold a nonce and a tag.
    #[error("the sealed value is malformed")]
    Malformed,
    /// The tag did not verify: wrong key, wrong associated data, or tampered bytes.
    #[error("the sealed value does not open with this key and context")]
    Forged,
}

/// A key for one purpose, derived from the master key.
pub struct SealKey(XChaCha20Poly1305);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(***)")
    }
}

impl SealKey {
    /// The key HMAC-SHA-256(`master_key`, `purpose`). Different purposes give unrelated keys.
    pub fn derive(master_key: &[u8], purpose: &str) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master_key)
            .expect("HMAC accepts keys of any length");
        mac.update(b"gatehouse-seal\0");
        mac.update(purpose.as_bytes());
        let mut key: [u8; 32] = mac.finalize().into_bytes().into();
        let cipher = XChaCha20Poly1305::new(&key.into());
        zeroize::Zeroize::zeroize(&mut key);
        Self(cipher)
    }

    /// Seals `secret` for the place described by `context`, with `nonce` (24 random bytes, never
    /// reused with this key).
    pub fn seal(&self, secret: &Secret, context: &[u8], nonce: [u8; NONCE_LEN]) -> String {
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.expose().as_bytes(),
                    aad: context,
                },
            )
            .expect("XChaCha20-Poly1305 encrypts messages of any size we store");
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// Opens a value sealed by [`SealKey::seal`] for the same `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Secret, SealError> {
        let body = sealed.strip_prefix(PREFIX).ok_or(SealError::Malformed)?;
        let bytes = B64.decode(body).map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let clear = Zeroizing::new(
            self.0
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: context,
                    },
                )
                .map_err(|_| SealError::Forged)?,
        );
        let text = std::str::from_utf8(&clear).map_err(|_| SealError::Malformed)?;
        Ok(Secret::new(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonce(n: u8) -> [u8; NONCE_LEN] {
        [n; NONCE_LEN]
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = SealKey::derive(b"master", "purpose");
        let s = Secret::new("hunter2".into());
        let sealed = key.seal(&s, b"ctx", nonce(1));
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("hunter2"));
        assert_eq!(key.open(&sealed, b"ctx").unwrap().expose(), "hunter2");
        assert_eq!(key.open(&sealed, b"other"), Err(SealError::Forged));
        let other_purpose = SealKey::derive(b"master", "elsewhere");
        assert_eq!(other_purpose.open(&sealed, b"ctx"), Err(SealError::Forged));
        let other_master = SealKey::derive(b"master2", "purpose");
        assert_eq!(other_master.open(&sealed, b"ctx"), Err(SealError::Forged));
        assert_ne!(
            sealed,
            key.seal(&s, b"ctx", nonce(2)),
            "a fresh nonce each time"
        );
    }

    #[test]
    fn every_flipped_byte_fails_to_open() {
        let key = SealKey::derive(b"master", "purpose");
        let sealed = key.seal(&Secret::new("p@ss".into()), b"ctx", nonce(7));
        let raw = B64.decode(&sealed[3..]).unwrap();
        for i in 0..raw.len() {
            for bit in [0x01_u8, 0x80] {
                let mut t = raw.clone();
                t[i] ^= bit;
                let forged = format!("v1:{}", B64.encode(&t));
                assert_eq!(
                    key.open(&forged, b"ctx"),
                    Err(SealError::Forged),
                    "byte {i}"
                );
            }
        }
        for bad in ["", "v1:", "v1:!!!", "v2:AAAA", "v1:AAAA", "hunter2"] {
            assert_eq!(key.open(bad, b"ctx"), Err(SealError::Malformed), "{bad}");
        }
    }

    #[test]
    fn a_thousand_random_byte_flips_all_fail_to_open() {
        let key = SealKey::derive(b"master", "purpose");
        let sealed = key.seal(
            &Secret::new("a service-desk password of some length".into()),
            b"tenant/sdim/password",
            nonce(9),
        );
        let raw = B64.decode(&sealed[3..]).unwrap();
        // A fixed xorshift stream: a position and a non-zero byte to XOR in, 1,000 times.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for n in 0..1_000 {
            let r = next();
            let at = usize::try_from(r % raw.len() as u64).unwrap();
            let flip = u8::try_from((r >> 32) % 255).unwrap() + 1;
            let mut t = raw.clone();
            t[at] ^= flip;
            let forged = format!("v1:{}", B64.encode(&t));
            assert_eq!(
                key.open(&forged, b"tenant/sdim/password"),
                Err(SealError::Forged),
                "flip {n}: byte {at} ^ {flip:#04x}"
            );
        }
    }

    #[test]
    fn secrets_do_not_show_in_debug() {
        let s = Secret::new("CANARY".into());
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", SealKey::derive(b"k", "p")), "SealKey(***)");
    }
}
