//! A received response: status, headers and the raw body, with the text view
//! decoded by the charset the server declared.

use encoding_rs::{Encoding, UTF_8};

/// What the server answered.
#[derive(Clone, Debug, Default)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case, in the order received; repeated headers
    /// appear repeatedly.
    pub headers: Vec<(String, String)>,
    /// The body after content decoding (gzip, deflate, brotli).
    pub body: Vec<u8>,
    /// The URL that answered (the last redirect's target, if any), without
    /// user name and password; "" for a response not received over HTTP.
    pub url: String,
}

impl Response {
    /// One header, case-insensitively; repeated headers joined with ", ".
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The body as text, decoded by the Content-Type charset.
    pub fn text(&self) -> String {
        decode_text(&self.body, self.header("content-type").as_deref())
    }
}

/// Decodes `body` by the `charset` parameter of `content_type` (UTF-8 when
/// there is none or it is unknown; a byte-order mark wins). Invalid bytes
/// become U+FFFD.
pub fn decode_text(body: &[u8], content_type: Option<&str>) -> String {
    let encoding = content_type
        .and_then(charset_of)
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .unwrap_or(UTF_8);
    let (text, _, _) = encoding.decode(body);
    text.into_owned()
}

fn charset_of(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_by_declared_charset() {
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode("Привет");
        assert_eq!(
            decode_text(&cp1251, Some("text/plain; charset=windows-1251")),
            "Привет"
        );
        assert_eq!(
            decode_text(&cp1251, Some("text/plain; Charset=\"CP1251\"")),
            "Привет"
        );
        assert_eq!(decode_text("Привет".as_bytes(), None), "Привет");
        assert_eq!(decode_text(b"a\xffb", Some("text/plain")), "a\u{fffd}b");
        assert_eq!(
            decode_text("ok".as_bytes(), Some("text/plain; charset=nonsense")),
            "ok"
        );
    }

    #[test]
    fn repeated_headers_are_joined() {
        let r = Response {
            status: 200,
            headers: vec![
                ("set-cookie".into(), "a=1".into()),
                ("set-cookie".into(), "b=2".into()),
            ],
            ..Response::default()
        };
        assert_eq!(r.header("Set-Cookie").as_deref(), Some("a=1, b=2"));
        assert_eq!(r.header("x"), None);
    }
}
