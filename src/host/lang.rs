//! The language of the texts we show to the 1C user.

/// Language of error texts: Russian when the host says so, else English.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    /// Reads a locale (`ru_RU`, `rus_RUS`, `ru-RU`) or an interface language
    /// code (`ru`, `en`) as the host passes it.
    pub fn from_code(code: &str) -> Lang {
        let code = code.trim().to_ascii_lowercase();
        let primary = code.split(['_', '-', '.']).next().unwrap_or("");
        match primary {
            "ru" | "rus" | "russian" => Lang::Ru,
            _ => Lang::En,
        }
    }

    /// Picks the English or the Russian text.
    pub fn pick<'a>(self, en: &'a str, ru: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Ru => ru,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Lang;

    #[test]
    fn reads_locales_and_codes() {
        for ru in ["ru", "RU", "ru_RU", "rus_RUS", "ru-RU", "ru_RU.UTF-8"] {
            assert_eq!(Lang::from_code(ru), Lang::Ru, "{ru}");
        }
        for en in ["en", "en_US", "eng_USA", "", "uk", "de_DE"] {
            assert_eq!(Lang::from_code(en), Lang::En, "{en}");
        }
    }
}
