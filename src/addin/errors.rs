//! Everything a call can fail with, and its text in English and Russian.
//! The component prefixes the member name and reports the text through
//! AddError; ErrorText holds the same text.

use crate::host::Lang;
use crate::http::{self, ConnectCause, Setting, TimeoutPhase, TlsCause};

/// A parameter or property, named in both languages for error texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    pub en: &'static str,
    pub ru: &'static str,
    pub property: bool,
}

impl Target {
    pub const fn param(en: &'static str, ru: &'static str) -> Target {
        Target {
            en,
            ru,
            property: false,
        }
    }

    pub const fn property(en: &'static str, ru: &'static str) -> Target {
        Target {
            en,
            ru,
            property: true,
        }
    }

    fn describe(&self, lang: Lang) -> String {
        match (lang, self.property) {
            (Lang::En, false) => format!("parameter {}", self.en),
            (Lang::En, true) => format!("property {}", self.en),
            (Lang::Ru, false) => format!("параметр {}", self.ru),
            (Lang::Ru, true) => format!("свойство {}", self.ru),
        }
    }
}

/// The 1C type a value must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    Str,
    Number,
    Bool,
    StrOrBlob,
    StrBlobOrUndefined,
}

impl Expected {
    fn text(self, lang: Lang) -> &'static str {
        match self {
            Expected::Str => lang.pick("a String", "строкой (Строка)"),
            Expected::Number => lang.pick("a Number", "числом (Число)"),
            Expected::Bool => lang.pick("a Boolean", "булевым значением (Булево)"),
            Expected::StrOrBlob => lang.pick(
                "a String or BinaryData",
                "строкой или двоичными данными (Строка, ДвоичныеДанные)",
            ),
            Expected::StrBlobOrUndefined => lang.pick(
                "a String, BinaryData or Undefined",
                "строкой, двоичными данными или Неопределено",
            ),
        }
    }
}

/// Why a call, property read or property write failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CallError {
    /// A value of the wrong 1C type.
    WrongType {
        target: Target,
        expected: Expected,
        got_en: &'static str,
        got_ru: &'static str,
    },
    /// A String with an unpaired UTF-16 surrogate, which no encoding can send.
    LoneSurrogate {
        target: Target,
        position: usize,
    },
    /// Text that must be JSON is not.
    InvalidJson {
        target: Target,
        line: usize,
        column: usize,
        detail: String,
    },
    /// JSON that must be an object of header names to values is not.
    HeadersNotObject {
        target: Target,
    },
    /// A header's JSON value is an object, array or null.
    HeaderValueType {
        target: Target,
        name: String,
    },
    /// A number below zero where only zero or more makes sense.
    Negative {
        target: Target,
    },
    /// A number that is not finite or too large.
    OutOfRange {
        target: Target,
    },
    /// RetrySchedule is empty or malformed.
    InvalidSchedule {
        target: Target,
    },
    /// SigningSecret has `whsec_` but no valid base64 after it.
    InvalidSecret {
        target: Target,
    },
    /// The HTTP core failed.
    Http(http::Error),
    /// The delivery queue failed.
    Queue(crate::queue::QueueError),
    /// A result too large to hand to the host (more than 4 GiB).
    ResultTooLarge,
    /// The host gave no memory manager, so no string can be returned.
    NoMemoryManager,
    /// The member number the host passed does not exist.
    NoSuchMember,
    /// A property is read-only / write-only.
    NotWritable,
    NotReadable,
    /// A bug: a panic caught at the boundary.
    Internal(String),
}

impl From<http::Error> for CallError {
    fn from(e: http::Error) -> Self {
        CallError::Http(e)
    }
}

impl CallError {
    /// The parameter or property the error is about, if it names one.
    pub fn target(&self) -> Option<Target> {
        match self {
            CallError::WrongType { target, .. }
            | CallError::LoneSurrogate { target, .. }
            | CallError::InvalidJson { target, .. }
            | CallError::HeadersNotObject { target }
            | CallError::HeaderValueType { target, .. }
            | CallError::Negative { target }
            | CallError::OutOfRange { target }
            | CallError::InvalidSchedule { target }
            | CallError::InvalidSecret { target } => Some(*target),
            _ => None,
        }
    }

    /// The text shown to the 1C user.
    pub fn text(&self, lang: Lang) -> String {
        match self {
            CallError::WrongType { target, expected, got_en, got_ru } => match lang {
                Lang::En => format!(
                    "{} must be {}, not {}",
                    target.describe(lang),
                    expected.text(lang),
                    got_en
                ),
                Lang::Ru => format!(
                    "{} должен быть {}, а передано значение типа {}",
                    target.describe(lang),
                    expected.text(lang),
                    got_ru
                ),
            },
            CallError::LoneSurrogate { target, position } => match lang {
                Lang::En => format!(
                    "{} contains an invalid character (an unpaired UTF-16 surrogate) at position {}",
                    target.describe(lang),
                    position + 1
                ),
                Lang::Ru => format!(
                    "{} содержит недопустимый символ (непарный суррогат UTF-16) в позиции {}",
                    target.describe(lang),
                    position + 1
                ),
            },
            CallError::InvalidJson { target, line, column, detail } => match lang {
                Lang::En => format!(
                    "{} is not valid JSON: {} at line {}, column {}; nothing was sent",
                    target.describe(lang),
                    detail,
                    line,
                    column
                ),
                Lang::Ru => format!(
                    "{} содержит некорректный JSON: {} (строка {}, колонка {}); ничего не отправлено",
                    target.describe(lang),
                    detail,
                    line,
                    column
                ),
            },
            CallError::HeadersNotObject { target } => match lang {
                Lang::En => format!(
                    "{} must be a JSON object of header names and values, e.g. {{\"X-Token\": \"abc\"}}",
                    target.describe(lang)
                ),
                Lang::Ru => format!(
                    "{} должен быть JSON-объектом «имя заголовка: значение», например {{\"X-Token\": \"abc\"}}",
                    target.describe(lang)
                ),
            },
            CallError::HeaderValueType { target, name } => match lang {
                Lang::En => format!(
                    "{}: the value of header \"{}\" must be a string, number or boolean",
                    target.describe(lang),
                    name
                ),
                Lang::Ru => format!(
                    "{}: значение заголовка \"{}\" должно быть строкой, числом или булевым",
                    target.describe(lang),
                    name
                ),
            },
            CallError::Negative { target } => match lang {
                Lang::En => format!("{} cannot be negative", target.describe(lang)),
                Lang::Ru => format!("{} не может быть отрицательным", target.describe(lang)),
            },
            CallError::OutOfRange { target } => match lang {
                Lang::En => format!("{} is out of range", target.describe(lang)),
                Lang::Ru => format!("{}: значение вне допустимого диапазона", target.describe(lang)),
            },
            CallError::InvalidSchedule { target } => match lang {
                Lang::En => format!(
                    "{} must be pauses in seconds separated by commas, e.g. \"5,300,1800\"",
                    target.describe(lang)
                ),
                Lang::Ru => format!(
                    "{} должно содержать паузы в секундах через запятую, например \"5,300,1800\"",
                    target.describe(lang)
                ),
            },
            CallError::InvalidSecret { target } => match lang {
                Lang::En => format!(
                    "{}: a secret starting with whsec_ must continue with base64 (the value is not shown)",
                    target.describe(lang)
                ),
                Lang::Ru => format!(
                    "{}: после префикса whsec_ секрет должен быть в base64 (значение не показывается)",
                    target.describe(lang)
                ),
            },
            CallError::Http(e) => http_text(e, lang),
            CallError::Queue(e) => queue_text(e, lang),
            CallError::ResultTooLarge => lang
                .pick(
                    "the result is too large to return to 1C (more than 4 GiB)",
                    "результат слишком велик для передачи в 1С (более 4 ГиБ)",
                )
                .into(),
            CallError::NoMemoryManager => lang
                .pick(
                    "the host did not provide a memory manager (setMemManager)",
                    "платформа не передала менеджер памяти (setMemManager)",
                )
                .into(),
            CallError::NoSuchMember => lang
                .pick("no such method or property", "нет такого метода или свойства")
                .into(),
            CallError::NotWritable => lang
                .pick("the property is read-only", "свойство доступно только для чтения")
                .into(),
            CallError::NotReadable => lang
                .pick(
                    "the property is write-only (its value is secret)",
                    "свойство доступно только для записи (значение секретно)",
                )
                .into(),
            CallError::Internal(detail) => match lang {
                Lang::En => format!("internal error in Webhook1C: {detail}"),
                Lang::Ru => format!("внутренняя ошибка Webhook1C: {detail}"),
            },
        }
    }
}

/// HTTP core errors: English from the core's own Display, Russian here.
fn http_text(e: &http::Error, lang: Lang) -> String {
    if lang == Lang::En {
        return e.to_string();
    }
    use http::Error as E;
    let seconds = http::format_seconds;
    match e {
        E::EmptyUrl => "URL не указан (пустая строка)".into(),
        E::InvalidUrl { url, reason } => format!("некорректный URL \"{url}\": {reason}"),
        E::UnsupportedScheme { url, scheme } => format!(
            "неподдерживаемая схема \"{scheme}\" в {url}: поддерживаются только http и https"
        ),
        E::InvalidMethod { method } => format!(
            "неподдерживаемый HTTP-метод \"{method}\": используйте GET, HEAD, PUT, PATCH, DELETE, OPTIONS или POST"
        ),
        E::InvalidHeaderName { name } => format!("недопустимое имя заголовка \"{name}\""),
        E::InvalidHeaderValue { name } => format!(
            "недопустимое значение заголовка \"{name}\": переводы строк и управляющие символы запрещены"
        ),
        E::Setting { setting, detail } => {
            let name = match setting {
                Setting::TrustedCertificates => "ДоверенныеСертификаты",
                Setting::ClientCertificate => "КлиентскийСертификат",
                Setting::Proxy => "Прокси",
            };
            format!("{name}: {detail}")
        }
        E::Connect { url, cause } => {
            let why = match cause {
                ConnectCause::Refused => "соединение отклонено".to_string(),
                ConnectCause::Reset => "соединение сброшено сервером".to_string(),
                ConnectCause::Dns => "не удалось определить адрес по имени узла".to_string(),
                ConnectCause::Unreachable => "сеть или узел недоступны".to_string(),
                ConnectCause::Proxy(d) => format!("ошибка прокси: {d}"),
                ConnectCause::Other(d) => d.clone(),
            };
            format!("не удалось подключиться к {url}: {why}")
        }
        E::Timeout { url, phase, after } => match phase {
            TimeoutPhase::Connect => format!(
                "не удалось подключиться к {url} за {} с (ТаймаутСоединения)",
                seconds(*after)
            ),
            TimeoutPhase::Request => format!(
                "истекло время ожидания запроса к {url}: {} с (Таймаут)",
                seconds(*after)
            ),
        },
        E::Tls { url, cause } => {
            let why = match cause {
                TlsCause::UnknownIssuer => "сертификат сервера не является доверенным (неизвестный издатель); добавьте его корневой сертификат в ДоверенныеСертификаты".to_string(),
                TlsCause::Expired => "срок действия сертификата сервера истёк или ещё не начался".to_string(),
                TlsCause::NameMismatch => "сертификат сервера выдан для другого имени узла".to_string(),
                TlsCause::HandshakeRejected(d) => format!("сервер отклонил соединение ({d}); проверьте КлиентскийСертификат"),
                TlsCause::Other(d) => d.clone(),
            };
            format!("ошибка TLS при обращении к {url}: {why}")
        }
        E::TooManyRedirects { url } => format!(
            "слишком много перенаправлений (более {}), начиная с {url}",
            http::MAX_REDIRECTS
        ),
        E::ResponseTooLarge { url, limit } => format!(
            "ответ от {url} больше, чем МаксимальныйРазмерОтвета ({limit} байт); увеличьте МаксимальныйРазмерОтвета или укажите 0 (без ограничения)"
        ),
        E::Transfer {
            url,
            cause,
            received,
            expected,
        } => {
            let why = match (cause, http::transfer_progress(*received, *expected, "из")) {
                (http::TransferCause::Reset, Some(done)) => {
                    format!("сервер сбросил соединение после {done} байт ответа")
                }
                (http::TransferCause::Reset, None) => "сервер сбросил соединение".to_string(),
                (http::TransferCause::Closed, Some(done)) => format!(
                    "сервер закрыл соединение, не передав ответ целиком (получено {done} байт)"
                ),
                (http::TransferCause::Closed, None) => {
                    "сервер закрыл соединение, не передав ответ целиком".to_string()
                }
                (http::TransferCause::Other(detail), _) => detail.clone(),
            };
            format!("соединение с {url} прервалось во время передачи: {why}")
        }
    }
}

/// Queue errors: English from the queue's Display, Russian here.
fn queue_text(e: &crate::queue::QueueError, lang: Lang) -> String {
    use crate::queue::QueueError as Q;
    if lang == Lang::En {
        return e.to_string();
    }
    match e {
        Q::Directory { path, source } => {
            format!("не удалось открыть каталог очереди \"{}\": {source}", path.display())
        }
        Q::Database { path, source } => {
            format!("ошибка базы данных очереди \"{}\": {source}", path.display())
        }
        Q::NewerSchema { path, .. } => format!(
            "база очереди \"{}\" создана более новой версией Webhook1C",
            path.display()
        ),
        Q::InvalidId { id } => format!(
            "недопустимый ИдентификаторСообщения \"{id}\": не более 256 символов, без переводов строк"
        ),
        Q::InvalidRequest(e) => http_text(e, lang),
        Q::InvalidSecret => "СекретПодписи: после префикса whsec_ секрет должен быть в base64".into(),
        Q::Thread(e) => format!("не удалось запустить поток доставки: {e}"),
    }
}
