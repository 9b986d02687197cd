//! UTF-16 text as the host speaks it: checked decoding (a lone surrogate is
//! an error the user sees, never silently replaced), encoding, and the case
//! folding used for name lookup.

/// Decodes UTF-16, or returns the index (in code units) of the first lone
/// surrogate: [`decode_to_utf8`] as a `String`.
pub fn decode(units: &[u16]) -> Result<String, usize> {
    decode_to_utf8(units).map(into_string)
}

/// Decodes UTF-16 into UTF-8 bytes, or returns the index (in code units)
/// of the first lone surrogate. For text passed on as bytes (a request
/// body), which needs no `String` and so no second pass to prove what this
/// already guarantees.
///
/// One pass, written into a buffer by index. ASCII (URLs, member names, the
/// keys and figures of JSON) is narrowed four units at a time in a 64-bit
/// word, which needs no auto-vectoriser: this crate is built at opt-level
/// "s", where LLVM vectorises no loops and leaves `Vec::extend_from_slice`
/// a call (see Cargo.toml). The buffer starts at one byte a unit, exact for
/// ASCII; at the first other unit it grows to three bytes a unit for the
/// rest (the most a unit takes), and gives back the spare room when it came
/// out much shorter, so the capacity stays within twice the length.
pub fn decode_to_utf8(units: &[u16]) -> Result<Vec<u8>, usize> {
    let mut out = vec![0u8; units.len()];
    let mut n = 0;
    let mut i = 0;
    loop {
        while let (Some(block), Some(to)) = (units.get(i..i + 4), out.get_mut(n..n + 4)) {
            let word = word(block);
            if word & NOT_ASCII != 0 {
                break;
            }
            to.copy_from_slice(&narrow(word));
            i += 4;
            n += 4;
        }
        let Some(&unit) = units.get(i) else {
            break;
        };
        if unit < 0x80 {
            out[n] = unit as u8;
            n += 1;
            i += 1;
            continue;
        }
        if out.len() == units.len() {
            // The first unit that is not ASCII (the buffer has not grown:
            // n <= i makes the grown length longer than units.len()).
            out.resize(n + 3 * (units.len() - i), 0);
        }
        if unit <= 0x7FF {
            // Two bytes: Cyrillic, most of the rest of 1C's text.
            out[n] = 0xC0 | (unit >> 6) as u8;
            out[n + 1] = 0x80 | (unit & 0x3F) as u8;
            n += 2;
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
        n += c.encode_utf8(&mut out[n..]).len();
        i += width;
    }
    out.truncate(n);
    if out.capacity() > 2 * n {
        out.shrink_to_fit();
    }
    Ok(out)
}

/// The bits that are set in a word of four UTF-16 units when any of them is
/// not ASCII.
const NOT_ASCII: u64 = 0xFF80_FF80_FF80_FF80;

/// Four units as one little-endian word (the compiler loads it at once).
fn word(block: &[u16]) -> u64 {
    u64::from(block[0])
        | u64::from(block[1]) << 16
        | u64::from(block[2]) << 32
        | u64::from(block[3]) << 48
}

/// The low bytes of a word of four ASCII units, in order.
fn narrow(word: u64) -> [u8; 4] {
    let pairs = (word | word >> 8) & 0x0000_FFFF_0000_FFFF;
    ((pairs | pairs >> 16) as u32).to_le_bytes()
}

/// Valid by construction (every unit went through `decode_to_utf8`'s match); the
/// check is one fast pass that keeps this free of `unsafe`. Were it ever to
/// fail, the bytes are still the host's text: replace, never drop.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Encodes `text` as UTF-16 without a terminator.
///
/// ASCII (most answers 1C reads) is widened in one pass over its bytes
/// (a 1.4 KB answer in 0.4 us at this crate's opt-level, three times as
/// fast as `str::encode_utf16`); other text is allocated once, for the most
/// units it can need (one per byte), and gives back the spare room when it
/// came out much shorter (Cyrillic: two bytes a unit).
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
        assert_eq!(decoded, mixed);
        assert!(decoded.capacity() <= 2 * decoded.len());
        let ascii = decode(&encode("{\"event\":\"order.created\"}")).unwrap();
        assert_eq!(ascii.capacity(), ascii.len());
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
                None => {
                    let decoded = decode(&units).unwrap();
                    assert_eq!(decoded, expected);
                    assert!(decoded.capacity() <= 2 * decoded.len());
                }
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
