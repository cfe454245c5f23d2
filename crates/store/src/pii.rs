//! Personal data in the log: sealed with a per-member data key, shredded by destroying the key.
//!
//! An event that carries personal data keeps all of it in one top-level field, `personal`.
//! Before the append, [`Vault::seal_payload`] replaces that field with
//! `{"sealed_v1": {"subject": <member id>, "data": <base64 nonce ‖ ciphertext>}}`, encrypted with
//! XChaCha20-Poly1305 under the subject's data key (the subject id is the associated data, so a
//! sealed value cannot be moved to another member). Data keys live in the key table beside the
//! log, wrapped under the master key. [`Vault::open_payload`] reverses it, and yields
//! `"personal": null` once the subject's key is destroyed: every copy of the data in the log,
//! in backups and in replicas becomes unreadable at once, while the log itself stays immutable.
//!
//! Uniqueness of an email uses a keyed hash ([`Vault::email_index`]), never the plaintext.
//! Verification tokens are keyed MACs of a nonce ([`Vault::verification_token`]).

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

use crate::keys::KeyState;
use crate::{DynKeys, StoreError};

const SEALED: &str = "sealed_v1";
const PERSONAL: &str = "personal";
const NONCE_LEN: usize = 24;

/// The secret every other key derives from. Kept out of the database: from
/// `ROSTER_MASTER_KEY` or a file in the data dir, so a copy of the database alone reveals nothing.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// Parses a base64 (standard or URL-safe) encoding of 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, StoreError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text))
            .map_err(|e| StoreError::Config(format!("master key is not base64: {e}")))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| StoreError::Config("master key must be 32 bytes".into()))?;
        Ok(Self(bytes))
    }

    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Reads the key file, creating it (mode 0600) with a fresh key when it does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, StoreError> {
        let io = |e: std::io::Error| {
            StoreError::Config(format!("master key file {}: {e}", path.display()))
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                write_private(path, &key.to_base64()).map_err(io)?;
                Ok(key)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// A sub-key for one purpose, so the wrapping key and the index key are independent.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = hmac_with(&self.0);
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

fn hmac_with(key: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an empty-key MAC
    // rather than panic to satisfy the no-panic lint.
    <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()))
}

/// Seals and opens personal data, and computes blind indexes.
#[derive(Clone)]
pub struct Vault {
    keys: DynKeys,
    wrap: XChaCha20Poly1305,
    index_key: [u8; 32],
    token_key: [u8; 32],
}

impl Vault {
    pub fn new(master: &MasterKey, keys: DynKeys) -> Self {
        let wrap = XChaCha20Poly1305::new(&master.derive("roster/key-wrap/v1").into());
        Self {
            keys,
            wrap,
            index_key: master.derive("roster/email-index/v1"),
            token_key: master.derive("roster/verification-token/v1"),
        }
    }

    /// The verification token of `subject` issued with `nonce`: a keyed MAC, 32 bytes in
    /// URL-safe base64. The log keeps only the nonce (and the token's hash), so the mailer can
    /// rebuild the token while a copy of the database alone cannot.
    pub fn verification_token(&self, subject: Uuid, nonce: &str) -> String {
        let mut mac = hmac_with(&self.token_key);
        mac.update(subject.as_bytes());
        mac.update(nonce.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Keyed hash of an already normalised email: the value unique-email claims are made on.
    pub fn email_index(&self, normalised_email: &str) -> String {
        let mut mac = hmac_with(&self.index_key);
        mac.update(normalised_email.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// Replaces the payload's top-level `personal` field (if present and not null) with its
    /// sealed form under `subject`'s data key, creating the key on first use. Sealing for a
    /// subject whose key was destroyed is refused: an erased member gets no new personal data.
    pub async fn seal_payload(
        &self,
        subject: Uuid,
        mut payload: Value,
    ) -> Result<Value, StoreError> {
        let Some(personal) = payload.get_mut(PERSONAL) else {
            return Ok(payload);
        };
        if personal.is_null() || is_sealed(personal) {
            return Ok(payload);
        }
        let cipher = self.data_key(subject, true).await?.ok_or_else(|| {
            StoreError::Crypto(format!("the data key of {subject} was destroyed"))
        })?;
        let plaintext = serde_json::to_vec(personal)?;
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plaintext,
                    aad: subject.as_bytes(),
                },
            )
            .map_err(|e| StoreError::Crypto(e.to_string()))?;
        let mut data = nonce.to_vec();
        data.extend_from_slice(&ciphertext);
        *personal = json!({ SEALED: { "subject": subject, "data": STANDARD.encode(data) } });
        Ok(payload)
    }

    /// Opens a sealed `personal` field; yields `null` when the subject's key was destroyed.
    pub async fn open_payload(&self, mut payload: Value) -> Result<Value, StoreError> {
        let Some(personal) = payload.get_mut(PERSONAL) else {
            return Ok(payload);
        };
        let Some(sealed) = personal.get(SEALED) else {
            return Ok(payload);
        };
        let subject: Uuid = serde_json::from_value(sealed["subject"].clone())?;
        let data = sealed["data"].as_str().unwrap_or_default();
        let data = STANDARD
            .decode(data)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        *personal = match self.data_key(subject, false).await? {
            None => Value::Null,
            Some(cipher) => open_with(&cipher, subject, &data)?,
        };
        Ok(payload)
    }

    /// Destroys the subject's data key: crypto-shredding. Returns whether a live key existed.
    pub async fn shred(&self, subject: Uuid) -> Result<bool, StoreError> {
        self.keys.destroy(subject).await
    }

    /// The subject's cipher, `None` when its key was destroyed (or never existed and `create`
    /// is false: nothing was ever sealed for it, so there is nothing to open).
    async fn data_key(
        &self,
        subject: Uuid,
        create: bool,
    ) -> Result<Option<XChaCha20Poly1305>, StoreError> {
        let keys = &self.keys;
        let state = if create {
            keys.get_or_create(subject, self.wrap_new_key(subject)?)
                .await?
        } else {
            keys.get(subject).await?
        };
        match state {
            KeyState::Live(wrapped) => Ok(Some(self.unwrap_key(subject, &wrapped)?)),
            KeyState::Destroyed | KeyState::Missing => Ok(None),
        }
    }

    fn wrap_new_key(&self, subject: Uuid) -> Result<Vec<u8>, StoreError> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let wrapped = self
            .wrap
            .encrypt(
                &nonce,
                Payload {
                    msg: key.as_slice(),
                    aad: subject.as_bytes(),
                },
            )
            .map_err(|e| StoreError::Crypto(e.to_string()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&wrapped);
        Ok(out)
    }

    fn unwrap_key(&self, subject: Uuid, wrapped: &[u8]) -> Result<XChaCha20Poly1305, StoreError> {
        let key = decrypt(&self.wrap, subject, wrapped).map_err(|_| {
            StoreError::Crypto(format!(
                "the data key of {subject} does not open with this master key"
            ))
        })?;
        XChaCha20Poly1305::new_from_slice(&key).map_err(|e| StoreError::Crypto(e.to_string()))
    }
}

fn is_sealed(value: &Value) -> bool {
    value.get(SEALED).is_some()
}

fn open_with(cipher: &XChaCha20Poly1305, subject: Uuid, data: &[u8]) -> Result<Value, StoreError> {
    let plaintext = decrypt(cipher, subject, data).map_err(|_| {
        StoreError::Crypto(format!("personal data of {subject} failed authentication"))
    })?;
    Ok(serde_json::from_slice(&plaintext)?)
}

fn decrypt(cipher: &XChaCha20Poly1305, subject: Uuid, data: &[u8]) -> Result<Vec<u8>, ()> {
    if data.len() < NONCE_LEN {
        return Err(());
    }
    let (nonce, ciphertext) = data.split_at(NONCE_LEN);
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad: subject.as_bytes(),
            },
        )
        .map_err(|_| ())
}
