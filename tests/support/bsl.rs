//! A small lexer for 1C:Enterprise (BSL) code, enough for the checks of
//! `tests/samples.rs`: identifiers, numbers, strings (with `""` escapes and
//! `|` continuation lines), date literals, punctuation, comments,
//! preprocessor directives and annotations, each with its line.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    Str,
    Date,
    Punct,
    Comment,
    Directive,
    Annotation,
}

#[derive(Clone, Debug)]
pub struct Tok {
    pub kind: Kind,
    /// Identifiers and punctuation as written; strings unescaped, with the
    /// `|` margin of continuation lines removed; comments trimmed.
    pub text: String,
    pub line: usize,
    pub first_on_line: bool,
}

impl Tok {
    pub fn is_ident(&self, name: &str) -> bool {
        self.kind == Kind::Ident && fold(&self.text) == fold(name)
    }

    pub fn is_any_ident(&self, names: &[&str]) -> bool {
        names.iter().any(|n| self.is_ident(n))
    }

    pub fn is_punct(&self, p: &str) -> bool {
        self.kind == Kind::Punct && self.text == p
    }

    /// Same token for the guide comparison: identifiers ignore case (as 1C
    /// does), everything else is compared as is.
    pub fn same(&self, other: &Tok) -> bool {
        self.kind == other.kind
            && if self.kind == Kind::Ident {
                fold(&self.text) == fold(&other.text)
            } else {
                self.text == other.text
            }
    }
}

pub fn fold(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

pub fn lex(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let n = chars.len();
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let mut line_has_token = false;
    while i < n {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            line_has_token = false;
            i += 1;
            continue;
        }
        if c.is_whitespace() || c == '\u{feff}' {
            i += 1;
            continue;
        }
        let first_on_line = !line_has_token;
        line_has_token = true;
        let start_line = line;
        let start = i;
        let rest_of_line = |i: usize| {
            let mut j = i;
            while j < n && chars[j] != '\n' {
                j += 1;
            }
            j
        };
        let (kind, text) = if c == '/' && at(i + 1) == '/' {
            let end = rest_of_line(i);
            let text: String = chars[i..end].iter().collect();
            i = end;
            (Kind::Comment, text.trim().to_string())
        } else if c == '"' {
            let mut text = String::new();
            i += 1;
            loop {
                if i >= n {
                    return Err(format!("line {start_line}: unterminated string"));
                }
                let ch = chars[i];
                if ch == '"' {
                    if at(i + 1) == '"' {
                        text.push('"');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                if ch == '\r' {
                    i += 1;
                    continue;
                }
                if ch == '\n' {
                    // A multi-line string: the next line continues after its `|`
                    // (lines starting with `//` in between are comments).
                    text.push('\n');
                    line += 1;
                    i += 1;
                    loop {
                        while i < n && (chars[i] == ' ' || chars[i] == '\t' || chars[i] == '\r') {
                            i += 1;
                        }
                        if at(i) == '|' {
                            i += 1;
                            break;
                        }
                        if at(i) == '/' && at(i + 1) == '/' {
                            i = rest_of_line(i) + 1;
                            line += 1;
                            continue;
                        }
                        return Err(format!(
                            "line {line}: a string continues on a line without `|`"
                        ));
                    }
                    continue;
                }
                text.push(ch);
                i += 1;
            }
            (Kind::Str, text)
        } else if c == '\'' {
            i += 1;
            while i < n && chars[i] != '\'' && chars[i] != '\n' {
                i += 1;
            }
            if at(i) != '\'' {
                return Err(format!("line {start_line}: unterminated date literal"));
            }
            i += 1;
            (Kind::Date, chars[start..i].iter().collect())
        } else if c.is_ascii_digit() {
            while i < n && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            (Kind::Number, chars[start..i].iter().collect())
        } else if c.is_alphabetic() || c == '_' {
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            (Kind::Ident, chars[start..i].iter().collect())
        } else if c == '#' && first_on_line {
            let end = rest_of_line(i);
            let text: String = chars[i..end].iter().collect();
            i = end;
            (Kind::Directive, text.trim().to_string())
        } else if c == '&' {
            i += 1;
            while i < n && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            (Kind::Annotation, chars[start..i].iter().collect())
        } else {
            let two: String = chars[i..(i + 2).min(n)].iter().collect();
            if ["<>", "<=", ">="].contains(&two.as_str()) {
                i += 2;
                (Kind::Punct, two)
            } else {
                i += 1;
                (Kind::Punct, c.to_string())
            }
        };
        tokens.push(Tok {
            kind,
            text,
            line: start_line,
            first_on_line,
        });
    }
    Ok(tokens)
}

/// Arguments of the call whose `(` is at `open`: for each argument, its
/// tokens (empty when skipped). `()` has no arguments.
pub fn call_args<'a>(code: &[&'a Tok], open: usize) -> Vec<Vec<&'a Tok>> {
    let mut args = vec![Vec::new()];
    let mut depth = 0;
    for tok in &code[open..] {
        if tok.is_punct("(") || tok.is_punct("[") {
            depth += 1;
            if depth == 1 {
                continue;
            }
        } else if tok.is_punct(")") || tok.is_punct("]") {
            depth -= 1;
            if depth == 0 {
                break;
            }
        } else if depth == 1 && tok.is_punct(",") {
            args.push(Vec::new());
            continue;
        }
        if let Some(last) = args.last_mut() {
            last.push(*tok);
        }
    }
    if args.len() == 1 && args[0].is_empty() {
        args.clear();
    }
    args
}
