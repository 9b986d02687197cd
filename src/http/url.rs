//! URL checks and the redaction that keeps credentials out of texts and logs.

use super::Error;
use reqwest::Url;

/// Query parameter names whose values are treated as secrets in texts.
const SECRET_QUERY_KEYS: &[&str] = &[
    "token",
    "key",
    "secret",
    "pass",
    "pwd",
    "sig",
    "auth",
    "code",
    "session",
    "credential",
];

/// Parses an http(s) URL, with errors that name the (redacted) URL.
pub fn parse_url(text: &str) -> Result<Url, Error> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::EmptyUrl);
    }
    let url = Url::parse(trimmed).map_err(|e| Error::InvalidUrl {
        url: redact_url_str(trimmed),
        reason: e.to_string(),
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::UnsupportedScheme {
                url: redact_url(&url),
                scheme: other.to_string(),
            })
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::InvalidUrl {
            url: redact_url(&url),
            reason: "no host".into(),
        });
    }
    Ok(url)
}

/// The URL as texts and logs may show it: no user info, secret-looking query
/// values replaced by `***`, no fragment.
pub fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_fragment(None);
    if shown.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let lower = k.to_ascii_lowercase();
                let secret = SECRET_QUERY_KEYS.iter().any(|s| lower.contains(s));
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// Redacts a string that may not parse as a URL: drops anything between the
/// scheme and an `@` of the authority.
pub fn redact_url_str(text: &str) -> String {
    if let Ok(url) = Url::parse(text) {
        return redact_url(&url);
    }
    let (scheme, rest) = match text.find("://") {
        Some(i) => (&text[..i + 3], &text[i + 3..]),
        None => ("", text),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_credentials() {
        let url =
            Url::parse("https://alice:s3cret@example.com/p?a=1&access_token=xyz#frag").unwrap();
        let shown = redact_url(&url);
        assert_eq!(shown, "https://example.com/p?a=1&access_token=***");
        assert_eq!(
            redact_url_str("http://bob:pw@exa mple/x"),
            "http://exa mple/x"
        );
        assert_eq!(redact_url_str("not a url"), "not a url");
    }

    #[test]
    fn parse_rejects_what_cannot_be_sent() {
        assert!(matches!(parse_url("  "), Err(Error::EmptyUrl)));
        assert!(matches!(
            parse_url("ftp://x/"),
            Err(Error::UnsupportedScheme { .. })
        ));
        assert!(matches!(
            parse_url("http//x"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(parse_url("https://example.com/hook").is_ok());
    }
}
