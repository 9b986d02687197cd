//! A received response: status, headers and the raw body, with the text view
//! decoded by the charset the server declared.

use std::borrow::Cow;

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
        self.header_text(name).map(Cow::into_owned)
    }

    /// [`Response::header`] without a copy when the header came once.
    fn header_text(&self, name: &str) -> Option<Cow<'_, str>> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        let first = values.next()?;
        let Some(second) = values.next() else {
            return Some(Cow::Borrowed(first));
        };
        let mut joined = format!("{first}, {second}");
        for value in values {
            joined.push_str(", ");
            joined.push_str(value);
        }
        Some(Cow::Owned(joined))
    }

    /// The body as text, decoded by the Content-Type charset; borrowed when
    /// the body is already valid UTF-8 (most JSON answers).
    pub fn text(&self) -> Cow<'_, str> {
        let content_type = self.header_text("content-type");
        decode_text(&self.body, content_type.as_deref())
    }
}

/// Decodes `body` by the `charset` parameter of `content_type` (UTF-8 when
/// there is none or it is unknown; a byte-order mark wins). Invalid bytes
/// become U+FFFD.
pub fn decode_text<'a>(body: &'a [u8], content_type: Option<&str>) -> Cow<'a, str> {
    let encoding = match content_type.and_then(charset_of) {
        None => UTF_8,
        Some(label) if label.eq_ignore_ascii_case("utf-8") => UTF_8,
        Some(label) => Encoding::for_label(label.as_bytes()).unwrap_or(UTF_8),
    };
    encoding.decode(body).0
}

fn charset_of(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
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
