//! Every text a 1C user reads when something fails, and its stable code:
//! for each kind of failure its `ErrorCode`, its English and its Russian
//! text side by side. The HTTP core's and the queue's errors are texts of
//! this catalog too (their `Display`, used by logs and by the queue's
//! stored status, is the English text here), so a message exists once.
//!
//! A released code never changes meaning; README.md lists every code of
//! [`CODES`] (a test compares the two).

use std::fmt;
use std::time::Duration;

use super::errors::{CallError, Expected, Target};
use crate::host::value::Kind;
use crate::host::Lang;
use crate::http::sign::{Malformed, Rejected};
use crate::http::{self, ConnectCause, Setting, TimeoutPhase, TlsCause, TransferCause};
use crate::queue::{QueueError, Unsafe, MAX_ID_LEN};

/// Every code `ErrorCode` can hold, with what it means.
pub const CODES: &[(&str, &str)] = &[
    (
        "missing_argument",
        "a required parameter was not passed (Undefined)",
    ),
    (
        "invalid_argument",
        "a parameter or property value of the wrong type or out of range",
    ),
    (
        "invalid_json",
        "a Json parameter or a headers JSON is not valid JSON",
    ),
    (
        "form_pending",
        "form parts were added, but the call has a body of its own; nothing was sent",
    ),
    ("invalid_url", "the URL is empty or does not parse"),
    (
        "unsupported_scheme",
        "the URL's scheme is not http or https",
    ),
    (
        "invalid_method",
        "Request's method is not one of the seven supported",
    ),
    ("invalid_header", "a header name or value cannot be sent"),
    (
        "invalid_secret",
        "SigningSecret starts with whsec_ but is not base64 after it",
    ),
    (
        "invalid_certificate",
        "TrustedCertificates or ClientCertificate cannot be used",
    ),
    ("invalid_proxy", "Proxy is not a usable proxy URL"),
    ("connection_refused", "the server refused the connection"),
    (
        "connection_reset",
        "the server reset the connection while it was being made",
    ),
    ("dns", "the host name could not be resolved"),
    ("unreachable", "the network or host is unreachable"),
    ("proxy", "the proxy failed or refused the connection"),
    (
        "connection_failed",
        "the connection failed for another reason",
    ),
    ("connect_timeout", "no connection within ConnectTimeout"),
    ("timeout", "no complete answer within Timeout"),
    ("tls_untrusted", "the server certificate is not trusted"),
    (
        "tls_expired",
        "the server certificate has expired or is not yet valid",
    ),
    (
        "tls_name_mismatch",
        "the server certificate is for another host name",
    ),
    (
        "tls_rejected",
        "the server rejected the TLS handshake (often: a client certificate is required)",
    ),
    ("tls", "another TLS failure"),
    ("too_many_redirects", "more redirects than allowed"),
    (
        "insecure_redirect",
        "a redirect from https to http, not followed",
    ),
    (
        "response_too_large",
        "the answer is larger than MaxResponseSize",
    ),
    (
        "transfer_interrupted",
        "the connection broke while the request or answer was in transfer",
    ),
    (
        "signature_mismatch",
        "VerifySignature: no signature matches any of the secrets",
    ),
    (
        "timestamp_too_old",
        "VerifySignature: the signed timestamp is older than ToleranceSeconds",
    ),
    (
        "timestamp_in_future",
        "VerifySignature: the signed timestamp is further ahead than ToleranceSeconds",
    ),
    (
        "malformed_signature",
        "VerifySignature: webhook-id, webhook-timestamp or webhook-signature is missing or unusable",
    ),
    (
        "malformed_secret",
        "VerifySignature: no secret, or one that is not base64 after whsec_",
    ),
    ("invalid_message_id", "a MessageId that cannot be used"),
    (
        "queue_directory",
        "QueueDirectory cannot be created or used",
    ),
    (
        "queue_directory_unsafe",
        "QueueDirectory belongs to another user or others can write to it",
    ),
    (
        "queue_directory_network",
        "QueueDirectory is on a network file system",
    ),
    (
        "queue_database",
        "the queue's database cannot be opened, read or written",
    ),
    (
        "queue_server",
        "QueueDatabase cannot be reached, refused the credentials or failed a statement",
    ),
    (
        "queue_newer_version",
        "the queue's database was made by a newer Webhook1C",
    ),
    (
        "queue_thread",
        "the queue's delivery threads could not be started",
    ),
    (
        "result_too_large",
        "a result too large to hand to 1C (over 4 GiB)",
    ),
    ("host_memory", "the host gave no memory manager"),
    (
        "no_such_member",
        "the host asked for a method or property that does not exist",
    ),
    ("read_only", "a read-only property was written"),
    ("write_only", "a write-only property was read"),
    ("internal", "a defect in Webhook1C (please report it)"),
];

/// One failure as the 1C user sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub code: &'static str,
    pub text: String,
}

/// `t! {lang, "English {x}", "Russian {x}"}`: the text in `lang`, English
/// and Russian side by side; only the one needed is formatted. (Braces keep
/// rustfmt from splitting the pair.)
macro_rules! t {
    ($lang:expr, $en:literal, $ru:literal) => {
        match $lang {
            Lang::En => format!($en),
            Lang::Ru => format!($ru),
        }
    };
}

/// `m! {"code", lang, "English", "Russian"}`: a [`Message`].
macro_rules! m {
    ($code:literal, $lang:expr, $en:literal, $ru:literal) => {
        Message {
            code: $code,
            text: t! {$lang, $en, $ru},
        }
    };
}

fn msg(code: &'static str, text: String) -> Message {
    Message { code, text }
}

/// The code and the text of `err` in `lang`: one arm per kind of failure.
#[rustfmt::skip] // one line per kind: code, English and Russian side by side
pub fn message(err: &CallError, lang: Lang) -> Message {
    // The parameter or property the error is about: "parameter URL".
    let what = err.target().map(|target| describe(lang, &target)).unwrap_or_default();
    match err {
        CallError::WrongType { target, expected, got } => msg("invalid_argument", wrong_type(lang, *target, *expected, *got)),
        CallError::Missing { target, expected } => msg("missing_argument", wrong_type(lang, *target, *expected, Kind::Undefined)),
        CallError::LoneSurrogate { position, .. } => {
            let at = position + 1;
            m! {"invalid_argument", lang, "{what} contains an invalid character (an unpaired UTF-16 surrogate) at position {at}", "{what} содержит недопустимый символ (непарный суррогат UTF-16) в позиции {at}"}
        }
        CallError::InvalidJson { line, column, detail, .. } => m! {"invalid_json", lang, "{what} is not valid JSON: {detail} at line {line}, column {column}; nothing was sent", "{what} содержит некорректный JSON: {detail} (строка {line}, колонка {column}); ничего не отправлено"},
        CallError::HeadersNotObject { .. } => m! {"invalid_argument", lang, "{what} must be a JSON object of header names and values, e.g. {{\"X-Token\": \"abc\"}}", "{what} должен быть JSON-объектом «имя заголовка: значение», например {{\"X-Token\": \"abc\"}}"},
        CallError::SettingsNotObject { .. } => m! {"invalid_argument", lang, "{what} must be a JSON object of property names and values, e.g. {{\"Timeout\": 10}}", "{what} должен быть JSON-объектом «имя свойства: значение», например {{\"Таймаут\": 10}}"},
        CallError::NotASetting { name, .. } => {
            let name = name.escape_debug();
            m! {"invalid_argument", lang, "{what}: \"{name}\" is not a writable property", "{what}: \"{name}\" не является свойством, доступным для записи"}
        }
        CallError::HeaderValueType { name, .. } => m! {"invalid_argument", lang, "{what}: the value of header \"{name}\" must be a string, number or boolean", "{what}: значение заголовка \"{name}\" должно быть строкой, числом или булевым"},
        CallError::Negative { .. } => m! {"invalid_argument", lang, "{what} cannot be negative", "{what} не может быть отрицательным"},
        CallError::OutOfRange { .. } => m! {"invalid_argument", lang, "{what} is out of range", "{what}: значение вне допустимого диапазона"},
        CallError::AboveMaximum { max, .. } => m! {"invalid_argument", lang, "{what} must be at most {max}", "{what}: значение не должно превышать {max}"},
        CallError::InvalidSchedule { .. } => m! {"invalid_argument", lang, "{what} must be pauses in seconds separated by commas, e.g. \"5,300,1800\"", "{what} должно содержать паузы в секундах через запятую, например \"5,300,1800\""},
        CallError::InvalidState { got, .. } => {
            let got = got.escape_debug();
            m! {"invalid_argument", lang, "{what} must be pending, delivered or failed, not \"{got}\"", "{what} должен быть pending, delivered или failed, а не \"{got}\""}
        }
        CallError::InvalidSecret { .. } => m! {"invalid_secret", lang, "{what}: a secret starting with whsec_ must continue with base64 (the value is not shown)", "{what}: после префикса whsec_ секрет должен быть в base64 (значение не показывается)"},
        CallError::Rejected(r) => rejection(r, lang),
        CallError::Http(e) => http_message(e, lang),
        CallError::Queue(e) => queue_message(e, lang),
        CallError::ResultTooLarge => m! {"result_too_large", lang, "the result is too large to return to 1C (more than 4 GiB)", "результат слишком велик для передачи в 1С (более 4 ГиБ)"},
        CallError::NoMemoryManager => m! {"host_memory", lang, "the host did not provide a memory manager (setMemManager)", "платформа не передала менеджер памяти (setMemManager)"},
        CallError::InvalidAuthType { got, .. } => {
            let got = got.escape_debug();
            m! {"invalid_argument", lang, "{what} must be Basic or Digest, not \"{got}\"", "{what} должен быть Basic или Digest, а не \"{got}\""}
        }
        CallError::InvalidCookies { detail, .. } => m! {"invalid_argument", lang, "{what} must be the JSON array that reading it gives, or \"\" for none: {detail}", "{what} должно быть JSON-массивом, который даёт его чтение, или \"\" — без cookie: {detail}"},
        CallError::FormPending => m! {"form_pending", lang, "the form added by AddFormField/AddFormFile is sent by Request without Body and ContentType; send it that way or call ClearForm first (nothing was sent)", "форму, добавленную ДобавитьПолеФормы/ДобавитьФайлФормы, отправляет ВыполнитьЗапрос без Тело и ТипСодержимого; отправьте её так или сначала вызовите ОчиститьФорму (ничего не отправлено)"},
        CallError::NoSuchMember => m! {"no_such_member", lang, "no such method or property", "нет такого метода или свойства"},
        CallError::NotWritable => m! {"read_only", lang, "the property is read-only", "свойство доступно только для чтения"},
        CallError::NotReadable => m! {"write_only", lang, "the property is write-only (its value is secret)", "свойство доступно только для записи (значение секретно)"},
        CallError::Internal(detail) => m! {"internal", lang, "internal error in Webhook1C: {detail}", "внутренняя ошибка Webhook1C: {detail}"},
    }
}

/// `parameter URL` / `параметр URL`, `property Timeout` / `свойство Таймаут`.
fn describe(lang: Lang, target: &Target) -> String {
    match (lang, target.property) {
        (Lang::En, false) => format!("parameter {}", target.en),
        (Lang::En, true) => format!("property {}", target.en),
        (Lang::Ru, false) => format!("параметр {}", target.ru),
        (Lang::Ru, true) => format!("свойство {}", target.ru),
    }
}

fn wrong_type(lang: Lang, target: Target, expected: Expected, got: Kind) -> String {
    let what = describe(lang, &target);
    let (expected, got) = (expected_text(expected, lang), kind_name(got, lang));
    t! {lang, "{what} must be {expected}, not {got}", "{what} должен быть {expected}, а передано значение типа {got}"}
}

fn expected_text(expected: Expected, lang: Lang) -> &'static str {
    match expected {
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

/// The 1C name of a value's type.
fn kind_name(kind: Kind, lang: Lang) -> &'static str {
    match kind {
        Kind::Undefined => lang.pick("Undefined", "Неопределено"),
        Kind::Null => "NULL",
        Kind::Boolean => lang.pick("Boolean", "Булево"),
        Kind::Number => lang.pick("Number", "Число"),
        Kind::Date => lang.pick("Date", "Дата"),
        Kind::String => lang.pick("String", "Строка"),
        Kind::BinaryData => lang.pick("BinaryData", "ДвоичныеДанные"),
        Kind::Unsupported => lang.pick("an unsupported value", "неподдерживаемое значение"),
    }
}

/// Seconds as texts show them: `30`, `1.5`, `?` when there is no limit.
fn seconds(d: Option<Duration>) -> String {
    match d {
        Some(d) => {
            let s = d.as_secs_f64();
            if s.fract() == 0.0 {
                format!("{s:.0}")
            } else {
                format!("{s}")
            }
        }
        None => "?".into(),
    }
}

/// How much of the response arrived: `1000 of 100000` (`из` in Russian),
/// or `1000` without a Content-Length.
fn progress(received: Option<u64>, expected: Option<u64>, of: &str) -> Option<String> {
    match (received, expected) {
        (Some(r), Some(e)) => Some(format!("{r} {of} {e}")),
        (Some(r), None) => Some(r.to_string()),
        _ => None,
    }
}

fn setting_name(setting: Setting, lang: Lang) -> &'static str {
    match setting {
        Setting::TrustedCertificates => lang.pick("TrustedCertificates", "ДоверенныеСертификаты"),
        Setting::ClientCertificate => lang.pick("ClientCertificate", "КлиентскийСертификат"),
        Setting::Proxy => lang.pick("Proxy", "Прокси"),
    }
}

#[rustfmt::skip] // one line per kind: code, English and Russian side by side
fn rejection(r: &Rejected, lang: Lang) -> Message {
    match r {
        Rejected::Mismatch { signatures, secrets } => m! {"signature_mismatch", lang, "the signature does not match: none of {signatures} v1 signatures is the body's for any of {secrets} secrets", "подпись не совпадает: ни одна из подписей v1 ({signatures}) не соответствует телу ни для одного из секретов ({secrets})"},
        Rejected::TooOld { age, tolerance } => m! {"timestamp_too_old", lang, "the webhook was signed {age} s ago, more than ToleranceSeconds ({tolerance} s): a replay or a late delivery", "вебхук подписан {age} с назад, больше, чем ДопустимоеОтклонениеСекунд ({tolerance} с): повтор или запоздавшая доставка"},
        Rejected::InFuture { ahead, tolerance } => m! {"timestamp_in_future", lang, "the webhook's timestamp is {ahead} s ahead of this computer's clock, more than ToleranceSeconds ({tolerance} s)", "метка времени вебхука на {ahead} с впереди часов этого компьютера, больше, чем ДопустимоеОтклонениеСекунд ({tolerance} с)"},
        Rejected::Malformed(Malformed::NoId) => m! {"malformed_signature", lang, "the webhook-id header is missing or empty", "заголовок webhook-id отсутствует или пуст"},
        Rejected::Malformed(Malformed::Timestamp) => m! {"malformed_signature", lang, "the webhook-timestamp header is missing or not a number of seconds", "заголовок webhook-timestamp отсутствует или не является числом секунд"},
        Rejected::Malformed(Malformed::NoV1Signature) => m! {"malformed_signature", lang, "the webhook-signature header is missing or has no v1,<base64> signature", "заголовок webhook-signature отсутствует или не содержит подписи v1,<base64>"},
        Rejected::MalformedSecret => m! {"malformed_secret", lang, "Secret is empty or a secret starting with whsec_ does not continue with base64 (the value is not shown)", "Секрет пуст или секрет с префиксом whsec_ не продолжается base64 (значение не показывается)"},
    }
}

#[rustfmt::skip] // one line per kind: code, English and Russian side by side
fn http_message(e: &http::Error, lang: Lang) -> Message {
    use http::Error as E;
    match e {
        E::EmptyUrl => m! {"invalid_url", lang, "the URL is empty", "URL не указан (пустая строка)"},
        E::InvalidUrl { url, reason } => m! {"invalid_url", lang, "invalid URL \"{url}\": {reason}", "некорректный URL \"{url}\": {reason}"},
        E::UnsupportedScheme { url, scheme } => m! {"unsupported_scheme", lang, "unsupported URL scheme \"{scheme}\" in {url}: only http and https are supported", "неподдерживаемая схема \"{scheme}\" в {url}: поддерживаются только http и https"},
        E::InvalidMethod { method } => m! {"invalid_method", lang, "unsupported HTTP method \"{method}\": use GET, HEAD, PUT, PATCH, DELETE, OPTIONS or POST", "неподдерживаемый HTTP-метод \"{method}\": используйте GET, HEAD, PUT, PATCH, DELETE, OPTIONS или POST"},
        E::InvalidHeaderName { name } => m! {"invalid_header", lang, "invalid header name \"{name}\"", "недопустимое имя заголовка \"{name}\""},
        E::InvalidHeaderValue { name } => m! {"invalid_header", lang, "invalid value of header \"{name}\": line breaks and control characters are not allowed", "недопустимое значение заголовка \"{name}\": переводы строк и управляющие символы запрещены"},
        E::Setting { setting, detail } => {
            let code = if *setting == Setting::Proxy { "invalid_proxy" } else { "invalid_certificate" };
            msg(code, format!("{}: {detail}", setting_name(*setting, lang)))
        }
        E::Connect { url, cause } => match cause {
            ConnectCause::Refused => m! {"connection_refused", lang, "could not connect to {url}: connection refused", "не удалось подключиться к {url}: соединение отклонено"},
            ConnectCause::Reset => m! {"connection_reset", lang, "could not connect to {url}: connection reset by the server", "не удалось подключиться к {url}: соединение сброшено сервером"},
            ConnectCause::Dns => m! {"dns", lang, "could not connect to {url}: the host name could not be resolved", "не удалось подключиться к {url}: не удалось определить адрес по имени узла"},
            ConnectCause::Unreachable => m! {"unreachable", lang, "could not connect to {url}: the network or host is unreachable", "не удалось подключиться к {url}: сеть или узел недоступны"},
            ConnectCause::Proxy(d) => m! {"proxy", lang, "could not connect to {url}: proxy error: {d}", "не удалось подключиться к {url}: ошибка прокси: {d}"},
            ConnectCause::Other(d) => m! {"connection_failed", lang, "could not connect to {url}: {d}", "не удалось подключиться к {url}: {d}"},
        },
        E::Timeout { url, phase: TimeoutPhase::Connect, after } => {
            let after = seconds(*after);
            m! {"connect_timeout", lang, "could not connect to {url} within {after} s (ConnectTimeout)", "не удалось подключиться к {url} за {after} с (ТаймаутСоединения)"}
        }
        E::Timeout { url, phase: TimeoutPhase::Request, after } => {
            let after = seconds(*after);
            m! {"timeout", lang, "request to {url} timed out after {after} s (Timeout)", "истекло время ожидания запроса к {url}: {after} с (Таймаут)"}
        }
        E::Tls { url, cause } => match cause {
            TlsCause::UnknownIssuer => m! {"tls_untrusted", lang, "TLS error with {url}: the server certificate is not trusted (unknown issuer); add its CA with TrustedCertificates", "ошибка TLS при обращении к {url}: сертификат сервера не является доверенным (неизвестный издатель); добавьте его корневой сертификат в ДоверенныеСертификаты"},
            TlsCause::Expired => m! {"tls_expired", lang, "TLS error with {url}: the server certificate has expired or is not yet valid", "ошибка TLS при обращении к {url}: срок действия сертификата сервера истёк или ещё не начался"},
            TlsCause::NameMismatch => m! {"tls_name_mismatch", lang, "TLS error with {url}: the server certificate is not valid for this host name", "ошибка TLS при обращении к {url}: сертификат сервера выдан для другого имени узла"},
            TlsCause::HandshakeRejected(d) => m! {"tls_rejected", lang, "TLS error with {url}: the server rejected the connection ({d}); check ClientCertificate", "ошибка TLS при обращении к {url}: сервер отклонил соединение ({d}); проверьте КлиентскийСертификат"},
            TlsCause::Other(d) => m! {"tls", lang, "TLS error with {url}: {d}", "ошибка TLS при обращении к {url}: {d}"},
        },
        E::TooManyRedirects { url } => {
            let most = http::MAX_REDIRECTS;
            m! {"too_many_redirects", lang, "too many redirects (more than {most}) starting at {url}", "слишком много перенаправлений (более {most}), начиная с {url}"}
        }
        E::InsecureRedirect { url, to } => m! {"insecure_redirect", lang, "the server at {url} redirected to an http address ({to}); a redirect from https to http is not followed", "сервер {url} перенаправил на адрес http ({to}); перенаправление с https на http не выполняется"},
        E::ResponseTooLarge { url, limit } => m! {"response_too_large", lang, "the response from {url} is larger than MaxResponseSize ({limit} bytes); raise MaxResponseSize, or set it to 0 for no limit", "ответ от {url} больше, чем МаксимальныйРазмерОтвета ({limit} байт); увеличьте МаксимальныйРазмерОтвета или укажите 0 (без ограничения)"},
        E::Transfer { url, cause, received, expected } => {
            let done = progress(*received, *expected, lang.pick("of", "из"));
            let why = match (cause, done) {
                (TransferCause::Reset, Some(done)) => t! {lang, "the server reset the connection after {done} bytes of the response", "сервер сбросил соединение после {done} байт ответа"},
                (TransferCause::Reset, None) => t! {lang, "the server reset the connection", "сервер сбросил соединение"},
                (TransferCause::Closed, Some(done)) => t! {lang, "the server closed the connection before the whole response arrived ({done} bytes)", "сервер закрыл соединение, не передав ответ целиком (получено {done} байт)"},
                (TransferCause::Closed, None) => t! {lang, "the server closed the connection before the whole response arrived", "сервер закрыл соединение, не передав ответ целиком"},
                (TransferCause::Other(detail), _) => detail.clone(),
            };
            m! {"transfer_interrupted", lang, "the connection to {url} broke during the transfer: {why}", "соединение с {url} прервалось во время передачи: {why}"}
        }
    }
}

#[rustfmt::skip] // one line per kind: code, English and Russian side by side
fn queue_message(e: &QueueError, lang: Lang) -> Message {
    match e {
        QueueError::Directory { path, source } => {
            let path = path.display();
            m! {"queue_directory", lang, "cannot use the queue directory \"{path}\": {source}", "не удалось открыть каталог очереди \"{path}\": {source}"}
        }
        QueueError::Database { path, source } => {
            let path = path.display();
            m! {"queue_database", lang, "queue database \"{path}\": {source}", "ошибка базы данных очереди \"{path}\": {source}"}
        }
        QueueError::Server { database, detail } => m! {"queue_server", lang, "queue database {database}: {detail}", "ошибка базы данных очереди {database}: {detail}"},
        QueueError::PoolExhausted { database } => m! {"queue_server", lang, "queue database {database}: every connection stayed busy for 10 s", "база данных очереди {database}: все соединения заняты дольше 10 с"},
        QueueError::NewerSchema { path, found, supported } => {
            let path = path.display();
            m! {"queue_newer_version", lang, "the queue database \"{path}\" was created by a newer Webhook1C (layout {found}, this version knows up to {supported})", "база очереди \"{path}\" создана более новой версией Webhook1C (версия схемы {found}, эта версия знает до {supported})"}
        }
        QueueError::InvalidId { id } => {
            let id = id.escape_debug();
            m! {"invalid_message_id", lang, "invalid message id \"{id}\": 1 to {MAX_ID_LEN} characters from A-Z, a-z, 0-9, _, - and : (no dots or spaces)", "недопустимый ИдентификаторСообщения \"{id}\": от 1 до {MAX_ID_LEN} символов из A-Z, a-z, 0-9, _, - и : (без точек и пробелов)"}
        }
        QueueError::NoDefaultDirectory => m! {"queue_directory", lang, "no per-user folder for the queue (HOME, XDG_DATA_HOME or LOCALAPPDATA is not set): set QueueDirectory to a local folder of the user the 1C server runs as", "не найден каталог пользователя для очереди (не заданы HOME, XDG_DATA_HOME или LOCALAPPDATA): задайте КаталогОчереди — локальный каталог пользователя, от имени которого работает сервер 1С"},
        QueueError::UnsafeDirectory { path, reason: Unsafe::OtherOwner { owner } } => {
            let path = path.display();
            m! {"queue_directory_unsafe", lang, "the queue directory \"{path}\" belongs to another user (uid {owner}): the queue keeps credentials there, so it must be a folder of the user the 1C server runs as", "каталог очереди \"{path}\" принадлежит другому пользователю (uid {owner}): очередь хранит в нём учётные данные, поэтому это должен быть каталог пользователя, от имени которого работает сервер 1С"}
        }
        QueueError::UnsafeDirectory { path, reason: Unsafe::WritableByOthers { mode } } => {
            let path = path.display();
            m! {"queue_directory_unsafe", lang, "the queue directory \"{path}\" can be written by other users (mode {mode:04o}): the queue keeps credentials there; make it private (chmod 700) or choose another", "в каталог очереди \"{path}\" могут писать другие пользователи (права {mode:04o}): очередь хранит в нём учётные данные; закройте его (chmod 700) или выберите другой"}
        }
        QueueError::NetworkDirectory { path, kind } => {
            let path = path.display();
            m! {"queue_directory_network", lang, "the queue directory \"{path}\" is on a network file system ({kind}), where the queue's file locks do not hold: use a local folder, or QueueDatabase to share one queue between servers", "каталог очереди \"{path}\" находится в сетевой файловой системе ({kind}), где блокировки файлов очереди не работают: используйте локальный каталог или БазаДанныхОчереди, чтобы разделить очередь между серверами"}
        }
        QueueError::InvalidRequest(e) => http_message(e, lang),
        QueueError::Thread(e) => m! {"queue_thread", lang, "cannot start the delivery worker: {e}", "не удалось запустить поток доставки: {e}"},
    }
}

/// The English text: what logs and the queue's stored status show.
impl fmt::Display for http::Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&http_message(self, Lang::En).text)
    }
}

/// The English text, as for [`http::Error`].
impl fmt::Display for QueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&queue_message(self, Lang::En).text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    fn code(err: &CallError) -> &'static str {
        message(err, Lang::En).code
    }

    fn text(err: &CallError, lang: Lang) -> String {
        message(err, lang).text
    }

    /// One failure of every kind, as a 1C user would meet it.
    fn samples() -> Vec<CallError> {
        use http::Error as E;
        let url = || "https://example.com/hook".to_string();
        let url_param = Target::param("URL", "URL");
        let connect = |cause| CallError::Http(E::Connect { url: url(), cause });
        let tls = |cause| CallError::Http(E::Tls { url: url(), cause });
        let timeout = |phase, after| {
            CallError::Http(E::Timeout {
                url: url(),
                phase,
                after: Some(Duration::from_secs(after)),
            })
        };
        let path = || PathBuf::from("/var/lib/1c/queue");
        let mut all = vec![
            CallError::Missing {
                target: url_param,
                expected: Expected::Str,
            },
            CallError::WrongType {
                target: url_param,
                expected: Expected::Str,
                got: Kind::Number,
            },
            CallError::InvalidJson {
                target: Target::param("Json", "Json"),
                line: 1,
                column: 9,
                detail: "EOF while parsing an object".into(),
            },
            CallError::SettingsNotObject {
                target: Target::param("Settings", "Настройки"),
            },
            CallError::NotASetting {
                target: Target::param("Settings", "Настройки"),
                name: "StatusCode".into(),
            },
            CallError::Http(E::EmptyUrl),
            CallError::Http(E::UnsupportedScheme {
                url: "ftp://example.com/hook".into(),
                scheme: "ftp".into(),
            }),
            CallError::Http(E::InvalidMethod {
                method: "TRACE".into(),
            }),
            CallError::Http(E::InvalidHeaderName {
                name: "Bad Name".into(),
            }),
            CallError::InvalidSecret {
                target: Target::property("SigningSecret", "СекретПодписи"),
            },
            CallError::Http(E::Setting {
                setting: Setting::TrustedCertificates,
                detail: "cannot read the file \"C:\\certs\\ca.pem\": not found".into(),
            }),
            CallError::Http(E::Setting {
                setting: Setting::Proxy,
                detail: "unsupported proxy scheme \"ftp\": use http, https, socks5 or socks5h"
                    .into(),
            }),
            CallError::Http(E::TooManyRedirects { url: url() }),
            CallError::Http(E::InsecureRedirect {
                url: url(),
                to: "http://example.com/landing".into(),
            }),
            CallError::Http(E::ResponseTooLarge {
                url: url(),
                limit: 67_108_864,
            }),
            CallError::Http(E::Transfer {
                url: url(),
                cause: TransferCause::Reset,
                received: Some(1000),
                expected: Some(100_000),
            }),
            CallError::Rejected(Rejected::Mismatch {
                signatures: 2,
                secrets: 1,
            }),
            CallError::Rejected(Rejected::TooOld {
                age: 412,
                tolerance: 300,
            }),
            CallError::Rejected(Rejected::InFuture {
                ahead: 412,
                tolerance: 300,
            }),
            CallError::Rejected(Rejected::Malformed(Malformed::NoId)),
            CallError::Rejected(Rejected::Malformed(Malformed::Timestamp)),
            CallError::Rejected(Rejected::Malformed(Malformed::NoV1Signature)),
            CallError::Rejected(Rejected::MalformedSecret),
            CallError::Queue(QueueError::InvalidId {
                id: "line\nbreak".into(),
            }),
            CallError::Queue(QueueError::Directory {
                path: path(),
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            }),
            CallError::Queue(QueueError::NoDefaultDirectory),
            CallError::Queue(QueueError::UnsafeDirectory {
                path: path(),
                reason: Unsafe::OtherOwner { owner: 1001 },
            }),
            CallError::Queue(QueueError::UnsafeDirectory {
                path: path(),
                reason: Unsafe::WritableByOthers { mode: 0o777 },
            }),
            CallError::Queue(QueueError::NetworkDirectory {
                path: path(),
                kind: "NFS",
            }),
            CallError::Queue(QueueError::Database {
                path: path().join("queue.sqlite3"),
                source: rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                    Some("database is locked".into()),
                ),
            }),
            CallError::Queue(QueueError::Server {
                database: "postgresql://webhooks@db.example:5432/queue".into(),
                detail: "error connecting to server: Connection refused (os error 111)".into(),
            }),
            CallError::Queue(QueueError::PoolExhausted {
                database: "postgresql://webhooks@db.example:5432/queue".into(),
            }),
            CallError::Queue(QueueError::NewerSchema {
                path: path().join("queue.sqlite3"),
                found: 9,
                supported: 1,
            }),
            CallError::Queue(QueueError::Thread(std::io::Error::other(
                "resource temporarily unavailable",
            ))),
            CallError::InvalidAuthType {
                target: Target::property("AuthType", "ТипАутентификации"),
                got: "NTLM".into(),
            },
            CallError::InvalidCookies {
                target: Target::property("Cookies", "ФайлыCookie"),
                detail: "expected value at line 1 column 1".into(),
            },
            CallError::FormPending,
            CallError::ResultTooLarge,
            CallError::NoMemoryManager,
            CallError::NoSuchMember,
            CallError::NotWritable,
            CallError::NotReadable,
            CallError::Internal("a handler panicked".into()),
        ];
        let proxy = "unsuccessful tunnel (407 Proxy Authentication Required)";
        all.extend(
            [
                ConnectCause::Refused,
                ConnectCause::Reset,
                ConnectCause::Dns,
                ConnectCause::Unreachable,
                ConnectCause::Proxy(proxy.into()),
                ConnectCause::Other("tcp connect error".into()),
            ]
            .map(connect),
        );
        let rejected = TlsCause::HandshakeRejected("TLS alert CertificateRequired".into());
        let tls_causes = [
            TlsCause::UnknownIssuer,
            TlsCause::Expired,
            TlsCause::NameMismatch,
        ];
        all.extend(tls_causes.into_iter().chain([rejected]).map(tls));
        all.push(tls(TlsCause::Other("peer sent no certificates".into())));
        all.push(timeout(TimeoutPhase::Connect, 10));
        all.push(timeout(TimeoutPhase::Request, 30));
        all
    }

    fn row(err: &CallError) -> String {
        let code = code(err);
        let meaning = CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("(not in CODES)", |(_, m)| m);
        format!(
            "| `{code}` | {meaning} | `{}` | `{}` |",
            text(err, Lang::En),
            text(err, Lang::Ru)
        )
    }

    #[test]
    fn every_code_is_listed_once_and_produced() {
        let listed: Vec<&str> = CODES.iter().map(|(c, _)| *c).collect();
        let unique: BTreeSet<&str> = listed.iter().copied().collect();
        assert_eq!(unique.len(), listed.len(), "a code is listed twice");
        let produced: BTreeSet<&str> = samples().iter().map(code).collect();
        assert_eq!(produced, unique, "CODES and the kinds that produce them");
        for (code, _) in CODES {
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code} is not snake_case"
            );
        }
    }

    #[test]
    fn the_readme_lists_every_code_with_its_texts() {
        let readme = include_str!("../../README.md");
        let section = readme
            .split_once("### Error codes")
            .map(|(_, rest)| rest)
            .expect("README.md has an \"### Error codes\" section");
        let found: Vec<&str> = section
            .lines()
            .skip_while(|l| !l.starts_with("| `"))
            .take_while(|l| l.starts_with("| `"))
            .collect();
        // In the order of CODES (samples of one code in their own order).
        let position = |err: &CallError| CODES.iter().position(|(c, _)| *c == code(err));
        let mut samples = samples();
        samples.sort_by_key(position);
        let expected: Vec<String> = samples.iter().map(row).collect();
        assert!(
            found == expected,
            "README.md's error code table must read:\n{}",
            expected.join("\n")
        );
    }

    #[test]
    fn core_errors_display_the_english_text() {
        let e = http::Error::Connect {
            url: "http://127.0.0.1:1/".into(),
            cause: ConnectCause::Refused,
        };
        assert_eq!(
            e.to_string(),
            "could not connect to http://127.0.0.1:1/: connection refused"
        );
        let q = QueueError::InvalidRequest(http::Error::EmptyUrl);
        assert_eq!(q.to_string(), "the URL is empty");
        assert_eq!(code(&CallError::Queue(q)), "invalid_url");
    }
}
