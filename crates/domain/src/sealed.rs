//! Secrets kept at rest: authenticated encryption under a key derived from the master key.
//!
//! Stored credentials (a service desk's password, client secret or API token) are sealed with
//! XChaCha20-Poly1305 under a 256-bit key that is HMAC-SHA-256(master key, purpose label); the
//! master key lives outside the database, so a copy of the database alone reveals nothing. Each
//! value gets a fresh random 192-bit nonce (supplied by the caller, who owns the randomness), and
//! is bound by its associated data to where it is stored (tenant, object, attribute), so a
//! ciphertext moved to another row or attribute fails to open. The stored form is
//! `v2:` + the master key's id + `:` + base64(nonce ‖ ciphertext ‖ tag); values sealed before
//! master keys had ids are `v1:` + base64(…) and still open.
//!
//! Master keys rotate: a [`Keyring`] holds the primary key, which seals every new value, and
//! retired keys, which still open what they sealed; `gatehouse rekey` seals every stored value
//! again under the primary, after which the retired keys can be dropped (docs/adr/0010).
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

/// The prefix of the stored form before master keys had ids.
const V1: &str = "v1:";
/// The prefix of the stored form naming its master key.
const V2: &str = "v2:";
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
    /// Not in the `v2:` (or `v1:`) form, or too short to hold a nonce and a tag.
    #[error("the sealed value is malformed")]
    Malformed,
    /// Sealed under a master key this server was not given (its id).
    #[error("the sealed value is under master key {0}, which this server was not given")]
    UnknownKey(String),
    /// The tag did not verify: wrong key, wrong associated data, or tampered bytes.
    #[error("the sealed value does not open with this key and context")]
    Forged,
}

/// A key for one purpose, derived from one master key.
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

    /// nonce ‖ ciphertext ‖ tag of `secret` for the place described by `context`.
    fn encrypt(&self, secret: &Secret, context: &[u8], nonce: [u8; NONCE_LEN]) -> Vec<u8> {
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
        out
    }

    /// Opens nonce ‖ ciphertext ‖ tag made by [`SealKey::encrypt`] for the same `context`.
    fn decrypt(&self, bytes: &[u8], context: &[u8]) -> Result<Secret, SealError> {
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

/// One master key and its id: the first 16 hex characters of HMAC-SHA-256(key, "gatehouse-key-id"),
/// which names the key in every value sealed under it without revealing anything of the key.
pub struct MasterKey {
    id: String,
    bytes: Zeroizing<Vec<u8>>,
}

impl MasterKey {
    /// Wraps the key's bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&bytes).expect("HMAC accepts keys of any length");
        mac.update(b"gatehouse-key-id");
        let id = mac.finalize().into_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            id,
            bytes: Zeroizing::new(bytes),
        }
    }

    /// The key's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The key itself.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

/// The master keys a server holds: the primary, which seals every new value, and the retired
/// ones, which still open what they sealed until `gatehouse rekey` has sealed it again under the
/// primary. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Keyring(std::sync::Arc<[MasterKey]>);

impl Keyring {
    /// `primary` and the `retired` keys (a retired key equal to the primary is dropped).
    pub fn new(primary: MasterKey, retired: Vec<MasterKey>) -> Self {
        let mut keys = vec![primary];
        for k in retired {
            if !keys.iter().any(|h| h.id == k.id) {
                keys.push(k);
            }
        }
        Self(keys.into())
    }

    /// One key, no retired ones.
    pub fn single(bytes: &[u8]) -> Self {
        Self::new(MasterKey::new(bytes.to_vec()), Vec::new())
    }

    /// The key new values are sealed under.
    pub fn primary(&self) -> &MasterKey {
        &self.0[0]
    }

    /// Every key, the primary first.
    pub fn keys(&self) -> &[MasterKey] {
        &self.0
    }

    /// Seals and opens the values of one purpose.
    pub fn sealer(&self, purpose: &str) -> Sealer {
        Sealer(
            self.0
                .iter()
                .map(|k| (k.id.clone(), SealKey::derive(&k.bytes, purpose)))
                .collect(),
        )
    }
}

/// Seals under the primary key and opens under any key of a [`Keyring`], for one purpose.
///
/// Stored form: `v2:` + the key's id + `:` + base64(nonce ‖ ciphertext ‖ tag). Values sealed
/// before keys had ids (`v1:` + base64) are opened by trying each key, the primary first.
#[derive(Debug)]
pub struct Sealer(Vec<(String, SealKey)>);

/// Which key a sealed value is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// The primary key, in the current form.
    Current,
    /// Another key of the ring, or the form without a key id: sealing it again would change it.
    Stale,
}

impl Sealer {
    /// Seals `secret` under the primary key for the place described by `context`, with `nonce`
    /// (24 random bytes, never reused with this key).
    pub fn seal(&self, secret: &Secret, context: &[u8], nonce: [u8; NONCE_LEN]) -> String {
        let (id, key) = &self.0[0];
        format!(
            "{V2}{id}:{}",
            B64.encode(key.encrypt(secret, context, nonce))
        )
    }

    /// Opens a value sealed under any key of the ring for the same `context`.
    pub fn open(&self, sealed: &str, context: &[u8]) -> Result<Secret, SealError> {
        self.open_with(sealed, context).map(|(s, _)| s)
    }

    /// Opens a value and says which key of the ring opened it (0 is the primary).
    pub fn open_with(&self, sealed: &str, context: &[u8]) -> Result<(Secret, usize), SealError> {
        if let Some(rest) = sealed.strip_prefix(V2) {
            let (id, body) = rest.split_once(':').ok_or(SealError::Malformed)?;
            let bytes = B64.decode(body).map_err(|_| SealError::Malformed)?;
            let at = self
                .0
                .iter()
                .position(|(k, _)| k == id)
                .ok_or_else(|| SealError::UnknownKey(id.chars().take(16).collect()))?;
            return self.0[at].1.decrypt(&bytes, context).map(|s| (s, at));
        }
        let body = sealed.strip_prefix(V1).ok_or(SealError::Malformed)?;
        let bytes = B64.decode(body).map_err(|_| SealError::Malformed)?;
        let mut outcome = Err(SealError::Forged);
        for (at, (_, key)) in self.0.iter().enumerate() {
            match key.decrypt(&bytes, context) {
                Ok(s) => return Ok((s, at)),
                Err(e) => outcome = Err(e),
            }
        }
        outcome
    }

    /// Whether `sealed` is under the primary key in the current form (read from its prefix only).
    pub fn key_use(&self, sealed: &str) -> KeyUse {
        match sealed.strip_prefix(V2).and_then(|r| r.split_once(':')) {
            Some((id, _)) if id == self.0[0].0 => KeyUse::Current,
            _ => KeyUse::Stale,
        }
    }

    /// `sealed` opened and sealed again under the primary key, or `None` when it already is.
    pub fn reseal(
        &self,
        sealed: &str,
        context: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> Result<Option<String>, SealError> {
        if self.key_use(sealed) == KeyUse::Current {
            return Ok(None);
        }
        let secret = self.open(sealed, context)?;
        Ok(Some(self.seal(&secret, context, nonce)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nonce(n: u8) -> [u8; NONCE_LEN] {
        [n; NONCE_LEN]
    }

    fn sealer(master: &[u8], purpose: &str) -> Sealer {
        Keyring::single(master).sealer(purpose)
    }

    /// The base64 body of a `v2:` value.
    fn body(sealed: &str) -> Vec<u8> {
        B64.decode(sealed.rsplit(':').next().unwrap()).unwrap()
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = sealer(b"master", "purpose");
        let s = Secret::new("hunter2".into());
        let sealed = key.seal(&s, b"ctx", nonce(1));
        let id = MasterKey::new(b"master".to_vec()).id().to_owned();
        assert!(sealed.starts_with(&format!("v2:{id}:")), "{sealed}");
        assert_eq!(id.len(), 16);
        assert!(!sealed.contains("hunter2"));
        assert_eq!(key.open(&sealed, b"ctx").unwrap().expose(), "hunter2");
        assert_eq!(key.open(&sealed, b"other"), Err(SealError::Forged));
        let other_purpose = sealer(b"master", "elsewhere");
        assert_eq!(other_purpose.open(&sealed, b"ctx"), Err(SealError::Forged));
        let other_master = sealer(b"master2", "purpose");
        assert_eq!(
            other_master.open(&sealed, b"ctx"),
            Err(SealError::UnknownKey(id.clone()))
        );
        // The key id names the key, so a value with another key's id does not open either.
        let other_id = MasterKey::new(b"master2".to_vec()).id().to_owned();
        let relabelled = sealed.replace(&id, &other_id);
        assert_eq!(
            other_master.open(&relabelled, b"ctx"),
            Err(SealError::Forged)
        );
        assert_ne!(
            sealed,
            key.seal(&s, b"ctx", nonce(2)),
            "a fresh nonce each time"
        );
    }

    /// SEC-4: a ring seals under its primary, opens under every key, and reseals only what is
    /// not under the primary; values from before key ids (`v1:`) open under any key of the ring.
    #[test]
    fn a_keyring_opens_under_every_key_and_seals_under_the_primary() {
        let k1 = Keyring::single(b"key one");
        let k2 = Keyring::new(
            MasterKey::new(b"key two".to_vec()),
            vec![MasterKey::new(b"key one".to_vec())],
        );
        let only_k2 = Keyring::single(b"key two");
        let s = Secret::new("p@ss".into());
        let old = k1.sealer("p").seal(&s, b"ctx", nonce(3));
        let new = k2.sealer("p").seal(&s, b"ctx", nonce(4));
        assert!(new.starts_with(&format!("v2:{}:", k2.primary().id())));
        assert_eq!(k2.sealer("p").open(&old, b"ctx").unwrap(), s);
        assert_eq!(k2.sealer("p").open_with(&old, b"ctx").unwrap().1, 1);
        assert_eq!(k2.sealer("p").open_with(&new, b"ctx").unwrap().1, 0);
        assert_eq!(
            only_k2.sealer("p").open(&old, b"ctx"),
            Err(SealError::UnknownKey(k1.primary().id().to_owned()))
        );
        assert_eq!(k2.sealer("p").key_use(&old), KeyUse::Stale);
        assert_eq!(k2.sealer("p").key_use(&new), KeyUse::Current);
        let resealed = k2
            .sealer("p")
            .reseal(&old, b"ctx", nonce(5))
            .unwrap()
            .unwrap();
        assert_eq!(only_k2.sealer("p").open(&resealed, b"ctx").unwrap(), s);
        assert_eq!(k2.sealer("p").reseal(&resealed, b"ctx", nonce(6)), Ok(None));
        assert_eq!(
            k2.sealer("p").reseal(&old, b"other", nonce(7)),
            Err(SealError::Forged),
            "a value that does not open is never resealed"
        );
        // The form without a key id (sealed before rotation existed) opens under either key.
        let v1 = format!(
            "v1:{}",
            B64.encode(SealKey::derive(b"key one", "p").encrypt(&s, b"ctx", nonce(8)))
        );
        assert_eq!(k1.sealer("p").open(&v1, b"ctx").unwrap(), s);
        assert_eq!(k2.sealer("p").open_with(&v1, b"ctx").unwrap().1, 1);
        assert_eq!(k2.sealer("p").key_use(&v1), KeyUse::Stale);
        assert_eq!(
            only_k2.sealer("p").open(&v1, b"ctx"),
            Err(SealError::Forged)
        );
        // A retired key equal to the primary is not kept twice.
        let same = Keyring::new(
            MasterKey::new(b"key two".to_vec()),
            vec![MasterKey::new(b"key two".to_vec())],
        );
        assert_eq!(same.keys().len(), 1);
    }

    #[test]
    fn every_flipped_byte_fails_to_open() {
        let key = sealer(b"master", "purpose");
        let sealed = key.seal(&Secret::new("p@ss".into()), b"ctx", nonce(7));
        let prefix = &sealed[..sealed.rfind(':').unwrap() + 1];
        let raw = body(&sealed);
        for i in 0..raw.len() {
            for bit in [0x01_u8, 0x80] {
                let mut t = raw.clone();
                t[i] ^= bit;
                let forged = format!("{prefix}{}", B64.encode(&t));
                assert_eq!(
                    key.open(&forged, b"ctx"),
                    Err(SealError::Forged),
                    "byte {i}"
                );
            }
        }
        let short = format!("{prefix}AAAA");
        for bad in [
            "",
            "v1:",
            "v1:!!!",
            "v2:AAAA",
            "v1:AAAA",
            "v3:x:AAAA",
            "hunter2",
            &short,
        ] {
            assert_eq!(key.open(bad, b"ctx"), Err(SealError::Malformed), "{bad}");
        }
    }

    #[test]
    fn a_thousand_random_byte_flips_all_fail_to_open() {
        let key = sealer(b"master", "purpose");
        let sealed = key.seal(
            &Secret::new("a service-desk password of some length".into()),
            b"tenant/sdim/password",
            nonce(9),
        );
        let prefix = &sealed[..sealed.rfind(':').unwrap() + 1];
        let raw = body(&sealed);
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
            let forged = format!("{prefix}{}", B64.encode(&t));
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
        let ring = Keyring::single(b"CANARY-KEY");
        let shown = format!("{ring:?} {:?}", ring.sealer("p"));
        assert!(!shown.contains("CANARY"), "{shown}");
        assert!(shown.contains(ring.primary().id()), "{shown}");
    }
}
