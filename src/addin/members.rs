//! The member table: every property and method once, English and Russian
//! name side by side, with its access, parameters, defaults and handler.
//! Lookup is case-insensitive in both languages (Cyrillic included).

use once_cell::sync::Lazy;

use super::args::{Arg, Args};
use std::time::Duration;

use super::client::{limit, Client};
use super::errors::{CallError, Target};
use super::settings::store;
use crate::host::{wstr, Value};

/// Getter of a readable property.
pub type Getter = fn(&Client) -> Value;
/// Setter of a writable property; the argument names the property in errors.
pub type Setter = fn(&mut Client, Arg<'_>) -> Result<(), CallError>;
/// Handler of a method; `args` has exactly `params.len()` values, named by
/// the row's parameters.
pub type Handler = fn(&mut Client, &mut Args) -> Result<Value, CallError>;

pub struct Property {
    pub en: &'static str,
    pub ru: &'static str,
    pub get: Option<Getter>,
    pub set: Option<Setter>,
}

impl Property {
    pub fn target(&self) -> Target {
        Target::property(self.en, self.ru)
    }
}

/// A default for an optional parameter, as `GetParamDefValue` hands it out.
#[derive(Clone, Copy, Debug)]
pub enum ParamDefault {
    Undefined,
    Str(&'static str),
    Number(i32),
}

impl ParamDefault {
    pub fn value(self) -> Value {
        match self {
            ParamDefault::Undefined => Value::Empty,
            ParamDefault::Str(s) => Value::string(s),
            ParamDefault::Number(n) => Value::Int(n.into()),
        }
    }
}

#[derive(Debug)]
pub struct Param {
    pub en: &'static str,
    pub ru: &'static str,
    /// `None`: the 1C code must pass it.
    pub default: Option<ParamDefault>,
}

pub(super) const fn required(en: &'static str, ru: &'static str) -> Param {
    Param {
        en,
        ru,
        default: None,
    }
}

pub(super) const fn optional(en: &'static str, ru: &'static str, default: ParamDefault) -> Param {
    Param {
        en,
        ru,
        default: Some(default),
    }
}

pub struct Method {
    pub en: &'static str,
    pub ru: &'static str,
    pub params: &'static [Param],
    /// `HasRetVal`: the host calls `CallAsFunc` when true.
    pub returns: bool,
    pub call: Handler,
}

fn text(value: &str) -> Value {
    Value::string(value)
}

fn seconds(d: Option<Duration>) -> Value {
    Value::number(d.map_or(0.0, |d| d.as_secs_f64()))
}

static PROPERTIES: &[Property] = &[
    Property {
        en: "Version",
        ru: "Версия",
        get: Some(|_| text(&super::version())),
        set: None,
    },
    Property {
        en: "Timeout",
        ru: "Таймаут",
        get: Some(|c| seconds(c.timeout)),
        set: Some(|c, v| store(&mut c.timeout, v.seconds().map(limit))),
    },
    Property {
        en: "ConnectTimeout",
        ru: "ТаймаутСоединения",
        get: Some(|c| seconds(c.transport.connect_timeout)),
        set: Some(|c, v| store(&mut c.transport.connect_timeout, v.seconds().map(limit))),
    },
    Property {
        en: "VerifySSL",
        ru: "ПроверятьSSL",
        get: Some(|c| Value::Bool(c.transport.verify_tls)),
        set: Some(|c, v| store(&mut c.transport.verify_tls, v.boolean())),
    },
    Property {
        en: "AllowRedirects",
        ru: "РазрешитьПеренаправление",
        get: Some(|c| Value::Bool(c.transport.follow_redirects)),
        set: Some(|c, v| store(&mut c.transport.follow_redirects, v.boolean())),
    },
    Property {
        en: "User",
        ru: "Пользователь",
        get: Some(|c| text(&c.user)),
        set: Some(|c, v| store(&mut c.user, v.str())),
    },
    Property {
        en: "Password",
        ru: "Пароль",
        get: None,
        set: Some(|c, v| store(&mut c.password, v.str())),
    },
    Property {
        en: "AuthType",
        ru: "ТипАутентификации",
        get: Some(|c| text(if c.digest_auth { "Digest" } else { "Basic" })),
        set: Some(Client::set_auth_type),
    },
    Property {
        en: "Headers",
        ru: "Заголовки",
        get: Some(|c| text(&c.headers_shown())),
        set: Some(Client::set_headers),
    },
    Property {
        en: "Proxy",
        ru: "Прокси",
        get: Some(|c| text(&c.proxy_shown())),
        set: Some(Client::set_proxy),
    },
    Property {
        en: "TrustedCertificates",
        ru: "ДоверенныеСертификаты",
        get: Some(|c| text(&c.transport.trusted_certificates)),
        set: Some(|c, v| store(&mut c.transport.trusted_certificates, v.str())),
    },
    Property {
        en: "ClientCertificate",
        ru: "КлиентскийСертификат",
        get: Some(|c| text(&c.client_certificate_shown())),
        set: Some(|c, v| store(&mut c.transport.client_certificate, v.str())),
    },
    Property {
        en: "MaxResponseSize",
        ru: "МаксимальныйРазмерОтвета",
        get: Some(|c| Value::number(c.max_response_size.unwrap_or(0) as f64)),
        set: Some(Client::set_max_response_size),
    },
    Property {
        en: "RetryCount",
        ru: "КоличествоПовторов",
        get: Some(|c| Value::Int(c.retry_count.into())),
        set: Some(Client::set_retry_count),
    },
    Property {
        en: "RetryDelay",
        ru: "ЗадержкаПовтора",
        get: Some(|c| seconds(Some(c.retry_delay))),
        set: Some(|c, v| store(&mut c.retry_delay, v.seconds().map(Duration::from_secs_f64))),
    },
    Property {
        en: "SigningSecret",
        ru: "СекретПодписи",
        get: None,
        set: Some(Client::set_signing_secret),
    },
    Property {
        en: "LogFile",
        ru: "ФайлЖурнала",
        get: Some(|c| text(&c.log_file)),
        set: Some(|c, v| store(&mut c.log_file, v.str())),
    },
    Property {
        en: "RetrySchedule",
        ru: "РасписаниеПовторов",
        get: Some(|c| text(&c.retry_schedule_shown())),
        set: Some(Client::set_retry_schedule),
    },
    Property {
        en: "QueueDirectory",
        ru: "КаталогОчереди",
        get: Some(|c| {
            text(
                &c.queue_directory()
                    .map(|d| d.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
        }),
        set: Some(|c, v| store(&mut c.queue_directory, v.str())),
    },
    Property {
        en: "QueueDatabase",
        ru: "БазаДанныхОчереди",
        get: Some(|c| text(&crate::queue::Queue::masked_database(&c.queue_database))),
        set: Some(Client::set_queue_database),
    },
    Property {
        en: "QueueRetention",
        ru: "СрокХраненияОчереди",
        get: Some(|c| Value::number(c.queue_retention.as_secs_f64() / 86_400.0)),
        set: Some(Client::set_queue_retention),
    },
    Property {
        en: "KeepCookies",
        ru: "СохранятьCookie",
        get: Some(|c| Value::Bool(c.keep_cookies)),
        set: Some(|c, v| store(&mut c.keep_cookies, v.boolean())),
    },
    Property {
        en: "Cookies",
        ru: "ФайлыCookie",
        get: Some(|c| text(&c.cookies.to_json())),
        set: Some(Client::set_cookies),
    },
    Property {
        en: "StatusCode",
        ru: "КодСостояния",
        get: Some(|c| Value::Int(c.last.status.into())),
        set: None,
    },
    Property {
        en: "ResponseBody",
        ru: "ТелоОтвета",
        get: Some(|c| text(&c.last.text())),
        set: None,
    },
    Property {
        en: "ResponseHeaders",
        ru: "ЗаголовкиОтвета",
        get: Some(|c| text(&c.response_headers_json())),
        set: None,
    },
    Property {
        en: "ResponseURL",
        ru: "URLОтвета",
        get: Some(|c| text(&c.last.url)),
        set: None,
    },
    Property {
        en: "ErrorText",
        ru: "ТекстОшибки",
        get: Some(|c| text(c.failure.as_ref().map_or("", |f| f.text.as_str()))),
        set: None,
    },
    Property {
        en: "ErrorCode",
        ru: "КодОшибки",
        get: Some(|c| text(c.failure.as_ref().map_or("", |f| f.code))),
        set: None,
    },
];

const NO_HEADERS: ParamDefault = ParamDefault::Str("");

static PRODUCT_METHODS: &[Method] = &[
    Method {
        en: "PostJson",
        ru: "ОтправитьJson",
        params: &[
            required("URL", "URL"),
            required("Json", "Json"),
            optional("Headers", "Заголовки", NO_HEADERS),
        ],
        returns: true,
        call: Client::post_json,
    },
    Method {
        en: "Post",
        ru: "Отправить",
        params: &[
            required("URL", "URL"),
            required("Body", "Тело"),
            optional("ContentType", "ТипСодержимого", ParamDefault::Str("")),
            optional("Headers", "Заголовки", NO_HEADERS),
        ],
        returns: true,
        call: Client::post,
    },
    Method {
        en: "Request",
        ru: "ВыполнитьЗапрос",
        params: &[
            required("Method", "Метод"),
            required("URL", "URL"),
            optional("Body", "Тело", ParamDefault::Undefined),
            optional("ContentType", "ТипСодержимого", ParamDefault::Str("")),
            optional("Headers", "Заголовки", NO_HEADERS),
        ],
        returns: true,
        call: Client::request,
    },
    Method {
        en: "Configure",
        ru: "Настроить",
        params: &[required("Settings", "Настройки")],
        returns: false,
        call: Client::configure,
    },
    Method {
        en: "AddFormField",
        ru: "ДобавитьПолеФормы",
        params: &[required("Name", "Имя"), required("Value", "Значение")],
        returns: false,
        call: Client::add_form_field,
    },
    Method {
        en: "AddFormFile",
        ru: "ДобавитьФайлФормы",
        params: &[
            required("Name", "Имя"),
            required("FileName", "ИмяФайла"),
            required("Data", "Данные"),
            optional("ContentType", "ТипСодержимого", ParamDefault::Str("")),
        ],
        returns: false,
        call: Client::add_form_file,
    },
    Method {
        en: "ClearForm",
        ru: "ОчиститьФорму",
        params: &[],
        returns: false,
        call: Client::clear_form,
    },
    Method {
        en: "SetHeader",
        ru: "УстановитьЗаголовок",
        params: &[required("Name", "Имя"), required("Value", "Значение")],
        returns: false,
        call: Client::set_header,
    },
    Method {
        en: "RemoveHeader",
        ru: "УдалитьЗаголовок",
        params: &[required("Name", "Имя")],
        returns: false,
        call: Client::remove_header,
    },
    Method {
        en: "ClearHeaders",
        ru: "ОчиститьЗаголовки",
        params: &[],
        returns: false,
        call: Client::clear_headers,
    },
    Method {
        en: "GetResponseHeader",
        ru: "ПолучитьЗаголовокОтвета",
        params: &[required("Name", "Имя")],
        returns: true,
        call: Client::response_header,
    },
    Method {
        en: "GetResponseBinary",
        ru: "ПолучитьТелоОтветаДвоичныеДанные",
        params: &[],
        returns: true,
        call: Client::response_binary,
    },
    Method {
        en: "Enqueue",
        ru: "ПоставитьВОчередь",
        params: &[
            required("URL", "URL"),
            required("Json", "Json"),
            optional("Headers", "Заголовки", NO_HEADERS),
            optional("MessageId", "ИдентификаторСообщения", ParamDefault::Str("")),
        ],
        returns: true,
        call: Client::enqueue,
    },
    Method {
        en: "MessageStatus",
        ru: "СостояниеСообщения",
        params: &[required("MessageId", "ИдентификаторСообщения")],
        returns: true,
        call: Client::message_status,
    },
    Method {
        en: "QueueStatus",
        ru: "СостояниеОчереди",
        params: &[],
        returns: true,
        call: Client::queue_status,
    },
    Method {
        en: "WaitForDelivery",
        ru: "ДождатьсяОтправки",
        params: &[optional(
            "TimeoutSeconds",
            "ТаймаутСекунд",
            ParamDefault::Number(30),
        )],
        returns: true,
        call: Client::wait_for_delivery,
    },
    Method {
        en: "Messages",
        ru: "Сообщения",
        params: &[
            required("State", "Состояние"),
            optional("Limit", "Лимит", ParamDefault::Number(100)),
        ],
        returns: true,
        call: Client::messages,
    },
    Method {
        en: "Requeue",
        ru: "ПовторитьОтправку",
        params: &[required("MessageId", "ИдентификаторСообщения")],
        returns: true,
        call: Client::requeue,
    },
    Method {
        en: "VerifySignature",
        ru: "ПроверитьПодпись",
        params: &[
            required("Secret", "Секрет"),
            required("Body", "Тело"),
            required("WebhookId", "ИдентификаторВебхука"),
            required("WebhookTimestamp", "МеткаВремени"),
            required("WebhookSignature", "Подпись"),
            optional(
                "ToleranceSeconds",
                "ДопустимоеОтклонениеСекунд",
                ParamDefault::Number(300),
            ),
        ],
        returns: true,
        call: Client::verify_signature,
    },
];

/// Members that exist only in debug builds, for the C host's tests of the
/// boundary itself.
#[cfg(debug_assertions)]
static DEBUG_METHODS: &[Method] = &[
    Method {
        en: "DebugPanic",
        ru: "ОтладкаПаника",
        params: &[],
        returns: false,
        call: |_, _| panic!("DebugPanic was called"),
    },
    Method {
        en: "DebugReplaceParam",
        ru: "ОтладкаЗаменитьПараметр",
        params: &[required("Value", "Значение")],
        returns: false,
        call: |_, a| {
            let old = a.str(0)?;
            a.set(0, Value::string(&format!("replaced: {old}")));
            Ok(Value::Empty)
        },
    },
];
#[cfg(not(debug_assertions))]
static DEBUG_METHODS: &[Method] = &[];

static METHODS: Lazy<Vec<&'static Method>> =
    Lazy::new(|| PRODUCT_METHODS.iter().chain(DEBUG_METHODS).collect());

static FOLDED_PROPERTIES: Lazy<Vec<(String, String)>> = Lazy::new(|| {
    PROPERTIES
        .iter()
        .map(|p| (wstr::fold(p.en), wstr::fold(p.ru)))
        .collect()
});

static FOLDED_METHODS: Lazy<Vec<(String, String)>> = Lazy::new(|| {
    METHODS
        .iter()
        .map(|m| (wstr::fold(m.en), wstr::fold(m.ru)))
        .collect()
});

pub fn properties() -> &'static [Property] {
    PROPERTIES
}

pub fn methods() -> &'static [&'static Method] {
    &METHODS
}

fn find(folded: &[(String, String)], name: &str) -> Option<usize> {
    let name = wstr::fold(name.trim());
    folded
        .iter()
        .position(|(en, ru)| *en == name || *ru == name)
}

/// Index of a property named in either language, any case.
pub fn find_property(name: &str) -> Option<usize> {
    find(&FOLDED_PROPERTIES, name)
}

/// Index of a method named in either language, any case.
pub fn find_method(name: &str) -> Option<usize> {
    find(&FOLDED_METHODS, name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn assert_unique(names: impl Iterator<Item = &'static str>) {
        let mut seen = HashSet::new();
        for name in names {
            assert!(
                seen.insert(wstr::fold(name)),
                "duplicate name (ignoring case): {name}"
            );
        }
    }

    #[test]
    fn names_are_unique_in_both_languages_ignoring_case() {
        assert_unique(properties().iter().flat_map(|p| [p.en, p.ru]));
        assert_unique(methods().iter().flat_map(|m| [m.en, m.ru]));
        // A name must not mean a property and a method at once.
        let props: HashSet<String> = properties()
            .iter()
            .flat_map(|p| [wstr::fold(p.en), wstr::fold(p.ru)])
            .collect();
        for m in methods() {
            assert!(
                !props.contains(&wstr::fold(m.en)) && !props.contains(&wstr::fold(m.ru)),
                "{}",
                m.en
            );
        }
    }

    #[test]
    fn every_row_is_found_by_both_names_in_any_case() {
        for (i, p) in properties().iter().enumerate() {
            for name in [p.en, p.ru] {
                assert_eq!(find_property(name), Some(i));
                assert_eq!(find_property(&name.to_uppercase()), Some(i), "{name}");
                assert_eq!(find_property(&name.to_lowercase()), Some(i), "{name}");
            }
            assert!(p.get.is_some() || p.set.is_some(), "{} has no access", p.en);
        }
        for (i, m) in methods().iter().enumerate() {
            for name in [m.en, m.ru] {
                assert_eq!(find_method(name), Some(i));
                assert_eq!(find_method(&name.to_uppercase()), Some(i), "{name}");
                assert_eq!(find_method(&name.to_lowercase()), Some(i), "{name}");
            }
        }
        assert_eq!(find_method("NoSuchMethod"), None);
        assert_eq!(find_property("ОтправитьJson"), None);
    }

    #[test]
    fn defaults_are_within_arity_and_trail_required_params() {
        for m in methods() {
            let first_optional = m.params.iter().position(|p| p.default.is_some());
            if let Some(first) = first_optional {
                assert!(
                    m.params[first..].iter().all(|p| p.default.is_some()),
                    "{}: a required parameter follows an optional one",
                    m.en
                );
            }
            assert!(m.params.len() <= 16, "{}", m.en);
        }
    }

    #[test]
    fn contract_members_are_present() {
        // The public contract (ADDIN-API.md) as of this version.
        let props = [
            ("Version", "Версия", true, false),
            ("Timeout", "Таймаут", true, true),
            ("ConnectTimeout", "ТаймаутСоединения", true, true),
            ("VerifySSL", "ПроверятьSSL", true, true),
            ("AllowRedirects", "РазрешитьПеренаправление", true, true),
            ("User", "Пользователь", true, true),
            ("Password", "Пароль", false, true),
            ("Headers", "Заголовки", true, true),
            ("Proxy", "Прокси", true, true),
            ("TrustedCertificates", "ДоверенныеСертификаты", true, true),
            ("ClientCertificate", "КлиентскийСертификат", true, true),
            ("MaxResponseSize", "МаксимальныйРазмерОтвета", true, true),
            ("RetryCount", "КоличествоПовторов", true, true),
            ("RetryDelay", "ЗадержкаПовтора", true, true),
            ("SigningSecret", "СекретПодписи", false, true),
            ("LogFile", "ФайлЖурнала", true, true),
            ("QueueDirectory", "КаталогОчереди", true, true),
            ("RetrySchedule", "РасписаниеПовторов", true, true),
            ("QueueRetention", "СрокХраненияОчереди", true, true),
            ("StatusCode", "КодСостояния", true, false),
            ("ResponseBody", "ТелоОтвета", true, false),
            ("ResponseHeaders", "ЗаголовкиОтвета", true, false),
            ("ErrorText", "ТекстОшибки", true, false),
            ("ErrorCode", "КодОшибки", true, false),
        ];
        for (en, ru, readable, writable) in props {
            let p = &properties()[find_property(en).unwrap_or_else(|| panic!("{en}"))];
            assert_eq!(p.ru, ru);
            assert_eq!(
                (p.get.is_some(), p.set.is_some()),
                (readable, writable),
                "{en}"
            );
        }
        let methods_expected = [
            ("PostJson", "ОтправитьJson", 3, 2, true),
            ("Post", "Отправить", 4, 2, true),
            ("Request", "ВыполнитьЗапрос", 5, 2, true),
            ("SetHeader", "УстановитьЗаголовок", 2, 2, false),
            ("RemoveHeader", "УдалитьЗаголовок", 1, 1, false),
            ("ClearHeaders", "ОчиститьЗаголовки", 0, 0, false),
            ("GetResponseHeader", "ПолучитьЗаголовокОтвета", 1, 1, true),
            (
                "GetResponseBinary",
                "ПолучитьТелоОтветаДвоичныеДанные",
                0,
                0,
                true,
            ),
            ("Messages", "Сообщения", 2, 1, true),
            ("Requeue", "ПовторитьОтправку", 1, 1, true),
        ];
        for (en, ru, arity, required, returns) in methods_expected {
            let m = methods()[find_method(en).unwrap_or_else(|| panic!("{en}"))];
            assert_eq!(m.ru, ru);
            assert_eq!(m.params.len(), arity, "{en}");
            assert_eq!(
                m.params.iter().filter(|p| p.default.is_none()).count(),
                required,
                "{en}"
            );
            assert_eq!(m.returns, returns, "{en}");
        }
    }
}
