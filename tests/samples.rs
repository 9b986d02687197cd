//! Keeps the 1C samples (`1c-samples/`) in step with the add-in and with the
//! integration guide they answer (`../shared/webhooks-guide-ru.md`).
//!
//! Convention: in every `.bsl` file, and in the `bsl` code blocks of
//! `1c-samples/README.md`, the add-in object lives in a variable or parameter
//! named `Компонента`. Every `Компонента.<Name>` is an add-in member use: a
//! method call when `(` follows, a property write when the line starts with
//! `Компонента.<Name> =`, a property read otherwise. Each use must be in the
//! add-in's member table (`webhook1c::addin`, both languages, any case) with
//! the right access and arity. The convention itself is checked too: a
//! `Новый("AddIn.…")` or the result of a function that returns `Компонента`
//! assigned to another name, the object handed to a parameter with another
//! name, or no uses found at all, fail the test.

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use support::bsl::{call_args, fold, lex, Kind, Tok};
use webhook1c::addin::members::ParamDefault;
use webhook1c::addin::{find_method, find_property, methods, properties, Method};

/// The variable that holds the add-in object.
const OBJECT: &str = "Компонента";

// ---- files -------------------------------------------------------------------

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("1c-samples")
}

fn bsl_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.expect("directory entry").path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "bsl") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&samples_dir(), &mut files);
    assert!(
        files.len() >= 10,
        "expected the modules and examples under {}, found {files:?}",
        samples_dir().display()
    );
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read_text(path: &Path) -> String {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let text =
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", path.display()));
    text.trim_start_matches('\u{feff}').to_string()
}

/// A source: a `.bsl` file or a `bsl` block of the README.
struct Source {
    name: String,
    /// The module name other code calls it by (the file stem).
    module: String,
    text: String,
    tokens: Vec<Tok>,
}

impl Source {
    fn new(name: String, module: String, text: String) -> Source {
        let tokens = lex(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        Source {
            name,
            module,
            text,
            tokens,
        }
    }

    /// Tokens without comments.
    fn code(&self) -> Vec<&Tok> {
        self.tokens
            .iter()
            .filter(|t| t.kind != Kind::Comment)
            .collect()
    }
}

fn bsl_sources() -> Vec<Source> {
    bsl_files()
        .iter()
        .map(|path| {
            let module = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Source::new(relative(path), module, read_text(path))
        })
        .collect()
}

fn readme_path() -> PathBuf {
    samples_dir().join("README.md")
}

/// The fenced code blocks of a Markdown text with the given info strings.
fn code_blocks(markdown: &str, langs: &[&str]) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (n, line) in markdown.lines().enumerate() {
        let trimmed = line.trim();
        match &mut current {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    if langs.contains(&info.trim()) {
                        current = Some((n + 1, String::new()));
                    }
                }
            }
            Some((_, text)) => {
                if trimmed == "```" {
                    blocks.extend(current.take());
                } else {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    blocks
}

fn readme_sources() -> Vec<Source> {
    let readme = read_text(&readme_path());
    code_blocks(&readme, &["bsl", "1c"])
        .into_iter()
        .map(|(line, text)| {
            Source::new(format!("1c-samples/README.md:{line}"), String::new(), text)
        })
        .collect()
}

// ---- declarations --------------------------------------------------------------

const DECLARATION: &[&str] = &["Процедура", "Функция", "Procedure", "Function"];
const END: &[&str] = &[
    "КонецПроцедуры",
    "КонецФункции",
    "EndProcedure",
    "EndFunction",
];
const FUNCTION: &[&str] = &["Функция", "Function"];
const EXPORT: &[&str] = &["Экспорт", "Export"];
const AWAIT: &[&str] = &["Ждать", "Await"];
const NEW: &[&str] = &["Новый", "New"];

struct Declaration {
    name: String,
    is_function: bool,
    exported: bool,
    params: Vec<String>,
    /// How many parameters come first without a default value.
    required: usize,
    /// Line of the declaration (its `Асинх` when there is one).
    line: usize,
    /// Index range of its tokens in the comment-free token list.
    body: std::ops::Range<usize>,
}

fn declarations(code: &[&Tok]) -> Vec<Declaration> {
    let mut found = Vec::new();
    let mut k = 0;
    while k < code.len() {
        if !(code[k].is_any_ident(DECLARATION)
            && code.get(k + 1).is_some_and(|t| t.kind == Kind::Ident)
            && code.get(k + 2).is_some_and(|t| t.is_punct("(")))
        {
            k += 1;
            continue;
        }
        let args = call_args(code, k + 2);
        let params = args
            .iter()
            .filter_map(|arg| {
                arg.iter()
                    .find(|t| t.kind == Kind::Ident && !t.is_any_ident(&["Знач", "Val"]))
                    .map(|t| t.text.clone())
            })
            .collect();
        let required = args
            .iter()
            .take_while(|arg| !arg.is_empty() && !arg.iter().any(|t| t.is_punct("=")))
            .count();
        let mut close = k + 2;
        let mut depth = 0;
        while close < code.len() {
            if code[close].is_punct("(") {
                depth += 1;
            } else if code[close].is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            close += 1;
        }
        let exported = code.get(close + 1).is_some_and(|t| t.is_any_ident(EXPORT));
        let end = (close..code.len())
            .find(|&j| code[j].is_any_ident(END))
            .unwrap_or(code.len());
        let line = if k > 0 && code[k - 1].is_any_ident(&["Асинх", "Async"]) {
            code[k - 1].line
        } else {
            code[k].line
        };
        found.push(Declaration {
            name: code[k + 1].text.clone(),
            is_function: code[k].is_any_ident(FUNCTION),
            exported,
            params,
            required,
            line,
            body: close..end,
        });
        k = end.max(k + 1);
    }
    found
}

// ---- add-in member uses ----------------------------------------------------------

#[derive(Debug)]
struct Use {
    at: String,
    name: String,
    /// `Some(arguments present)` for a call.
    args: Option<Vec<bool>>,
    write: bool,
    /// Right after `Ждать`.
    awaited: bool,
}

fn member_uses(source: &Source) -> Vec<Use> {
    let code = source.code();
    let mut uses = Vec::new();
    for k in 0..code.len() {
        if !code[k].is_ident(OBJECT)
            || (k > 0 && code[k - 1].is_punct("."))
            || !code.get(k + 1).is_some_and(|t| t.is_punct("."))
            || !code.get(k + 2).is_some_and(|t| t.kind == Kind::Ident)
        {
            continue;
        }
        let next = code.get(k + 3);
        let args = next.filter(|t| t.is_punct("(")).map(|_| {
            call_args(&code, k + 3)
                .iter()
                .map(|a| !a.is_empty())
                .collect()
        });
        let write =
            args.is_none() && code[k].first_on_line && next.is_some_and(|t| t.is_punct("="));
        uses.push(Use {
            at: format!("{}:{}", source.name, code[k].line),
            name: code[k + 2].text.clone(),
            args,
            write,
            awaited: k > 0 && code[k - 1].is_any_ident(AWAIT),
        });
    }
    uses
}

fn strip_prefix_ci<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let count = prefix.chars().count();
    let split = name.char_indices().nth(count).map(|(i, _)| i)?;
    (fold(&name[..split]) == fold(prefix)).then(|| &name[split..])
}

fn strip_suffix_ci<'a>(name: &'a str, suffix: &str) -> Option<&'a str> {
    let total = name.chars().count();
    let keep = total
        .checked_sub(suffix.chars().count())
        .filter(|&k| k > 0)?;
    let split = name.char_indices().nth(keep).map(|(i, _)| i)?;
    (fold(&name[split..]) == fold(suffix)).then(|| &name[..split])
}

fn check_arity(method: &Method, args: &[bool], skip: usize) -> Result<(), String> {
    let args = args.get(skip..).unwrap_or_default();
    if args.len() > method.params.len() {
        return Err(format!(
            "{} arguments, {} / {} takes at most {}",
            args.len(),
            method.en,
            method.ru,
            method.params.len()
        ));
    }
    for (i, param) in method.params.iter().enumerate() {
        if param.default.is_none() && !args.get(i).copied().unwrap_or(false) {
            return Err(format!(
                "the required parameter {} ({}) of {} is missing",
                param.ru, param.en, method.ru
            ));
        }
    }
    Ok(())
}

/// The canonical English name of the member a use refers to, or why it is wrong.
fn resolve(u: &Use) -> Result<String, String> {
    let readable = |name: &str| {
        find_property(name)
            .map(|i| &properties()[i])
            .filter(|p| p.get.is_some())
    };
    let writable = |name: &str| {
        find_property(name)
            .map(|i| &properties()[i])
            .filter(|p| p.set.is_some())
    };
    let Some(args) = &u.args else {
        let Some(i) = find_property(&u.name) else {
            return Err(match find_method(&u.name) {
                Some(_) => format!("{} is a method of the add-in, used without ()", u.name),
                None => format!("{} is not a property of the add-in", u.name),
            });
        };
        let p = &properties()[i];
        return match (u.write, p.get.is_some(), p.set.is_some()) {
            (true, _, false) => Err(format!("{} ({}) is read-only", p.ru, p.en)),
            (false, false, _) => Err(format!("{} ({}) is write-only", p.ru, p.en)),
            _ => Ok(p.en.to_string()),
        };
    };
    if let Some(i) = find_method(&u.name) {
        let m = methods()[i];
        return check_arity(m, args, 0).map(|()| m.en.to_string());
    }
    // The platform's asynchronous forms of add-in members (8.3.18+ promises,
    // and the older callback forms).
    for suffix in ["Асинх", "Async"] {
        if let Some(base) = strip_suffix_ci(&u.name, suffix) {
            if let Some(i) = find_method(base) {
                let m = methods()[i];
                return check_arity(m, args, 0).map(|()| m.en.to_string());
            }
            for (prefix, write) in [
                ("Получить", false),
                ("Get", false),
                ("Установить", true),
                ("Set", true),
            ] {
                if let Some(property) = strip_prefix_ci(base, prefix) {
                    let found = if write {
                        writable(property)
                    } else {
                        readable(property)
                    };
                    if let Some(p) = found {
                        return Ok(p.en.to_string());
                    }
                }
            }
        }
    }
    for prefix in ["НачатьВызов", "BeginCalling"] {
        if let Some(i) = strip_prefix_ci(&u.name, prefix).and_then(find_method) {
            let m = methods()[i];
            return check_arity(m, args, 1).map(|()| m.en.to_string());
        }
    }
    for (prefix, write) in [
        ("НачатьПолучение", false),
        ("BeginGetting", false),
        ("НачатьУстановку", true),
        ("BeginSetting", true),
    ] {
        if let Some(property) = strip_prefix_ci(&u.name, prefix) {
            let found = if write {
                writable(property)
            } else {
                readable(property)
            };
            if let Some(p) = found {
                return Ok(p.en.to_string());
            }
        }
    }
    Err(match find_property(&u.name) {
        Some(_) => format!(
            "{} is a property of the add-in, called like a method",
            u.name
        ),
        None => format!("{} is not a method of the add-in", u.name),
    })
}

fn all_sources() -> Vec<Source> {
    let mut sources = bsl_sources();
    sources.extend(readme_sources());
    sources
}

#[test]
fn every_addin_member_the_samples_use_is_in_the_table() {
    let sources = all_sources();
    let mut errors = Vec::new();
    let mut used = BTreeSet::new();
    let mut count = 0;
    for source in &sources {
        for u in member_uses(source) {
            count += 1;
            match resolve(&u) {
                Ok(en) => {
                    used.insert(en);
                }
                Err(why) => errors.push(format!("{}: {OBJECT}.{}: {why}", u.at, u.name)),
            }
        }
    }
    assert!(
        errors.is_empty(),
        "add-in member uses not in the table:\n{}",
        errors.join("\n")
    );
    assert!(
        count > 0,
        "no `{OBJECT}.<member>` uses found: the convention is broken"
    );

    // The module must keep reaching the add-in through the convention: if the
    // variable were renamed, these would silently drop out of the check.
    let expected = [
        "PostJson",
        "Post",
        "Request",
        "Enqueue",
        "MessageStatus",
        "QueueStatus",
        "WaitForDelivery",
        "GetResponseBinary",
        "StatusCode",
        "ResponseHeaders",
        "ErrorText",
        "Configure",
    ];
    let missing: Vec<&str> = expected
        .iter()
        .copied()
        .filter(|m| !used.contains(*m))
        .collect();
    assert!(
        missing.is_empty(),
        "the samples no longer use these add-in members through `{OBJECT}`: {missing:?} (found {used:?})"
    );
}

/// Every break of the `Компонента` convention in `sources`.
fn convention_violations(sources: &[Source]) -> Vec<String> {
    let codes: Vec<Vec<&Tok>> = sources.iter().map(Source::code).collect();
    let all_decls: Vec<Vec<Declaration>> = codes.iter().map(|c| declarations(c)).collect();
    let mut errors = Vec::new();

    // Functions that hand the object out: `Возврат Компонента;` in their body.
    let returners = object_returners(sources);

    // `Компонента = [Ждать] <expr>` where the statement starts at `start`.
    let assigned_to_object = |code: &[&Tok], start: usize| {
        let mut k = start;
        if k > 0 && code[k - 1].is_any_ident(AWAIT) {
            k -= 1;
        }
        k >= 2
            && code[k - 1].is_punct("=")
            && code[k - 2].is_ident(OBJECT)
            && code[k - 2].first_on_line
    };

    for ((source, code), decls) in sources.iter().zip(&codes).zip(&all_decls) {
        for (k, tok) in code.iter().enumerate() {
            let at = format!("{}:{}", source.name, tok.line);
            // 1. Новый("AddIn.…") only as `Компонента = Новый("AddIn.…")`.
            if tok.kind == Kind::Str && fold(&tok.text).starts_with("addin.") {
                let constructed =
                    k >= 2 && code[k - 1].is_punct("(") && code[k - 2].is_any_ident(NEW);
                if !(constructed && assigned_to_object(code, k - 2)) {
                    errors.push(format!(
                        "{at}: \"{}\" must appear only as `{OBJECT} = Новый(\"{}\")`",
                        tok.text, tok.text
                    ));
                }
            }
            // 2. The result of a function that returns the object goes to `Компонента`.
            if tok.kind == Kind::Ident
                && returners.contains(&fold(&tok.text))
                && code.get(k + 1).is_some_and(|t| t.is_punct("("))
                && !(k > 0 && code[k - 1].is_any_ident(DECLARATION))
            {
                let start = if k >= 2 && code[k - 1].is_punct(".") {
                    k - 2
                } else {
                    k
                };
                if !assigned_to_object(code, start) {
                    errors.push(format!(
                        "{at}: the result of {} must be assigned to `{OBJECT}`",
                        tok.text
                    ));
                }
            }
            // 3. No other variable takes the object: `Другая = Компонента;`.
            if tok.is_ident(OBJECT)
                && k >= 2
                && code[k - 1].is_punct("=")
                && code[k - 2].kind == Kind::Ident
                && code[k - 2].first_on_line
                && !code[k - 2].is_ident(OBJECT)
                && code.get(k + 1).is_some_and(|t| t.is_punct(";"))
            {
                errors.push(format!(
                    "{at}: {} = {OBJECT}: keep the add-in object in `{OBJECT}`",
                    code[k - 2].text
                ));
            }
            // 4. Passed to a procedure of the samples: its parameter is `Компонента` too.
            if tok.kind == Kind::Ident
                && code.get(k + 1).is_some_and(|t| t.is_punct("("))
                && !(k > 0 && code[k - 1].is_any_ident(DECLARATION))
            {
                let args = call_args(code, k + 1);
                let qualifier =
                    (k >= 2 && code[k - 1].is_punct(".")).then(|| fold(&code[k - 2].text));
                let callee: Option<&Declaration> = match &qualifier {
                    None => decls.iter().find(|d| fold(&d.name) == fold(&tok.text)),
                    Some(module) => sources
                        .iter()
                        .zip(&all_decls)
                        .find(|(s, _)| fold(&s.module) == *module)
                        .and_then(|(_, ds)| {
                            ds.iter()
                                .find(|d| d.exported && fold(&d.name) == fold(&tok.text))
                        }),
                };
                for (i, arg) in args.iter().enumerate() {
                    if arg.len() == 1 && arg[0].is_ident(OBJECT) {
                        if let Some(d) = callee {
                            if d.params.get(i).is_none_or(|p| fold(p) != fold(OBJECT)) {
                                errors.push(format!(
                                    "{at}: `{OBJECT}` passed to {} as parameter {:?}: name that parameter `{OBJECT}`",
                                    d.name,
                                    d.params.get(i)
                                ));
                            }
                        }
                    }
                }
            }
        }
    }
    errors
}

/// Names of the functions that hand the add-in object out.
fn object_returners(sources: &[Source]) -> BTreeSet<String> {
    let mut returners = BTreeSet::new();
    for source in sources {
        let code = source.code();
        for d in declarations(&code) {
            let returns_object = code[d.body.clone()].windows(3).any(|w| {
                w[0].is_any_ident(&["Возврат", "Return"])
                    && w[1].is_ident(OBJECT)
                    && w[2].is_punct(";")
            });
            if returns_object {
                returners.insert(fold(&d.name));
            }
        }
    }
    returners
}

#[test]
fn the_addin_object_always_lives_in_a_variable_named_komponenta() {
    let sources = all_sources();
    assert!(
        !object_returners(&sources).is_empty(),
        "no function returns `{OBJECT}`: the modules no longer hand the object out by the convention"
    );
    let errors = convention_violations(&sources);
    assert!(
        errors.is_empty(),
        "the `{OBJECT}` convention is broken:\n{}",
        errors.join("\n")
    );
}

// ---- files: encoding, headers, standards ------------------------------------------

#[test]
fn every_bsl_file_starts_with_a_bom_and_uses_crlf() {
    let mut errors = Vec::new();
    for path in bsl_files() {
        let bytes = fs::read(&path).expect("read");
        let name = relative(&path);
        if !bytes.starts_with(b"\xef\xbb\xbf") {
            errors.push(format!("{name}: does not start with a UTF-8 BOM"));
        }
        if std::str::from_utf8(&bytes).is_err() {
            errors.push(format!("{name}: not UTF-8"));
        }
        let lone_lf = bytes
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
            .count();
        let lone_cr = bytes
            .iter()
            .enumerate()
            .filter(|&(i, &b)| b == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
            .count();
        if lone_lf > 0 || lone_cr > 0 {
            errors.push(format!(
                "{name}: line breaks must all be CRLF ({lone_lf} bare LF, {lone_cr} bare CR)"
            ));
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

fn region_stack_at(tokens: &[Tok], line: usize) -> Vec<String> {
    let mut stack = Vec::new();
    for t in tokens
        .iter()
        .filter(|t| t.kind == Kind::Directive && t.line < line)
    {
        let words: Vec<&str> = t.text.trim_start_matches('#').split_whitespace().collect();
        match words.first().map(|w| fold(w)) {
            Some(w) if w == "область" || w == "region" => {
                stack.push(words.get(1).copied().unwrap_or_default().to_string())
            }
            Some(w) if w == "конецобласти" || w == "endregion" => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack
}

#[test]
fn modules_and_examples_follow_the_1c_standards() {
    let mut errors = Vec::new();
    for source in bsl_sources() {
        let lines: Vec<&str> = source.text.lines().collect();
        let is_module = source.name.contains("ОбщиеМодули");
        let first = lines.first().map(|l| l.trim()).unwrap_or_default();
        if !first.starts_with("//") {
            errors.push(format!("{}: starts without a comment header", source.name));
        }
        if !is_module && !source.text.contains("Где разместить") {
            errors.push(format!(
                "{}: the header does not say where it goes («Где разместить»)",
                source.name
            ));
        }
        let code = source.code();
        let decls = declarations(&code);
        if is_module {
            for region in ["ПрограммныйИнтерфейс", "СлужебныеПроцедурыИФункции"]
            {
                if !source.tokens.iter().any(|t| {
                    t.kind == Kind::Directive && t.text.split_whitespace().nth(1) == Some(region)
                }) {
                    errors.push(format!("{}: no #Область {region}", source.name));
                }
            }
        }
        for d in &decls {
            let at = format!("{}:{} {}", source.name, d.line, d.name);
            // Subregions (#Область МетодыHTTP inside ПрограммныйИнтерфейс) are
            // fine: what counts is the top-level region the method is in.
            let stack = region_stack_at(&source.tokens, d.line);
            let region = stack.first().map(String::as_str).unwrap_or_default();
            if d.exported
                && !["ПрограммныйИнтерфейс", "СлужебныйПрограммныйИнтерфейс"].contains(&region)
            {
                errors.push(format!(
                    "{at}: exported outside #Область ПрограммныйИнтерфейс (in {region:?})"
                ));
            }
            if is_module && !d.exported && region != "СлужебныеПроцедурыИФункции"
            {
                errors.push(format!(
                    "{at}: private method outside #Область СлужебныеПроцедурыИФункции"
                ));
            }
            if !d.exported {
                continue;
            }
            // The standard comment block right above (annotations may sit between).
            let mut k = d.line - 1;
            while k > 0 && lines[k - 1].trim_start().starts_with('&') {
                k -= 1;
            }
            let mut block = Vec::new();
            while k > 0 && lines[k - 1].trim_start().starts_with("//") {
                block.push(lines[k - 1].trim());
                k -= 1;
            }
            block.reverse();
            let described = block
                .first()
                .is_some_and(|l| l.trim_start_matches('/').trim().len() > 3);
            if !described {
                errors.push(format!("{at}: exported without a description comment"));
                continue;
            }
            if !d.params.is_empty() && !block.contains(&"// Параметры:") {
                errors.push(format!("{at}: the comment has no «Параметры:» section"));
            }
            for p in &d.params {
                let documented = block.iter().any(|l| {
                    l.trim_start_matches('/')
                        .trim_start()
                        .starts_with(&format!("{p} -"))
                });
                if !documented {
                    errors.push(format!("{at}: parameter {p} is not described"));
                }
            }
            if d.is_function && !block.contains(&"// Возвращаемое значение:") {
                errors.push(format!(
                    "{at}: the comment has no «Возвращаемое значение:» section"
                ));
            }
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

// ---- the integration guide ----------------------------------------------------------

fn guide_path() -> PathBuf {
    std::env::var_os("WEBHOOK1C_GUIDE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/webhooks-guide-ru.md")
        })
}

/// Every example of the guide appears in the samples token for token (comments
/// included), with only `УИ_КоннекторHTTP` replaced by `Вебхуки`. Two blocks
/// of the guide's «Способ 1» are not module examples: the inline HTTPСоединение
/// function is replaced by the queue, and of its scheduled procedure
/// (`Выполнить` is a reserved word) the body is checked.
#[test]
fn guide_examples_run_unchanged_but_for_the_module_name() {
    let path = guide_path();
    let Ok(guide) = fs::read_to_string(&path) else {
        eprintln!(
            "skipped: the integration guide is not at {} (set WEBHOOK1C_GUIDE)",
            path.display()
        );
        return;
    };
    let samples = bsl_sources();
    let blocks = code_blocks(&guide, &["1c", "bsl"]);
    assert!(
        blocks.len() >= 10,
        "expected the guide's examples, found {} blocks",
        blocks.len()
    );
    let mut errors = Vec::new();
    let mut checked = 0;
    for (line, text) in blocks {
        let mut tokens = lex(&text).unwrap_or_else(|e| panic!("guide line {line}: {e}"));
        if tokens.iter().any(|t| t.is_ident("HTTPСоединение")) {
            continue;
        }
        for t in &mut tokens {
            if t.is_ident("УИ_КоннекторHTTP") {
                t.text = "Вебхуки".to_string();
            }
        }
        if tokens.len() > 2 && tokens[0].is_ident("Процедура") && tokens[1].is_ident("Выполнить")
        {
            let close = tokens.iter().position(|t| t.is_punct(")")).unwrap_or(0);
            let end = tokens
                .iter()
                .rposition(|t| t.is_ident("КонецПроцедуры"))
                .unwrap_or(tokens.len());
            tokens = tokens[close + 1..end].to_vec();
        }
        checked += 1;
        let found = samples.iter().any(|s| {
            s.tokens.len() >= tokens.len()
                && s.tokens
                    .windows(tokens.len())
                    .any(|w| w.iter().zip(&tokens).all(|(a, b)| a.same(b)))
        });
        if !found {
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or_default();
            errors.push(format!(
                "guide line {line}: `{}` is not in 1c-samples as written",
                first.trim()
            ));
        }
    }
    assert!(checked >= 10, "only {checked} guide examples checked");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

// ---- the КоннекторHTTP compatibility table ------------------------------------------

/// The exported functions of КоннекторHTTP 2.6.0's programming interface
/// (src/ru/CommonModules/КоннекторHTTP in vbondarevsky/Connector; its
/// service callbacks ПреобразованиеJson, ВосстановлениеJson, ЧислоИзСтроки
/// and ДатаИзСтроки* left out).
const CONNECTOR_FUNCTIONS: [&str; 36] = [
    "Get",
    "GetJson",
    "Options",
    "Head",
    "Post",
    "Put",
    "Patch",
    "Delete",
    "Mkcol",
    "ВызватьМетод",
    "PostJson",
    "PutJson",
    "DeleteJson",
    "НовыеПараметры",
    "НовыйОтправляемыйФайл",
    "СоздатьСессию",
    "НовыйОтвет",
    "НоваяАутентификацияОС",
    "НоваяАутентификацияBasic",
    "НоваяАутентификацияDigest",
    "НоваяАутентификацияBearer",
    "НоваяАутентификацияAWS4",
    "КакJson",
    "КакТекст",
    "КакДвоичныеДанные",
    "КакXDTO",
    "КакИсключение",
    "РазобратьURL",
    "ОбъектВJson",
    "JsonВОбъект",
    "HMAC",
    "КодыСостоянияHTTP",
    "ПредставлениеКодаСостоянияHTTP",
    "ПрочитатьGZip",
    "ЗаписатьGZip",
    "ПодготовитьЗапрос",
];

/// The keys of its НовыеПараметры() and ПараметрыЗаписиJSON from their
/// description.
const CONNECTOR_KEYS: [&str; 18] = [
    "Заголовки",
    "Аутентификация",
    "Прокси",
    "ПараметрыЗапроса",
    "ПроверятьSSL",
    "КлиентскийСертификатSSL",
    "Cookies",
    "Таймаут",
    "РазрешитьПеренаправление",
    "Json",
    "ПараметрыПреобразованияJSON",
    "ПараметрыЗаписиJSON",
    "Данные",
    "Файлы",
    "МаксимальноеКоличествоПовторов",
    "МаксимальноеВремяПовторов",
    "КоэффициентЭкспоненциальнойЗадержки",
    "ПовторятьДляКодовСостояний",
];

/// The rows of the README table whose first header cell is `first`: the
/// names in backticks of the first cell (a `(…)` after a name dropped) and
/// the verdict.
fn compatibility_rows(readme: &str, first: &str) -> Vec<(Vec<String>, String)> {
    let mut rows = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        if !line.starts_with('|') {
            inside = false;
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        if cells.first() == Some(&first) {
            inside = true;
            continue;
        }
        if !inside || cells[0].starts_with("---") {
            continue;
        }
        let names = cells[0]
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|span| span.chars().next().is_some_and(char::is_alphabetic))
            .map(|span| {
                span.split('(')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_string()
            })
            .collect();
        rows.push((names, cells.get(1).copied().unwrap_or_default().to_string()));
    }
    rows
}

#[test]
fn the_compatibility_table_has_one_row_per_connector_name_and_true_totals() {
    let readme = read_text(&readme_path());
    let mut errors = Vec::new();
    let mut totals = Vec::new();
    for (header, all) in [
        ("Функция КоннекторHTTP", &CONNECTOR_FUNCTIONS[..]),
        ("Ключ `НовыеПараметры()`", &CONNECTOR_KEYS[..]),
    ] {
        let rows = compatibility_rows(&readme, header);
        let listed: Vec<&String> = rows.iter().flat_map(|(names, _)| names).collect();
        for name in all {
            let times = listed.iter().filter(|n| n.as_str() == *name).count();
            if times != 1 {
                errors.push(format!("{header}: {name} is listed {times} times"));
            }
        }
        for name in &listed {
            if !all.contains(&name.as_str()) {
                errors.push(format!("{header}: {name} is not КоннекторHTTP's"));
            }
        }
        for verdict in ["да", "иначе", "нет"] {
            let n: usize = rows
                .iter()
                .filter(|(_, v)| v == verdict)
                .map(|(names, _)| names.len())
                .sum();
            totals.push(format!("{verdict} — {n}"));
        }
        if rows
            .iter()
            .any(|(_, v)| !["да", "иначе", "нет"].contains(&v.as_str()))
        {
            errors.push(format!("{header}: a verdict other than да / иначе / нет"));
        }
    }
    let summary = readme
        .split_once("Итого: ")
        .map(|(_, rest)| {
            rest.split("\n\n")
                .next()
                .unwrap_or_default()
                .replace('\n', " ")
        })
        .unwrap_or_default();
    let (functions, keys) = (totals[..3].join(", "), totals[3..].join(", "));
    if !summary.contains(&functions) || !summary.contains(&keys) {
        errors.push(format!(
            "the totals must read {functions} (functions) and {keys} (keys): {summary}"
        ));
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

// ---- calls between the common modules ---------------------------------------------

/// Every `<Module>.<Function>(…)` naming one of the samples' common modules
/// calls a function that module exports, with no more arguments than it
/// takes and every parameter without a default given.
fn module_call_errors(sources: &[Source]) -> Vec<String> {
    let modules: Vec<(String, Vec<Declaration>)> = sources
        .iter()
        .filter(|s| s.name.contains("ОбщиеМодули"))
        .map(|s| (s.module.clone(), declarations(&s.code())))
        .collect();
    let mut errors = Vec::new();
    for source in sources {
        let code = source.code();
        for k in 0..code.len() {
            let Some((module, decls)) = modules.iter().find(|(m, _)| code[k].is_ident(m)) else {
                continue;
            };
            if !(code.get(k + 1).is_some_and(|t| t.is_punct("."))
                && code.get(k + 2).is_some_and(|t| t.kind == Kind::Ident)
                && code.get(k + 3).is_some_and(|t| t.is_punct("(")))
            {
                continue;
            }
            let name = &code[k + 2].text;
            let at = format!("{}:{} {module}.{name}", source.name, code[k].line);
            let Some(d) = decls
                .iter()
                .find(|d| fold(&d.name) == fold(name) && d.exported)
            else {
                errors.push(format!("{at}: no such exported function"));
                continue;
            };
            let args = call_args(&code, k + 3);
            let given: Vec<bool> = if args.len() == 1 && args[0].is_empty() {
                Vec::new()
            } else {
                args.iter().map(|a| !a.is_empty()).collect()
            };
            if given.len() > d.params.len() {
                errors.push(format!(
                    "{at}: {} arguments, takes {}",
                    given.len(),
                    d.params.len()
                ));
            } else if (0..d.required).any(|i| !given.get(i).copied().unwrap_or(false)) {
                errors.push(format!("{at}: a parameter without a default is missing"));
            }
        }
    }
    errors
}

#[test]
fn calls_between_the_modules_name_exported_functions() {
    let errors = module_call_errors(&all_sources());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn the_module_call_check_catches_what_it_should() {
    let module = Source::new(
        "1c-samples/ОбщиеМодули/Вебхуки.bsl".into(),
        "Вебхуки".into(),
        "Функция Post(URL, Данные = Неопределено) Экспорт\nКонецФункции\n\
         Функция Скрытая() \nКонецФункции"
            .into(),
    );
    let caller = |text: &str| {
        let sources = vec![
            Source::new(
                module.name.clone(),
                module.module.clone(),
                module.text.clone(),
            ),
            Source::new("t.bsl".into(), "Т".into(), text.into()),
        ];
        module_call_errors(&sources)
    };
    assert!(
        caller("Процедура П()\nО = Вебхуки.Post(1);\nО = Вебхуки.Post(1, 2);\nКонецПроцедуры")
            .is_empty()
    );
    for bad in [
        "Процедура П()\nО = Вебхуки.Нет(1);\nКонецПроцедуры",
        "Процедура П()\nО = Вебхуки.Скрытая();\nКонецПроцедуры",
        "Процедура П()\nО = Вебхуки.Post(1, 2, 3);\nКонецПроцедуры",
        "Процедура П()\nО = Вебхуки.Post();\nКонецПроцедуры",
        "Процедура П()\nО = Вебхуки.Post(, 2);\nКонецПроцедуры",
    ] {
        assert_eq!(caller(bad).len(), 1, "{bad}");
    }
}

// ---- settings, client context, platform minimum ------------------------------------

/// The string keys of `Параметры.Вставить("<key>", …)` in the body of
/// `НовыеПараметрыЗапроса` of ВебхукиКлиентСервер.
fn request_parameter_keys() -> Vec<String> {
    let source = bsl_sources()
        .into_iter()
        .find(|s| s.module == "ВебхукиКлиентСервер")
        .expect("ВебхукиКлиентСервер.bsl");
    let code = source.code();
    let start = code
        .iter()
        .position(|t| t.is_ident("НовыеПараметрыЗапроса"))
        .expect("НовыеПараметрыЗапроса");
    let mut keys = Vec::new();
    for k in start..code.len() {
        if code[k].is_ident("КонецФункции") {
            break;
        }
        if code[k].is_ident("Вставить") && code.get(k + 2).is_some_and(|t| t.kind == Kind::Str)
        {
            keys.push(code[k + 2].text.clone());
        }
    }
    keys
}

/// The modules set the object's properties with one `Настроить` call whose
/// JSON keys are the request parameters' keys (and Пользователь / Пароль
/// from Аутентификация): each must be a writable property of the add-in, and
/// every setting the modules offered before Configure existed still is.
#[test]
fn request_parameters_name_writable_properties_of_the_addin() {
    let keys = request_parameter_keys();
    assert!(keys.len() > 10, "{keys:?}");
    let per_call = [
        "Заголовки",
        "Аутентификация",
        "ПараметрыЗапроса",
        "Файлы",
        "Данные",
        "Json",
        "Cookies",
    ];
    let mut errors = Vec::new();
    let mut set = BTreeSet::new();
    let settings = keys
        .iter()
        .map(String::as_str)
        .filter(|k| !per_call.contains(k))
        .chain(["Пользователь", "Пароль", "ТипАутентификации"]);
    for key in settings {
        match find_property(key).map(|i| &properties()[i]) {
            Some(p) if p.set.is_some() && p.ru == key => {
                set.insert(p.en);
            }
            _ => errors.push(format!(
                "parameter key {key}: not the Russian name of a writable property"
            )),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    for en in [
        "User",
        "Password",
        "Timeout",
        "ConnectTimeout",
        "VerifySSL",
        "AllowRedirects",
        "Proxy",
        "TrustedCertificates",
        "ClientCertificate",
        "MaxResponseSize",
        "RetryCount",
        "RetryDelay",
        "RetrySchedule",
        "SigningSecret",
        "LogFile",
        "QueueDirectory",
        "AuthType",
    ] {
        assert!(set.contains(en), "no request parameter sets {en}: {set:?}");
    }
}

/// Client code never blocks the form: in the client module and in managed
/// form code (`&НаКлиенте`), every use of the add-in object is an awaited
/// asynchronous twin, `Ждать Компонента.<Member>Асинх(…)`; a synchronous
/// method call, property read or property write is an error.
fn blocking_client_uses(source: &Source) -> Vec<String> {
    member_uses(source)
        .into_iter()
        .filter(|u| !(u.args.is_some() && u.awaited && strip_suffix_ci(&u.name, "Асинх").is_some()))
        .map(|u| {
            format!(
                "{}: {OBJECT}.{} in client code is not `Ждать {OBJECT}.<…>Асинх(…)`",
                u.at, u.name
            )
        })
        .collect()
}

fn is_client_code(source: &Source) -> bool {
    source.module == "ВебхукиКлиент" || source.text.contains("&НаКлиенте")
}

#[test]
fn client_code_awaits_every_call_of_the_addin() {
    let sources: Vec<Source> = bsl_sources().into_iter().filter(is_client_code).collect();
    assert!(
        sources.iter().any(|s| s.module == "ВебхукиКлиент"),
        "the client module is missing"
    );
    let errors: Vec<String> = sources.iter().flat_map(blocking_client_uses).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The shared module compiles on the client too: it holds no add-in call.
    let shared = bsl_sources()
        .into_iter()
        .find(|s| s.module == "ВебхукиКлиентСервер")
        .expect("ВебхукиКлиентСервер.bsl");
    assert!(
        member_uses(&shared).is_empty(),
        "ВебхукиКлиентСервер calls the add-in"
    );
}

#[test]
fn the_client_check_catches_blocking_calls() {
    let check = |text: &str| {
        let source = Source::new("t.bsl".into(), "ВебхукиКлиент".into(), text.into());
        blocking_client_uses(&source)
    };
    let fine = "Асинх Процедура П(Компонента)\nР = Ждать Компонента.ОтправитьJsonАсинх(1, 2);\n\
                К = Ждать Компонента.ПолучитьКодСостоянияАсинх();\nКонецПроцедуры";
    assert!(check(fine).is_empty(), "{:?}", check(fine));
    for bad in [
        "Процедура П(Компонента)\nР = Компонента.ОтправитьJson(1, 2);\nКонецПроцедуры",
        "Процедура П(Компонента)\nР = Компонента.ОтправитьJsonАсинх(1, 2);\nКонецПроцедуры",
        "Процедура П(Компонента)\nР = Компонента.КодСостояния;\nКонецПроцедуры",
        "Процедура П(Компонента)\nКомпонента.Таймаут = 5;\nКонецПроцедуры",
        "Асинх Процедура П(Компонента)\nР = Ждать Компонента.ОтправитьJson(1, 2);\nКонецПроцедуры",
    ] {
        assert_eq!(check(bad).len(), 1, "{bad}");
    }
}

/// The modules state 8.3.18 as their minimum platform. What 8.3.19–8.3.21
/// added may appear only inside a string evaluated by `Вычислить` after a
/// version check (ВебхукиКлиентСервер.ЕстьТипПодключения), where 8.3.18's
/// compiler does not see it: no identifier from this list in code, and no
/// attach call with a fourth (connection type) argument.
const NEWER_THAN_MINIMUM: &[(&str, &str)] = &[
    // 8.3.21: the attach type of ПодключитьВнешнююКомпоненту[Асинх].
    ("ТипПодключенияВнешнейКомпоненты", "8.3.21"),
    ("ExternalComponentConnectionType", "8.3.21"),
];
const ATTACH: &[&str] = &[
    "ПодключитьВнешнююКомпоненту",
    "ПодключитьВнешнююКомпонентуАсинх",
    "AttachAddIn",
    "AttachAddInAsync",
];

fn newer_constructs(source: &Source) -> Vec<String> {
    let code = source.code();
    let mut errors = Vec::new();
    for (k, tok) in code.iter().enumerate() {
        let at = format!("{}:{}", source.name, tok.line);
        if let Some((name, version)) = NEWER_THAN_MINIMUM.iter().find(|(n, _)| tok.is_ident(n)) {
            errors.push(format!(
                "{at}: {name} needs {version}; use it only inside Вычислить"
            ));
        }
        if tok.is_any_ident(ATTACH) && code.get(k + 1).is_some_and(|t| t.is_punct("(")) {
            let args = call_args(&code, k + 1);
            if args.len() > 3 {
                errors.push(format!(
                    "{at}: {} with a fourth parameter needs 8.3.21; use it only inside Вычислить",
                    tok.text
                ));
            }
        }
    }
    errors
}

#[test]
fn nothing_newer_than_the_stated_minimum_platform_is_compiled() {
    let mut sources = bsl_sources();
    sources.extend(readme_sources());
    let errors: Vec<String> = sources.iter().flat_map(newer_constructs).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    // The docs state the same minimum.
    let readme = read_text(&readme_path());
    assert!(
        readme.contains("8.3.18"),
        "1c-samples/README.md does not state 8.3.18"
    );
}

#[test]
fn the_platform_check_catches_newer_constructs() {
    let check =
        |text: &str| newer_constructs(&Source::new("t.bsl".into(), "М".into(), text.into()));
    let fine = "Процедура П()\nП = ПодключитьВнешнююКомпоненту(М, И, ТипВнешнейКомпоненты.Native);\n\
                П = Вычислить(\"ПодключитьВнешнююКомпоненту(М, И, Т, ТипПодключенияВнешнейКомпоненты.НеИзолированно)\");\n\
                КонецПроцедуры";
    assert!(check(fine).is_empty(), "{:?}", check(fine));
    let bad = "Асинх Процедура П()\nП = Ждать ПодключитьВнешнююКомпонентуАсинх(М, И, Т, Тип);\n\
               Т = ТипПодключенияВнешнейКомпоненты.Изолированно;\nКонецПроцедуры";
    assert_eq!(check(bad).len(), 2, "{:?}", check(bad));
}

// ---- the README tables -----------------------------------------------------------------

fn param_list(method: &Method) -> String {
    if method.params.is_empty() {
        return "—".to_string();
    }
    method
        .params
        .iter()
        .map(|p| match p.default {
            None => p.ru.to_string(),
            Some(ParamDefault::Number(n)) => format!("[{} = {n}]", p.ru),
            Some(ParamDefault::Str(s)) if !s.is_empty() => format!("[{} = \"{s}\"]", p.ru),
            Some(_) => format!("[{}]", p.ru),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rows of the README table whose header's third column is `third`:
/// the cells of each row, backticks removed.
fn readme_table(readme: &str, third: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            inside = false;
            continue;
        }
        let cells: Vec<String> = line
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().replace('`', ""))
            .collect();
        if cells.first().is_some_and(|c| c == "Русское имя") {
            inside = cells.get(2).is_some_and(|c| c == third);
            continue;
        }
        if inside
            && !cells
                .iter()
                .all(|c| c.chars().all(|ch| ch == '-' || ch == ':'))
        {
            rows.push(cells);
        }
    }
    rows
}

/// Debug builds add `Debug…` members for the C host's boundary tests; they
/// are not part of the product and not in the README.
fn product_methods() -> Vec<&'static Method> {
    methods()
        .iter()
        .copied()
        .filter(|m| !m.en.starts_with("Debug"))
        .collect()
}

#[test]
fn readme_tables_list_every_member_of_the_addin() {
    let readme = read_text(&readme_path());
    let mut errors = Vec::new();

    let rows = readme_table(&readme, "Тип");
    let expected: Vec<(String, String, String)> = properties()
        .iter()
        .map(|p| {
            let access = match (p.get.is_some(), p.set.is_some()) {
                (true, true) => "чтение и запись",
                (true, false) => "только чтение",
                _ => "только запись",
            };
            (p.ru.to_string(), p.en.to_string(), access.to_string())
        })
        .collect();
    let found: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let cell = |i: usize| r.get(i).cloned().unwrap_or_default();
            (cell(0), cell(1), cell(3))
        })
        .collect();
    if found != expected {
        errors.push(format!(
            "the properties table (Русское имя | English | Тип | Доступ | …) must list, in this order:\n{}\nfound:\n{}",
            expected.iter().map(|e| format!("  {} | {} | … | {}", e.0, e.1, e.2)).collect::<Vec<_>>().join("\n"),
            found.iter().map(|e| format!("  {} | {} | … | {}", e.0, e.1, e.2)).collect::<Vec<_>>().join("\n"),
        ));
    }

    let rows = readme_table(&readme, "Параметры");
    let expected: Vec<(String, String, String, bool)> = product_methods()
        .iter()
        .map(|m| (m.ru.to_string(), m.en.to_string(), param_list(m), m.returns))
        .collect();
    let found: Vec<(String, String, String, bool)> = rows
        .iter()
        .map(|r| {
            let cell = |i: usize| r.get(i).cloned().unwrap_or_default();
            (cell(0), cell(1), cell(2), cell(3) != "—")
        })
        .collect();
    if found != expected {
        errors.push(format!(
            "the methods table (Русское имя | English | Параметры | Возвращает | …) must list, in this order:\n{}\nfound:\n{}",
            expected.iter().map(|e| format!("  {} | {} | {} | returns: {}", e.0, e.1, e.2, e.3)).collect::<Vec<_>>().join("\n"),
            found.iter().map(|e| format!("  {} | {} | {} | returns: {}", e.0, e.1, e.2, e.3)).collect::<Vec<_>>().join("\n"),
        ));
    }
    assert!(errors.is_empty(), "{}", errors.join("\n\n"));
}

// ---- the checks themselves ---------------------------------------------------------------

fn uses_of(text: &str) -> Vec<Result<String, String>> {
    let source = Source::new("test".into(), String::new(), text.into());
    member_uses(&source).iter().map(resolve).collect()
}

#[test]
fn the_member_check_catches_what_it_should() {
    let ok = |r: &Result<String, String>| r.as_ref().ok().cloned();
    // Both languages, any case, calls, reads and writes.
    let found = uses_of(
        "Компонента.таймаут = 5;\nА = Компонента.StatusCode;\nКомпонента.ОТПРАВИТЬJSON(URL, \"{}\");\n\
         Б = Компонента.ПоставитьВОчередь(URL, Json, , Ид);\nВ = Ждать Компонента.ОтправитьJsonАсинх(URL, Json);\n\
         Ждать Компонента.УстановитьТаймаутАсинх(5);",
    );
    assert_eq!(
        found.iter().map(ok).collect::<Vec<_>>(),
        [
            "Timeout",
            "StatusCode",
            "PostJson",
            "Enqueue",
            "PostJson",
            "Timeout"
        ]
        .map(|s| Some(s.to_string()))
    );
    // Unknown names, wrong access, wrong arity, methods used as properties.
    for bad in [
        "Компонента.НетТакого();",
        "Компонента.НетТакого = 1;",
        "А = Компонента.Пароль;",
        "Компонента.КодСостояния = 200;",
        "Компонента.ОтправитьJson(URL);",
        "Компонента.ОтправитьJson(URL, Json, З, Лишний);",
        "Компонента.ПоставитьВОчередь(, Json);",
        "А = Компонента.ОтправитьJson;",
        "Компонента.Таймаут(5);",
    ] {
        let results = uses_of(bad);
        assert_eq!(results.len(), 1, "{bad}");
        assert!(results[0].is_err(), "{bad}: {:?}", results[0]);
    }
    // A condition is a read, not a write.
    assert_eq!(
        uses_of("Если Компонента.КодСостояния = 200 Тогда\nКонецЕсли;")[0],
        Ok("StatusCode".to_string())
    );
}

#[test]
fn the_lexer_reads_strings_comments_and_multiline_literals() {
    let tokens = lex("А = \"a\"\"b\r\n\t|c\"; // note\r\nБ = '20240131';").expect("lex");
    let texts: Vec<(Kind, &str)> = tokens.iter().map(|t| (t.kind, t.text.as_str())).collect();
    assert_eq!(
        texts,
        [
            (Kind::Ident, "А"),
            (Kind::Punct, "="),
            (Kind::Str, "a\"b\nc"),
            (Kind::Punct, ";"),
            (Kind::Comment, "// note"),
            (Kind::Ident, "Б"),
            (Kind::Punct, "="),
            (Kind::Date, "'20240131'"),
            (Kind::Punct, ";"),
        ]
    );
    assert!(tokens[5].first_on_line && !tokens[1].first_on_line);
    assert_eq!(tokens[5].line, 3);
    assert!(lex("А = \"a\nb\";").is_err(), "a continuation line needs |");
}

#[test]
fn the_convention_check_rejects_another_variable() {
    // Assembled here rather than read from files: the broken patterns the
    // convention test must refuse.
    let broken = [
        "Процедура П()\nОбъект = Новый(\"AddIn.Webhook1C.Client\");\nКонецПроцедуры",
        "Функция НоваяКомпонента()\nКомпонента = Новый(\"AddIn.Webhook1C.Client\");\nВозврат Компонента;\nКонецФункции\n\
         Процедура П()\nКлиент = НоваяКомпонента();\nКонецПроцедуры",
        "Процедура П()\nКомпонента = Новый(\"AddIn.Webhook1C.Client\");\nКлиент = Компонента;\nКонецПроцедуры",
        "Процедура Настроить(Клиент)\nКонецПроцедуры\nПроцедура П()\nКомпонента = Новый(\"AddIn.Webhook1C.Client\");\n\
         Настроить(Компонента);\nКонецПроцедуры",
    ];
    for text in broken {
        let errors = convention_errors(text);
        assert!(!errors.is_empty(), "not caught:\n{text}");
    }
    let fine = "Функция НоваяКомпонента()\nКомпонента = Новый(\"AddIn.Webhook1C.Client\");\nВозврат Компонента;\nКонецФункции\n\
                Процедура Настроить(Компонента)\nКонецПроцедуры\n\
                Асинх Процедура П()\nКомпонента = Ждать НоваяКомпонента();\nНастроить(Компонента);\nКонецПроцедуры";
    assert_eq!(convention_errors(fine), Vec::<String>::new());
}

/// The convention checks of one text, for the self-test above.
fn convention_errors(text: &str) -> Vec<String> {
    convention_violations(&[Source::new("self-test".into(), String::new(), text.into())])
}
