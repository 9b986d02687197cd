//! The member table: every property and method once, English and Russian
//! name side by side, with its access, parameters, defaults and handler.
//! Lookup is case-insensitive in both languages (Cyrillic included).

use once_cell::sync::Lazy;

use super::client::Client;
use super::errors::{CallError, Target};
use crate::host::{wstr, Value};

/// Getter of a readable property.
pub type Getter = fn(&Client) -> Value;
/// Setter of a writable property; the target names the property in errors.
pub type Setter = fn(&mut Client, &Value, Target) -> Result<(), CallError>;
/// Handler of a method; `args` has exactly `params.len()` values.
pub type Handler = fn(&mut Client, &mut Args) -> Result<Value, CallError>;

/// The arguments of one call. Handlers read them as a slice and write an
/// in/out parameter with [`Args::set`], so the boundary copies back to the
/// host only what was written (most calls write nothing).
#[derive(Debug)]
pub struct Args {
    values: Vec<Value>,
    written: Vec<bool>,
}

impl Args {
    pub fn new(values: Vec<Value>) -> Self {
        let written = vec![false; values.len()];
        Args { values, written }
    }

    /// Replaces argument `index` (ignored past the end).
    pub fn set(&mut self, index: usize, value: Value) {
        if let (Some(slot), Some(written)) =
            (self.values.get_mut(index), self.written.get_mut(index))
        {
            *slot = value;
            *written = true;
        }
    }

    /// The arguments a handler wrote, with their positions.
    pub fn written(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.values
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.written[i])
    }
}

impl std::ops::Deref for Args {
    type Target = [Value];

    fn deref(&self) -> &[Value] {
        &self.values
    }
}

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
pub enum Default {
    Undefined,
    Str(&'static str),
    Number(i32),
}

impl Default {
    pub fn value(self) -> Value {
        match self {
            Default::Undefined => Value::Empty,
            Default::Str(s) => Value::string(s),
            Default::Number(n) => Value::Int(n.into()),
        }
    }
}

pub struct Param {
    pub en: &'static str,
    pub ru: &'static str,
    /// `None`: the 1C code must pass it.
    pub default: Option<Default>,
}

const fn required(en: &'static str, ru: &'static str) -> Param {
    Param {
        en,
        ru,
        default: None,
    }
}

const fn optional(en: &'static str, ru: &'static str, default: Default) -> Param {
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
        get: Some(|c| Value::number(c.timeout)),
        set: Some(Client::set_timeout),
    },
    Property {
        en: "ConnectTimeout",
        ru: "ТаймаутСоединения",
        get: Some(|c| Value::number(c.connect_timeout)),
        set: Some(Client::set_connect_timeout),
    },
    Property {
        en: "VerifySSL",
        ru: "ПроверятьSSL",
        get: Some(|c| Value::Bool(c.transport.verify_tls)),
        set: Some(Client::set_verify_ssl),
    },
    Property {
        en: "AllowRedirects",
        ru: "РазрешитьПеренаправление",
        get: Some(|c| Value::Bool(c.transport.follow_redirects)),
        set: Some(Client::set_allow_redirects),
    },
    Property {
        en: "User",
        ru: "Пользователь",
        get: Some(|c| text(&c.user)),
        set: Some(Client::set_user),
    },
    Property {
        en: "Password",
        ru: "Пароль",
        get: None,
        set: Some(Client::set_password),
    },
    Property {
        en: "Headers",
        ru: "Заголовки",
        get: Some(|c| text(&c.headers_json())),
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
        set: Some(Client::set_trusted_certificates),
    },
    Property {
        en: "ClientCertificate",
        ru: "КлиентскийСертификат",
        get: Some(|c| text(&c.client_certificate_shown())),
        set: Some(Client::set_client_certificate),
    },
    Property {
        en: "MaxResponseSize",
        ru: "МаксимальныйРазмерОтвета",
        get: Some(|c| Value::number(c.max_response_size)),
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
        get: Some(|c| Value::number(c.retry_delay)),
        set: Some(Client::set_retry_delay),
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
        set: Some(Client::set_log_file),
    },
    Property {
        en: "RetrySchedule",
        ru: "РасписаниеПовторов",
        get: Some(|c| text(&c.retry_schedule)),
        set: Some(Client::set_retry_schedule),
    },
    Property {
        en: "QueueDirectory",
        ru: "КаталогОчереди",
        get: Some(|c| text(&c.queue_directory().to_string_lossy())),
        set: Some(Client::set_queue_directory),
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
        en: "ErrorText",
        ru: "ТекстОшибки",
        get: Some(|c| text(&c.error_text)),
        set: None,
    },
];

const NO_HEADERS: Default = Default::Str("");

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
        call: |c, a| c.post_json(&a[0], &a[1], &a[2]),
    },
    Method {
        en: "Post",
        ru: "Отправить",
        params: &[
            required("URL", "URL"),
            required("Body", "Тело"),
            optional("ContentType", "ТипСодержимого", Default::Str("")),
            optional("Headers", "Заголовки", NO_HEADERS),
        ],
        returns: true,
        call: |c, a| c.post(&a[0], &a[1], &a[2], &a[3]),
    },
    Method {
        en: "Request",
        ru: "ВыполнитьЗапрос",
        params: &[
            required("Method", "Метод"),
            required("URL", "URL"),
            optional("Body", "Тело", Default::Undefined),
            optional("ContentType", "ТипСодержимого", Default::Str("")),
            optional("Headers", "Заголовки", NO_HEADERS),
        ],
        returns: true,
        call: |c, a| c.request(&a[0], &a[1], &a[2], &a[3], &a[4]),
    },
    Method {
        en: "SetHeader",
        ru: "УстановитьЗаголовок",
        params: &[required("Name", "Имя"), required("Value", "Значение")],
        returns: false,
        call: |c, a| c.set_header(&a[0], &a[1]).map(|()| Value::Empty),
    },
    Method {
        en: "RemoveHeader",
        ru: "УдалитьЗаголовок",
        params: &[required("Name", "Имя")],
        returns: false,
        call: |c, a| c.remove_header(&a[0]).map(|()| Value::Empty),
    },
    Method {
        en: "ClearHeaders",
        ru: "ОчиститьЗаголовки",
        params: &[],
        returns: false,
        call: |c, _| {
            c.clear_headers();
            Ok(Value::Empty)
        },
    },
    Method {
        en: "GetResponseHeader",
        ru: "ПолучитьЗаголовокОтвета",
        params: &[required("Name", "Имя")],
        returns: true,
        call: |c, a| c.response_header(&a[0]),
    },
    Method {
        en: "GetResponseBinary",
        ru: "ПолучитьТелоОтветаДвоичныеДанные",
        params: &[],
        returns: true,
        call: |c, _| Ok(c.response_binary()),
    },
    Method {
        en: "Enqueue",
        ru: "ПоставитьВОчередь",
        params: &[
            required("URL", "URL"),
            required("Json", "Json"),
            optional("Headers", "Заголовки", NO_HEADERS),
            optional("MessageId", "ИдентификаторСообщения", Default::Str("")),
        ],
        returns: true,
        call: |c, a| c.enqueue(&a[0], &a[1], &a[2], &a[3]),
    },
    Method {
        en: "MessageStatus",
        ru: "СостояниеСообщения",
        params: &[required("MessageId", "ИдентификаторСообщения")],
        returns: true,
        call: |c, a| c.message_status(&a[0]),
    },
    Method {
        en: "QueueStatus",
        ru: "СостояниеОчереди",
        params: &[],
        returns: true,
        call: |c, _| c.queue_status(),
    },
    Method {
        en: "WaitForDelivery",
        ru: "ДождатьсяОтправки",
        params: &[optional(
            "TimeoutSeconds",
            "ТаймаутСекунд",
            Default::Number(30),
        )],
        returns: true,
        call: |c, a| c.wait_for_delivery(&a[0]),
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
            let old = super::args::string(&a[0], Target::param("Value", "Значение"))?;
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
            ("StatusCode", "КодСостояния", true, false),
            ("ResponseBody", "ТелоОтвета", true, false),
            ("ResponseHeaders", "ЗаголовкиОтвета", true, false),
            ("ErrorText", "ТекстОшибки", true, false),
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
