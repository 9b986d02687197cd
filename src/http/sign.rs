//! Standard Webhooks 1.0 signatures: `webhook-id`, `webhook-timestamp` and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
//! A `whsec_` secret is base64 after the prefix; any other secret is used as
//! its UTF-8 bytes. Several secrets separated by spaces (key rotation) give
//! one signature each, space-separated, in the order given, as the
//! specification allows; a receiver that knows any one of the keys accepts.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// The signing keys made from the SigningSecret text.
#[derive(Clone)]
pub struct Signer {
    /// At least one, in the order the secrets were given.
    keys: Vec<hmac::Key>,
    /// The secrets it was made from, separated by one space, which the
    /// delivery queue stores with a message to sign its later attempts.
    secret: String,
}

// The keys are secrets: never print them.
impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(***)")
    }
}

/// A secret is not valid base64 after `whsec_`, or there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidSecret;

impl Signer {
    /// One key per space-separated secret.
    pub fn new(secrets: &str) -> Result<Signer, InvalidSecret> {
        let mut keys = Vec::new();
        let mut texts = Vec::new();
        for secret in secrets.split_whitespace() {
            let bytes = match secret.strip_prefix("whsec_") {
                Some(encoded) => STANDARD.decode(encoded).map_err(|_| InvalidSecret)?,
                None => secret.as_bytes().to_vec(),
            };
            if bytes.is_empty() {
                return Err(InvalidSecret);
            }
            keys.push(hmac::Key::new(hmac::HMAC_SHA256, &bytes));
            texts.push(secret);
        }
        if keys.is_empty() {
            return Err(InvalidSecret);
        }
        Ok(Signer {
            keys,
            secret: texts.join(" "),
        })
    }

    /// The secret text this signer was made from.
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// `v1,<base64 signature>` of `id.timestamp.body` for each key,
    /// separated by spaces: the `webhook-signature` header.
    pub fn signature(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        let timestamp = timestamp.to_string();
        let mut header = String::new();
        for key in &self.keys {
            let mut context = hmac::Context::with_key(key);
            context.update(id.as_bytes());
            context.update(b".");
            context.update(timestamp.as_bytes());
            context.update(b".");
            context.update(body);
            if !header.is_empty() {
                header.push(' ');
            }
            header.push_str("v1,");
            header.push_str(&STANDARD.encode(context.sign().as_ref()));
        }
        header
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
    fn several_secrets_sign_once_each_in_their_order() {
        let (new, old) = ("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "plain-old-key");
        let both = Signer::new(&format!("  {new}   {old} ")).unwrap();
        assert_eq!(both.secret(), format!("{new} {old}"));
        let body = b"{}";
        let one = |s: &str| {
            Signer::new(s)
                .unwrap()
                .signature("msg_1", 1_700_000_000, body)
        };
        assert_eq!(
            both.signature("msg_1", 1_700_000_000, body),
            format!("{} {}", one(new), one(old))
        );
        assert_eq!(
            Signer::new(&format!("{new} whsec_%%")).unwrap_err(),
            InvalidSecret,
            "one bad secret spoils the setting"
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
