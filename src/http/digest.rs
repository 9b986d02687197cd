//! HTTP Digest access authentication, the client's side (RFC 7616): the
//! `Authorization` that answers a 401's `WWW-Authenticate: Digest`
//! challenge, with SHA-256 or MD5 (and their `-sess` forms), `qop=auth` or
//! the RFC 2069 form without qop.

use md5::{Digest as _, Md5};
use reqwest::header::{HeaderMap, WWW_AUTHENTICATE};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    fn hash(self, data: &str) -> String {
        let bytes: Vec<u8> = match self {
            Algorithm::Md5 => Md5::digest(data.as_bytes()).to_vec(),
            Algorithm::Sha256 => ring::digest::digest(&ring::digest::SHA256, data.as_bytes())
                .as_ref()
                .to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// One `Digest` challenge of a 401 answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    realm: String,
    nonce: String,
    opaque: Option<String>,
    algorithm: Algorithm,
    /// `-sess`: HA1 includes the nonces.
    session: bool,
    /// The server offers `qop=auth`.
    qop_auth: bool,
    /// The algorithm name as the server wrote it, sent back unchanged.
    algorithm_name: Option<String>,
}

impl Challenge {
    /// The strongest Digest challenge among `headers`' `WWW-Authenticate`
    /// values that this client can answer (SHA-256 before MD5).
    pub fn from_headers(headers: &HeaderMap) -> Option<Challenge> {
        headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(Challenge::parse)
            .max_by_key(|c| c.algorithm == Algorithm::Sha256)
    }

    /// A challenge from one header value (`Digest realm="…", nonce="…", …`).
    fn parse(value: &str) -> Option<Challenge> {
        let (scheme, params) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let params = auth_params(params);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let algorithm_name = get("algorithm");
        let (algorithm, session) = match algorithm_name
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref()
        {
            None | Some("MD5") => (Algorithm::Md5, false),
            Some("MD5-SESS") => (Algorithm::Md5, true),
            Some("SHA-256") => (Algorithm::Sha256, false),
            Some("SHA-256-SESS") => (Algorithm::Sha256, true),
            Some(_) => return None,
        };
        let qop = get("qop");
        let qop_auth = qop
            .as_deref()
            .is_some_and(|q| q.split(',').any(|o| o.trim().eq_ignore_ascii_case("auth")));
        if qop.is_some() && !qop_auth {
            // Only auth-int is offered: it would hash the body; not done.
            return None;
        }
        Some(Challenge {
            realm: get("realm").unwrap_or_default(),
            nonce: get("nonce")?,
            opaque: get("opaque"),
            algorithm,
            session,
            qop_auth,
            algorithm_name,
        })
    }

    /// The `Authorization` value for `method` on `uri` (the request target:
    /// path and query), with client nonce `cnonce`, as request `count` under
    /// this nonce.
    pub fn authorization(
        &self,
        user: &str,
        password: &str,
        method: &str,
        uri: &str,
        cnonce: &str,
        count: u32,
    ) -> String {
        let h = |s: &str| self.algorithm.hash(s);
        let mut ha1 = h(&format!("{user}:{}:{password}", self.realm));
        if self.session {
            ha1 = h(&format!("{ha1}:{}:{cnonce}", self.nonce));
        }
        let ha2 = h(&format!("{method}:{uri}"));
        let nc = format!("{count:08x}");
        let response = if self.qop_auth {
            h(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
        } else {
            h(&format!("{ha1}:{}:{ha2}", self.nonce))
        };
        let mut out = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{response}\"",
            quote(user),
            quote(&self.realm),
            quote(&self.nonce),
            quote(uri)
        );
        if let Some(algorithm) = &self.algorithm_name {
            out.push_str(&format!(", algorithm={algorithm}"));
        }
        if self.qop_auth {
            out.push_str(&format!(
                ", qop=auth, nc={nc}, cnonce=\"{}\"",
                quote(cnonce)
            ));
        }
        if let Some(opaque) = &self.opaque {
            out.push_str(&format!(", opaque=\"{}\"", quote(opaque)));
        }
        out
    }
}

/// `a=1, b="x, y", c=z` as pairs, quotes and backslash escapes removed.
fn auth_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_string();
        if name.is_empty() {
            break;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.peek().copied().filter(|c| *c != ',') {
                value.push(c);
                chars.next();
            }
            value = value.trim().to_string();
        }
        out.push((name, value));
    }
    out
}

/// A value inside double quotes: `"` and `\` escaped.
fn quote(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// RFC 7616, section 3.9.1: the same challenge with SHA-256 and MD5.
    #[test]
    fn the_rfc_7616_example_gives_its_responses() {
        let mut headers = HeaderMap::new();
        for algorithm in ["SHA-256", "MD5"] {
            let value = format!(
                "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
                 algorithm={algorithm}, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                 opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
            );
            headers.append(WWW_AUTHENTICATE, HeaderValue::from_str(&value).unwrap());
        }
        let answer = |challenge: &Challenge| {
            challenge.authorization(
                "Mufasa",
                "Circle of Life",
                "GET",
                "/dir/index.html",
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
                1,
            )
        };
        let best = Challenge::from_headers(&headers).expect("a challenge");
        let sha = answer(&best);
        assert!(
            sha.contains(
                "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
            ),
            "{sha}"
        );
        assert!(sha.contains("algorithm=SHA-256") && sha.contains("nc=00000001"));
        assert!(sha.contains("opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""));
        let md5 = Challenge::parse(
            headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .nth(1)
                .unwrap()
                .to_str()
                .unwrap(),
        )
        .unwrap();
        assert!(
            answer(&md5).contains("response=\"8ca523f5e9506fed4657c9700eebdbec\""),
            "{}",
            answer(&md5)
        );
    }

    #[test]
    fn challenges_it_cannot_answer_are_skipped() {
        assert_eq!(Challenge::parse("Basic realm=\"x\""), None);
        assert_eq!(
            Challenge::parse("Digest realm=\"x\", nonce=\"n\", qop=\"auth-int\""),
            None
        );
        assert_eq!(
            Challenge::parse("Digest realm=\"x\", nonce=\"n\", algorithm=SHA-512-256"),
            None
        );
        assert_eq!(Challenge::parse("Digest realm=\"x\""), None, "no nonce");
        let plain = Challenge::parse("Digest realm=\"a \\\"b\\\", c\", nonce=n1").unwrap();
        assert_eq!(plain.realm, "a \"b\", c");
        // RFC 2069 form: no qop, no cnonce.
        let header = plain.authorization("u", "p", "POST", "/x?y=1", "c", 1);
        assert!(
            !header.contains("qop") && !header.contains("cnonce"),
            "{header}"
        );
        assert!(header.contains("realm=\"a \\\"b\\\", c\""), "{header}");
    }
}
