//! UTF-16 text as the host speaks it: checked decoding (a lone surrogate is
//! an error the user sees, never silently replaced), encoding, and the case
//! folding used for name lookup.

/// Decodes UTF-16, or returns the index (in code units) of the first lone
/// surrogate.
///
/// Text that is all ASCII (most JSON, URLs and member names 1C passes) is
/// narrowed in two vectorised passes. Anything else goes in one pass into
/// a buffer of the exact UTF-8 length: runs of ASCII (JSON with Cyrillic
/// values in between) are copied as bytes, the rest is encoded a character
/// at a time.
pub fn decode(units: &[u16]) -> Result<String, usize> {
    // An OR over every unit, without an early exit, is one vector loop.
    if units.iter().fold(0, |acc, &u| acc | u) < 0x80 {
        let ascii: Vec<u8> = units.iter().map(|&u| u as u8).collect();
        // ASCII is UTF-8; the check is one fast pass and keeps this safe.
        return Ok(String::from_utf8(ascii)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()));
    }
    let mut out = Vec::with_capacity(utf8_len(units));
    let mut i = 0;
    while let Some(&unit) = units.get(i) {
        if unit < 0x80 {
            // Sixteen units at a time while all are ASCII (the test and the
            // narrowing vectorise), then one at a time.
            let mut rest = &units[i..];
            while let Some((chunk, tail)) = rest.split_first_chunk::<16>() {
                if chunk.iter().fold(0, |acc, &u| acc | u) >= 0x80 {
                    break;
                }
                out.extend(chunk.iter().map(|&u| u as u8));
                rest = tail;
            }
            let ascii = rest.iter().take_while(|&&u| u < 0x80).count();
            out.extend(rest[..ascii].iter().map(|&u| u as u8));
            i = units.len() - rest.len() + ascii;
            continue;
        }
        if unit <= 0x7FF {
            // Two bytes: Cyrillic, most of the rest of 1C's text.
            out.extend_from_slice(&[0xC0 | (unit >> 6) as u8, 0x80 | (unit & 0x3F) as u8]);
            i += 1;
            continue;
        }
        let (code, width) = match unit {
            0xD800..=0xDBFF => match units.get(i + 1) {
                Some(&low @ 0xDC00..=0xDFFF) => (
                    0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00),
                    2,
                ),
                _ => return Err(i),
            },
            0xDC00..=0xDFFF => return Err(i),
            _ => (u32::from(unit), 1),
        };
        let c = char::from_u32(code).ok_or(i)?;
        out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        i += width;
    }
    // Valid by construction (every unit above went through the match); the
    // check is one fast pass that keeps this free of `unsafe`. Were it ever
    // to fail, the bytes are still the host's text: replace, never drop.
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

/// The UTF-8 length of well-formed UTF-16 (a surrogate pair's 4 bytes count
/// 2 per unit), so the string is allocated once.
fn utf8_len(units: &[u16]) -> usize {
    units
        .iter()
        .map(|&u| match u {
            0..=0x7F => 1,
            0x80..=0x7FF | 0xD800..=0xDFFF => 2,
            _ => 3,
        })
        .sum()
}

/// Encodes `text` as UTF-16 without a terminator.
pub fn encode(text: &str) -> Vec<u16> {
    text.encode_utf16().collect()
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
    fn decode_agrees_with_the_standard_decoder() {
        // Random units biased to ASCII runs, Cyrillic and surrogates.
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let units: Vec<u16> = (0..next() % 40)
                .map(|_| match next() % 8 {
                    0..=3 => (next() % 0x80) as u16,
                    4 => 0x0410 + (next() % 0x40) as u16,
                    5 => 0xD800 + (next() % 0x800) as u16,
                    _ => next() as u16,
                })
                .collect();
            let mut expected = String::new();
            let mut lone = None;
            let mut index = 0;
            for unit in char::decode_utf16(units.iter().copied()) {
                match unit {
                    Ok(c) => {
                        expected.push(c);
                        index += c.len_utf16();
                    }
                    Err(_) => {
                        lone = Some(index);
                        break;
                    }
                }
            }
            match lone {
                Some(at) => assert_eq!(decode(&units), Err(at), "{units:x?}"),
                None => assert_eq!(decode(&units).as_deref(), Ok(expected.as_str())),
            }
        }
    }

    #[test]
    fn fold_is_case_insensitive_for_cyrillic() {
        assert_eq!(fold("ОтправитьJson"), fold("ОТПРАВИТЬJSON"));
        assert_eq!(fold("ЁЛКА"), "ёлка");
    }
}
