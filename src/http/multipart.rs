//! `multipart/form-data` bodies (RFC 7578): text fields and files, encoded
//! once into one buffer, so every retry and every signature sees the same
//! bytes.

use bytes::Bytes;
use ring::rand::{SecureRandom, SystemRandom};

/// One part of a form: a text field, or a file with its name and type.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Part {
    name: String,
    file: Option<FileInfo>,
    data: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct FileInfo {
    file_name: String,
    content_type: String,
}

/// The type of a file part whose type was not given.
pub const DEFAULT_FILE_TYPE: &str = "application/octet-stream";

/// A form being filled in, part by part, in the order they will be sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Form {
    parts: Vec<Part>,
}

impl Form {
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// A text field, sent as UTF-8 without a Content-Type of its own.
    pub fn field(&mut self, name: &str, value: &str) {
        self.parts.push(Part {
            name: name.to_string(),
            file: None,
            data: value.as_bytes().to_vec(),
        });
    }

    /// A file: `content_type` "" sends [`DEFAULT_FILE_TYPE`].
    pub fn file(&mut self, name: &str, file_name: &str, data: Vec<u8>, content_type: &str) {
        let content_type = match content_type.trim() {
            "" => DEFAULT_FILE_TYPE.to_string(),
            given => given.to_string(),
        };
        self.parts.push(Part {
            name: name.to_string(),
            file: Some(FileInfo {
                file_name: file_name.to_string(),
                content_type,
            }),
            data,
        });
    }

    /// The Content-Type header (with a boundary that occurs in no part) and
    /// the body.
    pub fn encode(&self) -> (String, Bytes) {
        let mut boundary = new_boundary();
        while self
            .parts
            .iter()
            .any(|p| contains(&p.data, boundary.as_bytes()))
        {
            boundary = new_boundary();
        }
        (
            format!("multipart/form-data; boundary={boundary}"),
            self.encode_with(&boundary),
        )
    }

    fn encode_with(&self, boundary: &str) -> Bytes {
        let size: usize = self.parts.iter().map(|p| p.data.len() + 200).sum();
        let mut out = Vec::with_capacity(size + boundary.len() + 8);
        for part in &self.parts {
            out.extend_from_slice(b"--");
            out.extend_from_slice(boundary.as_bytes());
            out.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
            out.extend_from_slice(quoted(&part.name).as_bytes());
            out.push(b'"');
            if let Some(file) = &part.file {
                out.extend_from_slice(b"; filename=\"");
                out.extend_from_slice(quoted(&file.file_name).as_bytes());
                out.extend_from_slice(b"\"\r\nContent-Type: ");
                out.extend_from_slice(single_line(&file.content_type).as_bytes());
            }
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(&part.data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"--");
        out.extend_from_slice(boundary.as_bytes());
        out.extend_from_slice(b"--\r\n");
        Bytes::from(out)
    }
}

/// A name inside the quotes of Content-Disposition, escaped the way
/// browsers do it (the HTML standard's form encoding): `"` as `%22`, CR as
/// `%0D`, LF as `%0A`; other characters, Cyrillic included, as UTF-8.
fn quoted(name: &str) -> String {
    name.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A header value that cannot break out of its line.
fn single_line(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// `----Webhook1C` and 24 random letters and digits.
fn new_boundary() -> String {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut random = [0u8; 24];
    if SystemRandom::new().fill(&mut random).is_err() {
        // No OS randomness: the time still differs between forms, and
        // `encode` checks that no part contains the boundary.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        for (i, b) in random.iter_mut().enumerate() {
            *b = (nanos >> ((i % 16) * 8)) as u8 ^ i as u8;
        }
    }
    let tail: String = random
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("----Webhook1C{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_files_are_encoded_in_order() {
        let mut form = Form::default();
        form.field("chat_id", "42");
        form.field("подпись", "Счёт №1");
        form.file("document", "счёт.pdf", vec![0, 255, b'\r', b'\n'], "");
        form.file("photo", "a\"b\r\n.png", b"png".to_vec(), "image/png");
        let body = form.encode_with("B");
        let expected = [
            "--B\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n",
            "--B\r\nContent-Disposition: form-data; name=\"подпись\"\r\n\r\nСчёт №1\r\n",
            "--B\r\nContent-Disposition: form-data; name=\"document\"; filename=\"счёт.pdf\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n",
        ]
        .concat();
        let mut want = expected.into_bytes();
        want.extend_from_slice(&[0, 255, b'\r', b'\n']);
        want.extend_from_slice(
            b"\r\n--B\r\nContent-Disposition: form-data; name=\"photo\"; \
              filename=\"a%22b%0D%0A.png\"\r\nContent-Type: image/png\r\n\r\npng\r\n--B--\r\n",
        );
        assert_eq!(body.as_ref(), want.as_slice());
    }

    #[test]
    fn the_boundary_is_random_and_absent_from_every_part() {
        let mut form = Form::default();
        form.field("a", "1");
        let (first, body) = form.encode();
        let (second, _) = form.encode();
        assert_ne!(first, second);
        let boundary = first
            .strip_prefix("multipart/form-data; boundary=")
            .expect("the type names the boundary");
        assert_eq!(boundary.len(), "----Webhook1C".len() + 24);
        assert!(body.ends_with(format!("--{boundary}--\r\n").as_bytes()));
        assert!(
            !Form::default().encode().1.is_empty(),
            "an empty form still closes"
        );
    }
}
