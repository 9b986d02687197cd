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
/// values replaced by `***`, the secret part of well-known webhook paths
/// replaced by `***` (see [`redact_path`]), no fragment.
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
    if let Some(path) = redact_path(url) {
        shown.set_path(&path);
    }
    shown.to_string()
}

/// The path with its secret replaced, for the webhook URL shapes that carry
/// a secret in the path (matched by shape, whatever the host, so proxies
/// and self-hosted servers are covered too); `None` for any other path.
/// Query secrets (Power Automate's `sig`, Google Chat's `key` and `token`)
/// are [`SECRET_QUERY_KEYS`]' business.
/// - Slack: `/services/T…/B…/<secret>` → `/services/***`
/// - Discord: `…/webhooks/<id>/<token>` → `…/webhooks/<id>/***`
/// - Telegram Bot API: `/bot<id>:<token>/…` → `/bot***/…`
/// - Microsoft Teams: `/webhookb2/…/IncomingWebhook/…` (or `/webhook/…`)
///   → `/webhookb2/***`
fn redact_path(url: &Url) -> Option<String> {
    let segments: Vec<&str> = url.path_segments()?.collect();
    let mut out: Vec<&str> = Vec::with_capacity(segments.len());
    let mut changed = false;
    let mut i = 0;
    while i < segments.len() {
        let s = segments[i];
        let next = |k: usize| segments.get(i + k).copied().unwrap_or("");
        if s == "services" && next(1).starts_with('T') && next(2).starts_with('B') {
            out.extend(["services", "***"]);
            changed = true;
            break;
        }
        if s == "webhooks"
            && !next(1).is_empty()
            && next(1).bytes().all(|b| b.is_ascii_digit())
            && !next(2).is_empty()
        {
            out.extend([s, next(1), "***"]);
            changed = true;
            break;
        }
        if s.len() > 3 && s.starts_with("bot") && s.contains(':') {
            out.push("bot***");
            changed = true;
            i += 1;
            continue;
        }
        if (s.eq_ignore_ascii_case("webhookb2") || s.eq_ignore_ascii_case("webhook"))
            && segments[i..]
                .iter()
                .any(|x| x.eq_ignore_ascii_case("IncomingWebhook"))
        {
            out.extend([s, "***"]);
            changed = true;
            break;
        }
        out.push(s);
        i += 1;
    }
    changed.then(|| format!("/{}", out.join("/")))
}

/// Redacts a string that may not parse as a URL. One that parses is shown
/// as [`redact_url`] shows it; one that does not as `<invalid URL>` plus
/// its scheme and host when they can be found (never its path, query or
/// user info, which may hold secrets), with control characters escaped so
/// a text or log line cannot be split by it.
pub fn redact_url_str(text: &str) -> String {
    if let Ok(url) = Url::parse(text) {
        return redact_url(&url);
    }
    let mut shown = String::from("<invalid URL>");
    if let Some(i) = text.find("://") {
        let scheme = &text[..i];
        let valid_scheme = !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if valid_scheme {
            let rest = &text[i + 3..];
            let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
            let host = authority.rsplit('@').next().unwrap_or("");
            shown.push(' ');
            shown.push_str(scheme);
            shown.push_str("://");
            for c in host.chars() {
                if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                    shown.extend(c.escape_unicode());
                } else {
                    shown.push(c);
                }
            }
        }
    }
    shown
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
            redact_url_str("http://bob:pw@exa mple/secret-path?token=1"),
            "<invalid URL> http://exa mple"
        );
        assert_eq!(redact_url_str("not a url"), "<invalid URL>");
        assert_eq!(
            redact_url_str("https://ex ample\r\n/x"),
            "<invalid URL> https://ex ample\\u{d}\\u{a}",
            "a newline cannot split a log line"
        );
    }

    #[test]
    fn path_secrets_of_well_known_webhook_urls_are_hidden() {
        let shown = |u: &str| redact_url(&Url::parse(u).unwrap());
        for (url, expected) in [
            (
                "https://hooks.slack.com/services/T0001/B0002/XXXXsecretXXXX",
                "https://hooks.slack.com/services/***",
            ),
            (
                "https://discord.com/api/webhooks/123456789012345678/tok-en_SECRET",
                "https://discord.com/api/webhooks/123456789012345678/***",
            ),
            (
                "https://discordapp.com/api/webhooks/42/SECRET/slack?wait=true",
                "https://discordapp.com/api/webhooks/42/***?wait=true",
            ),
            (
                "https://api.telegram.org/bot123456:AAH-secret_token/sendMessage?chat_id=7",
                "https://api.telegram.org/bot***/sendMessage?chat_id=7",
            ),
            (
                "https://contoso.webhook.office.com/webhookb2/a-b@c-d/IncomingWebhook/abc123/e-f/V2SECRET",
                "https://contoso.webhook.office.com/webhookb2/***",
            ),
            (
                "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETSIG",
                "https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=***",
            ),
            (
                "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=KEYSECRET&token=TOKSECRET",
                "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=***&token=***",
            ),
            // Ordinary paths stay as they are.
            (
                "https://example.com/services/orders/42",
                "https://example.com/services/orders/42",
            ),
            (
                "https://example.com/hs/webhooks/incoming",
                "https://example.com/hs/webhooks/incoming",
            ),
        ] {
            assert_eq!(shown(url), expected);
        }
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
