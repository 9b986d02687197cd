//! Standard Webhooks 1.0 signatures: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
//! A `whsec_` secret is base64 after the prefix; any other secret is used as
//! its UTF-8 bytes.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// A signing key made from the SigningSecret text.
#[derive(Clone)]
pub struct Signer {
    key: hmac::Key,
    /// The text it was made from (trimmed), which the delivery queue
    /// stores with a message to sign its later attempts.
    secret: String,
}

// The key is a secret: never print it.
impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

/// The secret is not valid base64 after `whsec_`, or is empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSecret;

impl Signer {
    pub fn new(secret: &str) -> Result<Signer, InvalidSecret> {
        let secret = secret.trim();
        let bytes = match secret.strip_prefix("whsec_") {
            Some(encoded) => STANDARD.decode(encoded).map_err(|_| InvalidSecret)?,
            None => secret.as_bytes().to_vec(),
        };
        if bytes.is_empty() {
            return Err(InvalidSecret);
        }
        Ok(Signer {
            key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
            secret: secret.to_string(),
        })
    }

    /// The secret text this signer was made from.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// `v1,<base64 signature>` of `id.timestamp.body`.
    pub fn signature(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let mut context = hmac::Context::with_key(&self.key);
        context.update(id.as_bytes());
        context.update(b".");
        context.update(timestamp.to_string().as_bytes());
        context.update(b".");
        context.update(body);
        format!("v1,{}", STANDARD.encode(context.sign().as_ref()))
    }
}

/// A fresh message id: `msg_` and 27 random base62 characters (about 160
/// bits), drawn by rejection sampling so every character is equally likely.
pub fn new_message_id() -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    const LEN: usize = 4 + 27;
    let rng = SystemRandom::new();
    let mut id = String::with_capacity(LEN);
    id.push_str("msg_");
    let mut counter = 0u64;
    while id.len() < LEN {
        let mut random = [0u8; 32];
        if rng.fill(&mut random).is_err() {
            // No OS randomness (never seen in practice): time and a counter
            // still give an id unique enough for deduplication.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            counter += 1;
            for (i, b) in random.iter_mut().enumerate() {
                *b = ((nanos ^ u128::from(counter) << 64) >> (i % 16 * 8)) as u8 % 248;
            }
        }
        for b in random {
            // 248 is the largest multiple of 62 that fits in a byte.
            if b < 248 && id.len() < LEN {
                id.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    id
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_specification_test_vector() {
        let signer = Signer::new("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").unwrap();
        let body = br#"{"email":"test@example.com","username":"test_user"}"#;
        assert_eq!(
            signer.signature("msg_27UH4WbU6Z5A5EzD8u03UvzRbpk", 1_649_367_553, body),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn secrets_are_checked_and_ids_are_unique() {
        assert_eq!(Signer::new("whsec_not base64!").unwrap_err(), InvalidSecret);
        assert_eq!(Signer::new("  ").unwrap_err(), InvalidSecret);
        assert!(Signer::new("plain-secret").is_ok());
        assert_eq!(
            format!("{:?}", Signer::new("plain-secret").unwrap()),
            "Signer(***)"
        );
        let a = new_message_id();
        assert_eq!(a.len(), 31);
        assert!(a.starts_with("msg_") && a[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, new_message_id());
    }
}
