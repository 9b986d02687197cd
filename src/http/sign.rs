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

/// The Standard Webhooks headers of a webhook received, and its body
/// exactly as it arrived. An empty header counts as missing.
#[derive(Clone, Copy, Debug)]
pub struct Received<'a> {
    pub id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
    pub body: &'a [u8],
}

/// Which header of a received webhook cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// `webhook-id` is missing or empty.
    NoId,
    /// `webhook-timestamp` is missing or not a number of seconds.
    Timestamp,
    /// `webhook-signature` is missing or has no `v1,<base64 of 32 bytes>`
    /// entry (entries of other versions are skipped, as the specification
    /// says).
    NoV1Signature,
}

/// Why a received webhook is not accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// No secret given, or one that is not base64 after `whsec_`.
    MalformedSecret,
    Malformed(Malformed),
    /// No v1 signature matches any of the secrets.
    Mismatch {
        signatures: usize,
        secrets: usize,
    },
    /// The timestamp is more than `tolerance` seconds old.
    TooOld {
        age: u64,
        tolerance: u64,
    },
    /// The timestamp is more than `tolerance` seconds ahead of now.
    InFuture {
        ahead: u64,
        tolerance: u64,
    },
}

/// Verifies a received webhook the way the specification's reference
/// libraries do: `secrets` are one or several space-separated secrets (as
/// for [`Signer::new`]); the webhook is accepted when one of its v1
/// signatures is the HMAC of `id.timestamp.body` under one of them
/// (compared in constant time) and its timestamp is within `tolerance`
/// seconds of `now`. The signature is checked before the timestamp, so a
/// stale verdict is only given for an authentic webhook.
pub fn verify(
    secrets: &str,
    received: &Received<'_>,
    tolerance: u64,
    now: u64,
) -> Result<(), Rejected> {
    let signer = Signer::new(secrets).map_err(|InvalidSecret| Rejected::MalformedSecret)?;
    let id = received.id.trim();
    if id.is_empty() {
        return Err(Rejected::Malformed(Malformed::NoId));
    }
    let timestamp = received.timestamp.trim();
    let seconds = timestamp
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| timestamp.parse::<u64>().ok())
        .flatten()
        .ok_or(Rejected::Malformed(Malformed::Timestamp))?;
    let signatures: Vec<Vec<u8>> = received
        .signature
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .filter(|tag| tag.len() == 32)
        .collect();
    if signatures.is_empty() {
        return Err(Rejected::Malformed(Malformed::NoV1Signature));
    }
    let mut signed = Vec::with_capacity(id.len() + timestamp.len() + 2 + received.body.len());
    signed.extend_from_slice(id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(received.body);
    // Every pair is compared, matching or not, so the time taken tells
    // nothing about which one matched.
    let matched = signer.keys.iter().fold(false, |matched, key| {
        signatures.iter().fold(matched, |matched, tag| {
            hmac::verify(key, &signed, tag).is_ok() | matched
        })
    });
    if !matched {
        return Err(Rejected::Mismatch {
            signatures: signatures.len(),
            secrets: signer.keys.len(),
        });
    }
    if now > seconds && now - seconds > tolerance {
        return Err(Rejected::TooOld {
            age: now - seconds,
            tolerance,
        });
    }
    if seconds > now && seconds - now > tolerance {
        return Err(Rejected::InFuture {
            ahead: seconds - now,
            tolerance,
        });
    }
    Ok(())
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

    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: u64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn spec(signature: &str) -> Received<'_> {
        Received {
            id: SPEC_ID,
            timestamp: "1614265330",
            signature,
            body: SPEC_BODY,
        }
    }

    #[test]
    fn the_specification_vector_verifies_and_every_change_is_caught() {
        let check = |secrets: &str, r: &Received<'_>| verify(secrets, r, 300, SPEC_TIMESTAMP);
        assert_eq!(check(SPEC_SECRET, &spec(SPEC_SIGNATURE)), Ok(()));
        let rotated = format!("v1a,xyz v1,{} {SPEC_SIGNATURE}", STANDARD.encode([7u8; 32]));
        assert_eq!(
            check(&format!("whsec_AAAA {SPEC_SECRET}"), &spec(&rotated)),
            Ok(())
        );

        let mismatch = |signatures, secrets| {
            Err(Rejected::Mismatch {
                signatures,
                secrets,
            })
        };
        let flipped = SPEC_SIGNATURE.replace("g0h", "g0i");
        assert_eq!(check(SPEC_SECRET, &spec(&flipped)), mismatch(1, 1));
        assert_eq!(check("whsec_AAAA", &spec(SPEC_SIGNATURE)), mismatch(1, 1));
        let mut body = spec(SPEC_SIGNATURE);
        body.body = br#"{"test": 2432232315}"#;
        assert_eq!(check(SPEC_SECRET, &body), mismatch(1, 1));
        let mut id = spec(SPEC_SIGNATURE);
        id.id = "msg_other";
        assert_eq!(check(SPEC_SECRET, &id), mismatch(1, 1));
        let mut stamp = spec(SPEC_SIGNATURE);
        stamp.timestamp = "1614265331";
        assert_eq!(
            verify(SPEC_SECRET, &stamp, 300, SPEC_TIMESTAMP),
            mismatch(1, 1)
        );

        let malformed = |m| Err(Rejected::Malformed(m));
        for garbage in [
            "",
            "   ",
            "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            "v1,",
            "v1,%%%",
            "v1,AAAA",
            "garbage",
        ] {
            assert_eq!(
                check(SPEC_SECRET, &spec(garbage)),
                malformed(Malformed::NoV1Signature),
                "{garbage:?}"
            );
        }
        let mut no_id = spec(SPEC_SIGNATURE);
        no_id.id = " ";
        assert_eq!(check(SPEC_SECRET, &no_id), malformed(Malformed::NoId));
        for bad in [
            "",
            "-1",
            "+1614265330",
            "1614265330.5",
            "soon",
            "99999999999999999999999",
        ] {
            let mut r = spec(SPEC_SIGNATURE);
            r.timestamp = bad;
            assert_eq!(
                check(SPEC_SECRET, &r),
                malformed(Malformed::Timestamp),
                "{bad:?}"
            );
        }
        for secret in ["", " ", "whsec_%%%", "whsec_"] {
            assert_eq!(
                check(secret, &spec(SPEC_SIGNATURE)),
                Err(Rejected::MalformedSecret),
                "{secret:?}"
            );
        }
    }

    #[test]
    fn the_timestamp_must_be_within_the_tolerance() {
        let at = |now| verify(SPEC_SECRET, &spec(SPEC_SIGNATURE), 300, now);
        assert_eq!(at(SPEC_TIMESTAMP + 300), Ok(()));
        assert_eq!(at(SPEC_TIMESTAMP - 300), Ok(()));
        assert_eq!(
            at(SPEC_TIMESTAMP + 301),
            Err(Rejected::TooOld {
                age: 301,
                tolerance: 300
            })
        );
        assert_eq!(
            at(SPEC_TIMESTAMP - 301),
            Err(Rejected::InFuture {
                ahead: 301,
                tolerance: 300
            })
        );
        assert_eq!(
            verify(SPEC_SECRET, &spec(SPEC_SIGNATURE), 0, SPEC_TIMESTAMP),
            Ok(())
        );
    }

    #[test]
    fn what_the_signer_signs_the_verifier_accepts() {
        let secrets = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD plain-old-key";
        let signature = Signer::new(secrets)
            .unwrap()
            .signature("msg_1", 1_700_000_000, b"body");
        let received = Received {
            id: "msg_1",
            timestamp: "1700000000",
            signature: &signature,
            body: b"body",
        };
        for secret in secrets.split(' ') {
            assert_eq!(
                verify(secret, &received, 300, 1_700_000_000),
                Ok(()),
                "{secret}"
            );
        }
    }
}
