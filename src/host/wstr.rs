//! UTF-16 text as the host speaks it: checked decoding (a lone surrogate is
//! an error the user sees, never silently replaced), encoding with a NUL, and
//! the case folding used for name lookup.

/// Decodes UTF-16, or returns the index (in code units) of the first lone
/// surrogate.
pub fn decode(units: &[u16]) -> Result<String, usize> {
    // Most of what 1C passes (JSON, URLs, member names) is ASCII: one byte
    // per unit, no surrogates to pair.
    if units.iter().all(|&u| u < 0x80) {
        return Ok(units.iter().map(|&u| char::from(u as u8)).collect());
    }
    // The exact UTF-8 length, so the string is allocated once (a surrogate
    // pair's 4 bytes count 2 per unit).
    let bytes = units
        .iter()
        .map(|&u| match u {
            0..=0x7F => 1,
            0x80..=0x7FF | 0xD800..=0xDFFF => 2,
            _ => 3,
        })
        .sum();
    let mut out = String::with_capacity(bytes);
    let mut index = 0;
    for unit in char::decode_utf16(units.iter().copied()) {
        match unit {
            Ok(c) => {
                out.push(c);
                index += c.len_utf16();
            }
            Err(_) => return Err(index),
        }
    }
    Ok(out)
}

/// Encodes `text` as UTF-16 without a terminator.
pub fn encode(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
}

/// Encodes `text` as UTF-16 followed by one NUL unit, for host calls that
/// take C strings.
pub fn encode_nul(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// The form names are compared in: 1C identifiers are case-insensitive,
/// Cyrillic included.
pub fn fold(name: &str) -> String {
    name.chars().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reports_lone_surrogates() {
        assert_eq!(decode(&encode("Привет 😀")).unwrap(), "Привет 😀");
        assert_eq!(decode(&encode("{\"ascii\":1}")).unwrap(), "{\"ascii\":1}");
        assert_eq!(decode(&[]).unwrap(), "");
        let mixed = "a\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}z";
        let decoded = decode(&encode(mixed)).unwrap();
        assert_eq!((decoded.as_str(), decoded.capacity()), (mixed, mixed.len()));
        assert_eq!(decode(&[0x41, 0xD800, 0x42]), Err(1));
        assert_eq!(decode(&[0x41, 0x42, 0xDC00]), Err(2));
        let emoji = encode("😀");
        assert_eq!(decode(&[emoji[0], emoji[1], 0xD800]), Err(2));
    }

    #[test]
    fn fold_is_case_insensitive_for_cyrillic() {
        assert_eq!(fold("ОтправитьJson"), fold("ОТПРАВИТЬJSON"));
        assert_eq!(fold("ЁЛКА"), "ёлка");
        assert_eq!(encode_nul("ab"), vec![0x61, 0x62, 0]);
    }
}
