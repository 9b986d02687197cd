//! The add-in driven through the C host exactly as 1C drives it (under
//! AddressSanitizer), against servers started here on 127.0.0.1. Each test
//! asserts what the server received and what the 1C code would read back,
//! and ends with a clean memory ledger: every block the add-in handed over
//! was freed by the host, and nothing foreign was freed.

mod support;

use std::time::Duration;

use base64::Engine as _;
use support::host::{self, q, HostRun};
use support::{closed_port, HttpProxy, Socks5Proxy, StallServer, TestServer, TlsFixtures};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn run_en(script: &str) -> HostRun {
    let run = host::run("en", script);
    run.assert_clean();
    run
}

fn run_ru(script: &str) -> HostRun {
    let run = host::run("ru", script);
    run.assert_clean();
    run
}

fn base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

#[test]
fn session_protocol_member_table_and_defaults() {
    let run = run_en(
        "members
get Version
get Timeout
get ConnectTimeout
get VerifySSL
get AllowRedirects
get User
get Password
get Headers
get Proxy
get TrustedCertificates
get ClientCertificate
get MaxResponseSize
get RetrySchedule
get StatusCode
get ResponseBody
get ResponseHeaders
get ErrorText
get TIMEOUT
get таймаут
get ТАЙМАУТСОЕДИНЕНИЯ
get кодсостояния
call NoSuchMethod
get NoSuchProperty",
    );
    let out = &run.stdout;
    for line in [
        "# classes: Client",
        "# info: 2000",
        "# extension: Client",
        "# capabilities: 3",
        "# attach type: 3",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{out}");
    }
    // Every member is listed with both names; the host checked lookups in
    // both languages and both cases (an ABI error otherwise).
    for (en, ru) in [
        ("PostJson", "ОтправитьJson"),
        ("Post", "Отправить"),
        ("Request", "ВыполнитьЗапрос"),
        ("SetHeader", "УстановитьЗаголовок"),
        ("RemoveHeader", "УдалитьЗаголовок"),
        ("ClearHeaders", "ОчиститьЗаголовки"),
        ("GetResponseHeader", "ПолучитьЗаголовокОтвета"),
        ("GetResponseBinary", "ПолучитьТелоОтветаДвоичныеДанные"),
        ("Timeout", "Таймаут"),
        ("ErrorText", "ТекстОшибки"),
    ] {
        assert!(
            out.contains(&format!("en={en} ru={ru} ")),
            "{en}/{ru} not listed"
        );
    }
    assert!(out.contains("en=PostJson ru=ОтправитьJson params=3 retval=1"));
    assert!(out.contains("en=SetHeader ru=УстановитьЗаголовок params=2 retval=0"));
    assert!(out.contains("en=Password ru=Пароль readable=0 writable=1"));
    assert!(out.contains("en=StatusCode ru=КодСостояния readable=1 writable=0"));
    // Defaults of optional parameters: PostJson's Headers, Request's Body.
    assert!(out.contains("# default 0 2 = string \"\""));
    assert!(out.contains("# default 2 2 = undefined"));
    assert!(out.contains("# default 0 1 = none"));

    // Version: the crate version, with the git commit as build metadata.
    let version = run.step(1).string();
    let commit = version
        .strip_prefix(VERSION)
        .unwrap_or_else(|| panic!("{version}"));
    assert!(
        commit.is_empty()
            || (commit.len() == 13
                && commit.starts_with('+')
                && commit[1..].chars().all(|c| c.is_ascii_hexdigit())),
        "{version}"
    );
    let expected = [
        format!("string \"{version}\""),
        "number 30".into(),
        "number 10".into(),
        "bool true".into(),
        "bool true".into(),
        "string \"\"".into(),
    ];
    for (i, want) in expected.iter().enumerate() {
        assert_eq!(run.step(i + 1).ok(), want, "{}", run.step(i + 1).command);
    }
    assert_eq!(run.step(7).err(), "property is not readable: Password");
    let rest = [
        "string \"{}\"",
        "string \"\"",
        "string \"\"",
        "string \"\"",
        "number 67108864",
        "string \"5,300,1800,7200,18000,36000,36000\"",
        "number 0",
        "string \"\"",
        "string \"{}\"",
        "string \"\"",
        "number 30",
        "number 30",
        "number 10",
        "number 0",
    ];
    for (i, want) in rest.iter().enumerate() {
        assert_eq!(run.step(i + 8).ok(), *want, "{}", run.step(i + 8).command);
    }
    assert_eq!(run.step(22).err(), "method not found: NoSuchMethod");
    assert_eq!(run.step(23).err(), "property not found: NoSuchProperty");
}

#[test]
fn properties_round_trip_and_hide_secrets() {
    let run = run_en(&format!(
        "set Timeout 1.5
get Timeout
set ConnectTimeout 3
get ConnectTimeout
set VerifySSL false
get VerifySSL
set AllowRedirects false
get AllowRedirects
set User {user}
get User
set Password {pw}
set Headers {headers}
get Headers
set Proxy {proxy}
get Proxy
set MaxResponseSize 1000
get MaxResponseSize
set RetrySchedule {sched}
get RetrySchedule
set RetrySchedule {empty}
set RetrySchedule {bad}
set StatusCode 5
set Timeout {text}
set VerifySSL 1
set Headers {array}
set Proxy {ftp}
set MaxResponseSize -1
set Timeout undefined
get ErrorText",
        user = q("Пётр"),
        pw = q("p@ss-secret"),
        headers = q(r#"{"X-A":"1","Authorization":"Bearer s3cr3t-token"}"#),
        proxy = q("http://u:proxy-secret@127.0.0.1:3128"),
        sched = q("1,1,1"),
        empty = q(""),
        bad = q("1,x"),
        text = q("30"),
        array = q("[1]"),
        ftp = q("ftp://127.0.0.1:21"),
    ));
    assert_eq!(run.step(1).ok(), "number 1.5");
    assert_eq!(run.step(3).ok(), "number 3");
    assert_eq!(run.step(5).ok(), "bool false");
    assert_eq!(run.step(7).ok(), "bool false");
    assert_eq!(run.step(9).string(), "Пётр");
    assert_eq!(
        run.step(12).string(),
        r#"{"X-A":"1","Authorization":"***"}"#
    );
    assert_eq!(run.step(14).string(), "http://u:***@127.0.0.1:3128/");
    assert_eq!(run.step(16).ok(), "number 1000");
    assert_eq!(run.step(18).string(), "1,1,1");
    assert!(
        run.step(19).err().contains("RetrySchedule"),
        "{}",
        run.step(19).err()
    );
    assert!(run.step(20).err().contains("pauses in seconds"));
    assert_eq!(run.step(21).err(), "property is read-only: StatusCode");
    assert_eq!(
        run.step(22).err(),
        "property Timeout must be a Number, not String"
    );
    assert!(
        run.step(22).err().contains("must be a Number, not String"),
        "{}",
        run.step(22).err()
    );
    assert!(run.step(23).err().contains("must be a Boolean, not Number"));
    assert!(run.step(24).err().contains("JSON object"));
    assert_eq!(
        run.step(25).err(),
        "Proxy: unsupported proxy scheme \"ftp\": use http, https, socks5 or socks5h"
    );
    assert_eq!(
        run.step(26).err(),
        "property MaxResponseSize cannot be negative"
    );
    assert!(run.step(27).err().contains("not Undefined"));
    // ErrorText holds the text of the last failure.
    assert_eq!(run.step(28).string(), run.step(27).err());
    for secret in ["p@ss-secret", "s3cr3t-token", "proxy-secret"] {
        assert!(
            !run.shown().contains(secret),
            "{secret} leaked:\n{}",
            run.stdout
        );
    }
}

/// Configure sets several properties in one call (what a client form
/// awaits as НастроитьАсинх): names in either language and any case, an
/// object value as its JSON text; every name is checked before any value
/// is set, and a bad value names its property.
#[test]
fn configure_sets_properties_in_one_call() {
    let run = run_en(&format!(
        "call Configure {settings}
get Timeout
get VerifySSL
get Headers
get User
get RetryCount
call Настроить {russian}
get ConnectTimeout
get MaxResponseSize
call Configure {unknown}
get ErrorCode
get Timeout
call Configure {read_only}
call Configure {bad_value}
get Timeout
get RetryCount
call Configure {array}
call Configure {broken}
get ErrorCode
call Configure {empty}
get ErrorCode",
        settings = q(
            r#"{"Timeout": 12.5, "ПроверятьSSL": false, "headers": {"X-A": "1", "Authorization": "Bearer s3cr3t-token"}, "USER": "Пётр", "Password": "p@ss-secret", "RetryCount": 2}"#
        ),
        russian = q(r#"{"ТаймаутСоединения": 4, "максимальныйразмерответа": 2048}"#),
        unknown = q(r#"{"Timeout": 99, "NoSuchSetting": 1}"#),
        read_only = q(r#"{"StatusCode": 200}"#),
        bad_value = q(r#"{"Timeout": 7, "RetryCount": -1}"#),
        array = q("[1]"),
        broken = q("{"),
        empty = q("{}"),
    ));
    assert_eq!(run.step(0).ok(), "ok");
    assert_eq!(run.step(1).ok(), "number 12.5");
    assert_eq!(run.step(2).ok(), "bool false");
    assert_eq!(run.step(3).string(), r#"{"X-A":"1","Authorization":"***"}"#);
    assert_eq!(run.step(4).string(), "Пётр");
    assert_eq!(run.step(5).ok(), "number 2");
    assert_eq!(run.step(7).ok(), "number 4");
    assert_eq!(run.step(8).ok(), "number 2048");
    assert_eq!(
        run.step(9).err(),
        "Configure: parameter Settings: \"NoSuchSetting\" is not a writable property"
    );
    assert_eq!(run.step(10).string(), "invalid_argument");
    // Names are checked first: the Timeout before the unknown name was not set.
    assert_eq!(run.step(11).ok(), "number 12.5");
    assert_eq!(
        run.step(12).err(),
        "Configure: parameter Settings: \"StatusCode\" is not a writable property"
    );
    // Values are set in order: Timeout was, the bad RetryCount was not.
    assert_eq!(run.step(13).err(), "property RetryCount cannot be negative");
    assert_eq!(run.step(14).ok(), "number 7");
    assert_eq!(run.step(15).ok(), "number 2");
    assert!(run.step(16).err().contains("JSON object of property names"));
    assert!(run.step(17).err().contains("not valid JSON"));
    assert_eq!(run.step(18).string(), "invalid_json");
    assert_eq!(run.step(19).ok(), "ok");
    assert_eq!(run.step(20).string(), "");
    for secret in ["p@ss-secret", "s3cr3t-token"] {
        assert!(
            !run.shown().contains(secret),
            "{secret} leaked:\n{}",
            run.stdout
        );
    }
}

#[test]
fn post_json_sends_exactly_the_json() {
    let server = TestServer::http();
    let json = r#"{"event":"document_created","text":"Привет, мир","n":1}"#;
    let run = run_en(&format!(
        "call PostJson {url} {json}
get StatusCode
get ResponseBody
call GetResponseHeader {ct}
get ResponseHeaders
get ErrorText
call ОтправитьJson {url} {json}",
        url = q(&server.url("/echo")),
        json = q(json),
        ct = q("CONTENT-TYPE"),
    ));
    assert_eq!(run.step(0).string(), json);
    assert_eq!(run.step(1).ok(), "number 200");
    assert_eq!(run.step(2).string(), json);
    assert_eq!(run.step(3).string(), "application/json; charset=utf-8");
    let headers: serde_json::Value = serde_json::from_str(&run.step(4).string()).unwrap();
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    assert_eq!(run.step(5).string(), "");
    assert_eq!(run.step(6).string(), json);

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let r = &requests[0];
    let head = r.raw_head();
    assert!(head.starts_with("POST /echo HTTP/1.1\r\n"), "{head}");
    let expected_body = json.as_bytes();
    assert_eq!(r.body, expected_body);
    assert!(
        r.raw.ends_with(expected_body),
        "body must end the raw request"
    );
    assert_eq!(r.raw.len(), head.len() + expected_body.len());
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        r.header("content-length"),
        Some(expected_body.len().to_string().as_str())
    );
    assert_eq!(
        r.header("user-agent"),
        Some(format!("Webhook1C/{VERSION}").as_str())
    );
    assert_eq!(
        r.header("host"),
        Some(format!("127.0.0.1:{}", server.port()).as_str())
    );
    let mut names: Vec<String> = r
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "accept",
            "accept-encoding",
            "content-length",
            "content-type",
            "host",
            "user-agent"
        ]
    );
    assert_eq!(
        requests[1].raw, r.raw,
        "the Russian name sends the same bytes"
    );
}

/// A form (AddFormField, AddFormFile) goes out as multipart/form-data with
/// the next Request without Body: text fields as UTF-8, files with their
/// names and types, bytes as given. It is used once; a call with a body of
/// its own while a form is pending sends nothing.
#[test]
fn a_form_goes_out_as_multipart_form_data() {
    let server = TestServer::http();
    let url = q(&server.url("/upload"));
    let run = run_ru(&format!(
        "call ДобавитьПолеФормы {chat} {chat_id}
call ДобавитьПолеФормы {caption} {caption_value}
call ДобавитьФайлФормы {document} {file_name} hex:00ff0d0a2d2d
call ДобавитьФайлФормы {photo} {photo_name} {photo_text} {png}
call ВыполнитьЗапрос {post} {url}
call ВыполнитьЗапрос {post} {url}
call AddFormField {chat} {chat_id}
call ОтправитьJson {url} {json}
get КодОшибки
call Отправить {url} {json}
call ВыполнитьЗапрос {post} {url} {json}
call ОчиститьФорму
call ОтправитьJson {url} {json}",
        chat = q("chat_id"),
        chat_id = q("42"),
        caption = q("подпись"),
        caption_value = q("Счёт №1 \"срочно\""),
        document = q("document"),
        file_name = q("счёт.pdf"),
        photo = q("photo"),
        photo_name = q("a\"b.png"),
        photo_text = q("not really a png"),
        png = q("image/png"),
        post = q("POST"),
        json = q("{}"),
    ));
    for step in 0..7 {
        run.step(step).ok();
    }
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        3,
        "the form once, an empty POST, then PostJson after ClearForm"
    );
    let form = &requests[0];
    let content_type = form.header("content-type").expect("a Content-Type");
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("{content_type}"));
    let delimiter = format!("--{boundary}");
    let body = &form.body;
    let end = format!("\r\n{delimiter}--\r\n");
    assert!(body.starts_with(delimiter.as_bytes()) && body.ends_with(end.as_bytes()));
    // The parts between the delimiters: head, blank line, data.
    let inner = &body[delimiter.len() + 2..body.len() - end.len()];
    let separator = format!("\r\n{delimiter}\r\n");
    let mut parts = Vec::new();
    let mut rest = inner;
    while let Some(at) = rest
        .windows(separator.len())
        .position(|w| w == separator.as_bytes())
    {
        parts.push(&rest[..at]);
        rest = &rest[at + separator.len()..];
    }
    parts.push(rest);
    let split = |part: &[u8]| {
        let at = part
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a part head");
        (
            String::from_utf8(part[..at].to_vec()).unwrap(),
            part[at + 4..].to_vec(),
        )
    };
    let expected: [(&str, &[u8]); 4] = [
        ("Content-Disposition: form-data; name=\"chat_id\"", b"42"),
        (
            "Content-Disposition: form-data; name=\"подпись\"",
            "Счёт №1 \"срочно\"".as_bytes(),
        ),
        (
            "Content-Disposition: form-data; name=\"document\"; filename=\"счёт.pdf\"\r\n\
             Content-Type: application/octet-stream",
            &[0x00, 0xff, 0x0d, 0x0a, 0x2d, 0x2d],
        ),
        (
            "Content-Disposition: form-data; name=\"photo\"; filename=\"a%22b.png\"\r\n\
             Content-Type: image/png",
            b"not really a png",
        ),
    ];
    assert_eq!(
        parts.len(),
        expected.len(),
        "{}",
        String::from_utf8_lossy(body)
    );
    for (part, (head, data)) in parts.iter().zip(expected) {
        assert_eq!(split(part), (head.to_string(), data.to_vec()));
    }
    // The form was used once: the second Request had no body.
    assert!(requests[1].body.is_empty() && requests[1].header("content-type").is_none());
    // A pending form and a call with its own body: an exception, nothing sent.
    let pending =
        "форму, добавленную ДобавитьПолеФормы/ДобавитьФайлФормы, отправляет ВыполнитьЗапрос";
    for step in [7, 9, 10] {
        assert!(
            run.step(step).err().contains(pending),
            "{}",
            run.step(step).err()
        );
    }
    assert_eq!(run.step(8).string(), "form_pending");
    assert_eq!(requests[2].body, b"{}");
}

#[test]
fn post_and_request_bodies_and_methods() {
    let server = TestServer::http();
    let url = q(&server.url("/echo"));
    let run = run_en(&format!(
        "call Post {url} {text}
call Post {url} hex:00ff10
call Post {url} {form} {form_type}
call Request {get} {url}
call Request {head} {url}
call Request {put} {url} {put_body}
call Request {patch} {url} {json} {json_type}
call Request {delete} {url}
call Request {options} {url}
call Request {post} {url} hex:01
call Request {trace} {url}
call Request {get} {binary}
call GetResponseBinary
call Post {url} undefined
call Post {url} 5",
        text = q("plain текст"),
        form = q("a=1&b=2"),
        form_type = q("application/x-www-form-urlencoded"),
        get = q("GET"),
        head = q("head"),
        put = q("PUT"),
        put_body = q("put body"),
        patch = q("Patch"),
        json = q(r#"{"a":1}"#),
        json_type = q("application/json"),
        delete = q("DELETE"),
        options = q("OPTIONS"),
        post = q("POST"),
        trace = q("TRACE"),
        binary = q(&server.url("/binary")),
    ));
    let requests = server.requests();
    let expect = [
        (
            "POST",
            Some("text/plain; charset=utf-8"),
            "plain текст".as_bytes().to_vec(),
        ),
        (
            "POST",
            Some("application/octet-stream"),
            vec![0x00, 0xff, 0x10],
        ),
        (
            "POST",
            Some("application/x-www-form-urlencoded"),
            b"a=1&b=2".to_vec(),
        ),
        ("GET", None, vec![]),
        ("HEAD", None, vec![]),
        (
            "PUT",
            Some("text/plain; charset=utf-8"),
            b"put body".to_vec(),
        ),
        ("PATCH", Some("application/json"), br#"{"a":1}"#.to_vec()),
        ("DELETE", None, vec![]),
        ("OPTIONS", None, vec![]),
        ("POST", Some("application/octet-stream"), vec![0x01]),
    ];
    assert_eq!(
        requests.len(),
        expect.len() + 1,
        "TRACE and bad bodies send nothing"
    );
    for (r, (method, ct, body)) in requests.iter().zip(expect.iter()) {
        assert_eq!(r.method, *method);
        assert_eq!(r.header("content-type"), *ct, "{method}");
        assert_eq!(&r.body, body, "{method}");
    }
    assert_eq!(run.step(0).string(), "plain текст");
    assert_eq!(
        run.step(1).string(),
        "\u{0}\u{fffd}\u{10}",
        "binary echoed, text view lossy"
    );
    assert!(run
        .step(10)
        .err()
        .contains("unsupported HTTP method \"TRACE\""));
    let hex: String = (0..=255u8).map(|b| format!("{b:02x}")).collect();
    assert_eq!(run.step(12).ok(), format!("binary 256 {hex}"));
    assert!(run
        .step(13)
        .err()
        .contains("parameter Body must be a String or BinaryData, not Undefined"));
    assert!(run.step(14).err().contains("not Number"));
}

#[test]
fn headers_per_object_per_call_and_basic_auth() {
    let server = TestServer::http();
    let url = q(&server.url("/echo"));
    let run = run_en(&format!(
        "call SetHeader {x_one} {one}
call SetHeader {x_one_lower} {uno}
call SetHeader {x_two} {two}
call RemoveHeader {x_two_upper}
set User {user}
set Password {pw}
call PostJson {url} {empty} {call_headers}
call ClearHeaders
set Headers {json_headers}
set User {nobody}
call PostJson {url} {empty}
call SetHeader {bad_name} {v}
call SetHeader {x_bad} {bad_value}
call SetHeader {auth} {bearer}
call SetHeader {ua} {custom_ua}
set User {user}
call PostJson {url} {empty} {ct_header}
get Headers",
        x_one = q("X-One"),
        one = q("1"),
        x_one_lower = q("x-one"),
        uno = q("uno"),
        x_two = q("X-Two"),
        two = q("2"),
        x_two_upper = q("X-TWO"),
        user = q("alice"),
        pw = q("p@ss:word"),
        empty = q("{}"),
        call_headers = q(r#"{"X-Call":"c","X-ONE":"override","X-Num":5}"#),
        json_headers = q(r#"{"X-Json":"j"}"#),
        nobody = q(""),
        bad_name = q("Bad Name"),
        v = q("v"),
        x_bad = q("X-Bad"),
        bad_value = q("a\nb"),
        auth = q("Authorization"),
        bearer = q("Bearer tok-123"),
        ua = q("User-Agent"),
        custom_ua = q("MyConfiguration/2.0"),
        ct_header = q(r#"{"Content-Type":"application/vnd.api+json"}"#),
    ));
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let first = &requests[0];
    assert_eq!(first.header_all("x-one"), ["override"]);
    assert_eq!(first.header("x-call"), Some("c"));
    assert_eq!(first.header("x-num"), Some("5"));
    assert_eq!(first.header("x-two"), None);
    let expected_auth = format!("Basic {}", base64(b"alice:p@ss:word"));
    assert_eq!(first.header("authorization"), Some(expected_auth.as_str()));

    let second = &requests[1];
    assert_eq!(second.header("x-json"), Some("j"));
    assert_eq!(second.header("x-one"), None);
    assert_eq!(
        second.header("authorization"),
        None,
        "no User, no Basic auth"
    );

    assert!(run
        .step(11)
        .err()
        .contains("invalid header name \"Bad Name\""));
    assert!(run
        .step(12)
        .err()
        .contains("invalid value of header \"X-Bad\""));

    let third = &requests[2];
    assert_eq!(
        third.header_all("authorization"),
        ["Bearer tok-123"],
        "an explicit header wins"
    );
    assert_eq!(third.header_all("user-agent"), ["MyConfiguration/2.0"]);
    assert_eq!(
        third.header_all("content-type"),
        ["application/vnd.api+json"]
    );
    let shown = run.step(17).string();
    assert!(
        shown.contains("\"Authorization\":\"***\"") && !shown.contains("tok-123"),
        "{shown}"
    );
}

#[test]
fn errors_in_english_name_what_and_where() {
    let server = TestServer::http();
    let closed = closed_port();
    let url = q(&server.url("/echo"));
    let run = run_en(&format!(
        "call PostJson {refused} {empty}
get ErrorText
get StatusCode
call PostJson 42 {empty}
call PostJson undefined {empty}
call PostJson date:2024-01-01T00:00:00 {empty}
call PostJson {blank} {empty}
call PostJson {ftp} {empty}
call PostJson {url} {bad_json}
call PostJson {url} {empty} {bad_header}
call PostJson {surrogate_url} {empty}
call PostJson {url} {surrogate_json}
call PostJson {url} 12
call PostJson {no_host} {empty}
call PostJson {secret_url} {empty}",
        refused = q(&format!("http://127.0.0.1:{closed}/hook")),
        empty = q("{}"),
        blank = q("  "),
        ftp = q("ftp://127.0.0.1/x"),
        bad_json = q("{\n  \"a\": 1,\n  \"b\": }"),
        bad_header = q(r#"{"Bad Name":"1"}"#),
        surrogate_url = "\"http://127.0.0.1/\\uD800\"",
        surrogate_json = "\"\\\"\\uDC00\\\"\"",
        no_host = q("http://"),
        secret_url = q(&format!(
            "http://user:pa55word@127.0.0.1:{closed}/x?token=t0ken&a=1"
        )),
    ));
    let refused = format!(
        "PostJson: could not connect to http://127.0.0.1:{closed}/hook: connection refused"
    );
    assert_eq!(run.step(0).err(), refused);
    assert_eq!(run.step(1).string(), refused);
    assert_eq!(run.step(2).ok(), "number 0");
    assert_eq!(
        run.step(3).err(),
        "PostJson: parameter URL must be a String, not Number"
    );
    assert_eq!(
        run.step(4).err(),
        "PostJson: parameter URL must be a String, not Undefined"
    );
    assert_eq!(
        run.step(5).err(),
        "PostJson: parameter URL must be a String, not Date"
    );
    assert_eq!(run.step(6).err(), "PostJson: the URL is empty");
    assert!(run
        .step(7)
        .err()
        .starts_with("PostJson: unsupported URL scheme \"ftp\""));
    assert_eq!(
        run.step(8).err(),
        "PostJson: parameter Json is not valid JSON: expected value at line 3, column 8; nothing was sent"
    );
    assert_eq!(
        run.step(9).err(),
        "PostJson: invalid header name \"Bad Name\""
    );
    assert!(run.step(10).err().contains(
        "parameter URL contains an invalid character (an unpaired UTF-16 surrogate) at position 18"
    ));
    assert!(run
        .step(11)
        .err()
        .contains("parameter Json contains an invalid character"));
    assert!(run
        .step(12)
        .err()
        .contains("parameter Json must be a String, not Number"));
    assert!(
        run.step(13).err().contains("invalid URL"),
        "{}",
        run.step(13).err()
    );
    let secret = run.step(14).err();
    assert!(
        secret.contains(&format!("http://127.0.0.1:{closed}/x?token=***&a=1")),
        "{secret}"
    );
    assert!(!run.shown().contains("pa55word") && !run.shown().contains("t0ken"));
    assert_eq!(
        server.request_count(),
        0,
        "nothing may be sent after a validation error"
    );
}

#[test]
fn errors_in_russian_when_the_host_speaks_russian() {
    let server = TestServer::http();
    let closed = closed_port();
    let run = run_ru(&format!(
        "call ОтправитьJson {refused} {empty}
get ТекстОшибки
call ОтправитьJson 42 {empty}
call ОтправитьJson undefined {empty}
call ОтправитьJson {url} {bad_json}
set Таймаут -5
set ПроверятьSSL {yes}
call ВыполнитьЗапрос {trace} {url}
lang en
call PostJson 42 {empty}",
        refused = q(&format!("http://127.0.0.1:{closed}/hook")),
        empty = q("{}"),
        url = q(&server.url("/echo")),
        bad_json = q("{\"a\":}"),
        yes = q("да"),
        trace = q("TRACE"),
    ));
    let refused = format!("ОтправитьJson: не удалось подключиться к http://127.0.0.1:{closed}/hook: соединение отклонено");
    assert_eq!(run.step(0).err(), refused);
    assert_eq!(run.step(1).string(), refused);
    assert_eq!(
        run.step(2).err(),
        "ОтправитьJson: параметр URL должен быть строкой (Строка), а передано значение типа Число"
    );
    assert!(run.step(3).err().ends_with("типа Неопределено"));
    assert!(
        run.step(4).err().contains("некорректный JSON")
            && run.step(4).err().contains("строка 1, колонка 6")
    );
    assert!(
        run.step(5)
            .err()
            .contains("свойство Таймаут не может быть отрицательным"),
        "{}",
        run.step(5).err()
    );
    assert!(run.step(6).err().contains("булевым"));
    assert!(run.step(7).err().contains("неподдерживаемый HTTP-метод"));
    assert_eq!(
        run.step(9).err(),
        "PostJson: parameter URL must be a String, not Number"
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn big_bodies_and_the_response_size_limit() {
    let server = TestServer::http();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let json_path = dir.join(format!("big-{}.json", std::process::id()));
    let filler = "x".repeat(50 * 1024 * 1024);
    std::fs::write(&json_path, format!("{{\"data\":\"{filler}\"}}")).unwrap();
    let run = run_en(&format!(
        "call PostJson {url} textfile:{path}
call Post {url} repeat:52428800:a
call Post {url} zeros:52428800
set MaxResponseSize 100
call Request {get} {binary}
get StatusCode
set MaxResponseSize 0
call Request {get} {big}
get StatusCode",
        url = q(&server.url("/status/201")),
        path = host::path(&json_path),
        get = q("GET"),
        binary = q(&server.url("/binary")),
        big = q(&server.url("/bytes/1048576")),
    ));
    let _ = std::fs::remove_file(&json_path);
    assert_eq!(run.step(0).string(), "status 201");
    assert_eq!(run.step(1).string(), "status 201");
    assert_eq!(run.step(2).string(), "status 201");
    let requests = server.requests();
    assert_eq!(requests[0].body.len(), filler.len() + 11);
    assert_eq!(requests[1].body.len(), 52_428_800);
    assert!(requests[1].body.iter().all(|&b| b == b'a'));
    assert_eq!(requests[2].body.len(), 52_428_800);
    assert!(
        run.step(4)
            .err()
            .contains("larger than MaxResponseSize (100 bytes)"),
        "{}",
        run.step(4).err()
    );
    assert_eq!(run.step(5).ok(), "number 0");
    assert_eq!(run.step(8).ok(), "number 200");
}

#[test]
fn https_with_trusted_certificates_client_certificates_and_bad_servers() {
    let tls = TlsFixtures::shared();
    let good = TestServer::https(tls.server_config());
    let mtls = TestServer::https(tls.mtls_server_config());
    let expired = TestServer::https(tls.expired_server_config());
    let wrong_name = TestServer::https(tls.wrong_name_server_config());
    let unknown = TestServer::https(tls.unknown_ca_server_config());
    let missing = host::path(std::path::Path::new("/nonexistent/ca.pem"));
    let run = run_en(&format!(
        "call Request {get} {good}
set VerifySSL false
call Request {get} {good}
new
set TrustedCertificates {ca_path}
call Request {get} {good}
set TrustedCertificates {ca_pem}
call PostJson {good} {json}
call Request {get} {mtls}
set ClientCertificate {client_path}
call Request {get} {mtls}
set ClientCertificate {client_pem}
call Request {get} {mtls}
get ClientCertificate
call Request {get} {expired}
call Request {get} {wrong_name}
call Request {get} {unknown}
set TrustedCertificates {missing}
call Request {get} {good}
set TrustedCertificates {not_pem}
call Request {get} {good}",
        get = q("GET"),
        good = q(&good.url("/echo")),
        mtls = q(&mtls.url("/echo")),
        expired = q(&expired.url("/echo")),
        wrong_name = q(&wrong_name.url("/echo")),
        unknown = q(&unknown.url("/echo")),
        ca_path = q(&host::path(&tls.ca_path)),
        ca_pem = q(&tls.ca_pem),
        client_path = q(&host::path(&tls.client_path)),
        client_pem = q(&tls.client_pem),
        json = q(r#"{"tls":true}"#),
        missing = q(&missing),
        not_pem = q("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"),
    ));
    let port = good.port();
    assert_eq!(
        run.step(0).err(),
        format!("Request: TLS error with https://localhost:{port}/echo: the server certificate is not trusted (unknown issuer); add its CA with TrustedCertificates")
    );
    assert_eq!(
        run.step(2).string(),
        "",
        "VerifySSL=false accepts the certificate"
    );
    assert_eq!(run.step(5).string(), "");
    assert_eq!(
        run.step(7).string(),
        r#"{"tls":true}"#,
        "PEM text works as well as a path"
    );
    let no_client_cert = run.step(8).err();
    assert!(no_client_cert.starts_with("Request: "), "{no_client_cert}");
    assert!(
        no_client_cert.ends_with("the server rejected the connection (TLS alert CertificateRequired); check ClientCertificate"),
        "{no_client_cert}"
    );
    assert!(
        no_client_cert.contains(&format!("https://localhost:{}/echo", mtls.port())),
        "{no_client_cert}"
    );
    assert_eq!(run.step(10).string(), "");
    assert_eq!(run.step(12).string(), "");
    let shown = run.step(13).string();
    assert!(
        shown.contains("BEGIN CERTIFICATE") && !shown.contains(&tls.client_key_pem[40..80]),
        "{shown}"
    );
    assert!(
        run.step(14).err().contains("has expired"),
        "{}",
        run.step(14).err()
    );
    assert!(
        run.step(15).err().contains("not valid for this host name"),
        "{}",
        run.step(15).err()
    );
    assert!(
        run.step(16).err().contains("unknown issuer"),
        "{}",
        run.step(16).err()
    );
    assert!(
        run.step(18).err().contains(&format!(
            "TrustedCertificates: cannot read the file \"{missing}\""
        )),
        "{}",
        run.step(18).err()
    );
    assert!(
        run.step(20)
            .err()
            .contains("TrustedCertificates: invalid PEM"),
        "{}",
        run.step(20).err()
    );

    let mtls_requests = mtls.requests();
    assert_eq!(mtls_requests.len(), 2);
    assert!(mtls_requests
        .iter()
        .all(|r| r.client_cert_cn.as_deref() == Some(support::CLIENT_CN)));
    assert_eq!(good.requests().len(), 3);
    assert!(good.requests().iter().all(|r| r.tls));
    for s in [&expired, &wrong_name, &unknown] {
        assert_eq!(s.request_count(), 0);
    }
}

#[test]
fn redirects_follow_browser_rules_or_stop_and_statuses_are_answers() {
    let server = TestServer::http();
    let run = run_en(&format!(
        "call PostJson {r302} {json}
get StatusCode
call PostJson {r307} {json}
call PostJson {r303} {json}
set AllowRedirects false
call PostJson {r302} {json}
get StatusCode
call GetResponseHeader {location}
set AllowRedirects true
call Request {get} {lp}
call PostJson {s500} {json}
get StatusCode
get ErrorText",
        r302 = q(&server.url("/redirect/302?to=/echo")),
        r307 = q(&server.url("/redirect/307?to=/echo")),
        r303 = q(&server.url("/redirect/303?to=/echo")),
        json = q(r#"{"a":1}"#),
        location = q("Location"),
        get = q("GET"),
        lp = q(&server.url("/redirect-loop")),
        s500 = q(&server.url("/status/500")),
    ));
    let r = server.requests();
    assert_eq!(
        (r[0].method.as_str(), r[0].target.as_str()),
        ("POST", "/redirect/302?to=/echo")
    );
    assert_eq!(
        (r[1].method.as_str(), r[1].path(), r[1].body.len()),
        ("GET", "/echo", 0)
    );
    assert_eq!(run.step(1).ok(), "number 200");
    assert!(
        r.iter().all(|x| x.header("referer").is_none()),
        "a redirect never sends Referer"
    );
    assert_eq!((r[3].method.as_str(), r[3].path()), ("POST", "/echo"));
    assert_eq!(r[3].body, br#"{"a":1}"#, "307 keeps method and body");
    assert_eq!(run.step(2).string(), r#"{"a":1}"#);
    assert_eq!(
        (r[5].method.as_str(), r[5].path()),
        ("GET", "/echo"),
        "303 becomes GET"
    );
    assert_eq!(run.step(6).ok(), "number 302");
    assert_eq!(run.step(7).string(), "/echo");
    assert_eq!(
        r.len(),
        7 + 11 + 1,
        "302 not followed; the loop stops after 10 redirects"
    );
    assert!(
        run.step(9)
            .err()
            .contains("too many redirects (more than 10)"),
        "{}",
        run.step(9).err()
    );
}

/// ResponseURL is the URL that answered: the last redirect's target, or
/// the request's own URL; never the user name and password of the URL;
/// "" before an answer and after a call that got none.
#[test]
fn response_url_names_the_url_that_answered() {
    let server = TestServer::http();
    let port = server
        .url("/")
        .split(':')
        .nth(2)
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    let run = run_ru(&format!(
        "get URLОтвета
call ВыполнитьЗапрос {get} {with_user}
get URLОтвета
set РазрешитьПеренаправление false
call ВыполнитьЗапрос {get} {moved}
get ResponseURL
call ВыполнитьЗапрос {get} {refused}
get ResponseURL",
        get = q("GET"),
        with_user = q(&format!(
            "http://user:url-secret@127.0.0.1:{port}/redirect/302?to=/echo"
        )),
        moved = q(&server.url("/redirect/302?to=/echo")),
        refused = q("http://127.0.0.1:1/"),
    ));
    assert_eq!(run.step(0).string(), "");
    assert_eq!(run.step(2).string(), server.url("/echo"));
    assert_eq!(run.step(4).string(), "redirect", "not followed");
    assert_eq!(run.step(5).string(), server.url("/redirect/302?to=/echo"));
    run.step(6).err();
    assert_eq!(run.step(7).string(), "");
    assert!(!run.shown().contains("url-secret"), "{}", run.stdout);
}

/// KeepCookies: the object sends back the cookies answers set (redirect
/// hops included) by domain and path, and Cookies moves the jar as JSON to
/// another object (a 1C session between server calls); without KeepCookies
/// nothing is kept or sent.
#[test]
fn kept_cookies_go_back_and_move_between_objects_as_json() {
    use support::Reply;
    let server = TestServer::with_handler(None, |r| match r.path() {
        "/login" => Reply::text(200, "ok")
            .with_header("Set-Cookie", "session=s3cr3t-cookie; Path=/; HttpOnly")
            .with_header("Set-Cookie", "scoped=1; Path=/admin"),
        "/hop" => Reply::text(302, "moved")
            .with_header("Set-Cookie", "hop=1; Path=/")
            .with_header("Location", "/check"),
        _ => Reply::text(200, "checked"),
    });
    let (login, check, hop) = (
        q(&server.url("/login")),
        q(&server.url("/check")),
        q(&server.url("/hop")),
    );
    let get = q("GET");
    let first = run_en(&format!(
        "call Request {get} {login}
call Request {get} {check}
set KeepCookies true
call Request {get} {login}
call Request {get} {check}
call Request {get} {hop}
get Cookies
set KeepCookies false
call Request {get} {check}
set Cookies {bad}
get ErrorCode",
        bad = q("{not json"),
    ));
    let jar = first.step(6).string();
    let cookie = |i: usize| server.requests()[i].header("cookie").map(str::to_string);
    assert_eq!(cookie(1), None, "nothing is kept without KeepCookies");
    assert_eq!(cookie(2), None);
    assert_eq!(
        cookie(3).as_deref(),
        Some("session=s3cr3t-cookie"),
        "/admin's cookie stays there"
    );
    assert_eq!(cookie(4).as_deref(), Some("session=s3cr3t-cookie"));
    let mut after_hop: Vec<String> = cookie(5).unwrap().split("; ").map(String::from).collect();
    after_hop.sort();
    assert_eq!(
        after_hop,
        ["hop=1", "session=s3cr3t-cookie"],
        "the hop's cookie goes to the next hop"
    );
    assert_eq!(cookie(6), None, "KeepCookies false sends none");
    assert!(
        first.step(9).err().contains("JSON array"),
        "{}",
        first.step(9).err()
    );
    assert_eq!(first.step(10).string(), "invalid_argument");

    // Another object (another server call of the same 1C session).
    let second = run_ru(&format!(
        "set СохранятьCookie true
set ФайлыCookie {jar}
call ВыполнитьЗапрос {get} {check}
set ФайлыCookie {empty}
get ФайлыCookie
call ВыполнитьЗапрос {get} {check}",
        jar = q(&jar),
        empty = q(""),
    ));
    second.step(2).ok();
    let mut moved: Vec<String> = cookie(7).unwrap().split("; ").map(String::from).collect();
    moved.sort();
    assert_eq!(moved, ["hop=1", "session=s3cr3t-cookie"]);
    assert_eq!(second.step(4).string(), "[]");
    assert_eq!(cookie(8), None);
}

/// AuthType Digest: User and Password are never sent as Basic; a 401 with
/// a Digest challenge is answered once (RFC 7616, SHA-256 here; the RFC's
/// own vectors are checked in http::digest), and the server checks the
/// answer the way a Digest server does.
#[test]
fn digest_authentication_answers_the_challenge() {
    use support::Reply;
    fn sha256(text: &str) -> String {
        ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
    fn field<'a>(header: &'a str, name: &str) -> Option<&'a str> {
        header.split(", ").find_map(|part| {
            let (k, v) = part.trim_start_matches("Digest ").split_once('=')?;
            (k == name).then(|| v.trim_matches('"'))
        })
    }
    let server = TestServer::with_handler(None, |r| {
        let challenge = || {
            Reply::text(401, "who are you")
                .with_header("WWW-Authenticate", "Basic realm=\"other\"")
                .with_header(
                    "WWW-Authenticate",
                    "Digest realm=\"webhook1c-test\", qop=\"auth\", algorithm=SHA-256, \
                     nonce=\"n-0123\", opaque=\"op-9\"",
                )
        };
        let Some(header) = r
            .header("authorization")
            .filter(|h| h.starts_with("Digest "))
        else {
            return challenge();
        };
        let get = |name| field(header, name).unwrap_or_default();
        let ha1 = sha256(&format!(
            "{}:webhook1c-test:Circle of Life",
            get("username")
        ));
        let ha2 = sha256(&format!("{}:{}", r.method, get("uri")));
        let expected = sha256(&format!(
            "{ha1}:n-0123:{}:{}:auth:{ha2}",
            get("nc"),
            get("cnonce")
        ));
        if get("response") == expected && get("opaque") == "op-9" && get("uri") == r.target {
            Reply::text(200, "welcome")
        } else {
            challenge()
        }
    });
    let url = q(&server.url("/private?x=1"));
    // Plain ASCII values, quoted in the script as they are.
    let run = run_en(&format!(
        "set User \"Mufasa\"
set Password \"Circle of Life\"
set AuthType \"digest\"
get AuthType
call Request \"POST\" {url} \"payload\"
get StatusCode
set AuthType \"Basic\"
call Request \"POST\" {url} \"payload\"
get StatusCode
set AuthType \"digest\"
set Password \"not it\"
call Request \"POST\" {url} \"payload\"
get StatusCode
set AuthType \"NTLM\""
    ));
    assert_eq!(run.step(3).string(), "Digest");
    assert_eq!(run.step(4).string(), "welcome");
    assert_eq!(run.step(5).ok(), "number 200");
    assert_eq!(
        run.step(8).ok(),
        "number 401",
        "Basic is not what this server takes"
    );
    assert_eq!(
        run.step(12).ok(),
        "number 401",
        "a wrong password is answered once, then 401"
    );
    assert_eq!(
        run.step(13).err(),
        "property AuthType must be Basic or Digest, not \"NTLM\""
    );
    let r = server.requests();
    let auth = |i: usize| r[i].header("authorization").unwrap_or("").to_string();
    assert_eq!(r.len(), 5);
    assert_eq!(
        auth(0),
        "",
        "Digest sends no credentials before the challenge"
    );
    assert!(
        auth(1).starts_with("Digest username=\"Mufasa\""),
        "{}",
        auth(1)
    );
    assert_eq!(r[1].body, b"payload", "the answer resends the body");
    assert!(auth(2).starts_with("Basic "));
    assert_eq!(
        (auth(3), auth(4).starts_with("Digest ")),
        (String::new(), true)
    );
    assert!(!run.shown().contains("Circle of Life"));
}

#[test]
fn timeouts_end_slow_requests_and_stalled_handshakes() {
    let server = TestServer::http();
    let stall = StallServer::start();
    let started = std::time::Instant::now();
    let run = run_ru(&format!(
        "set Timeout 1
call Request {get} {slow}
lang en
call Request {get} {slow}
set Timeout 0.5
call Request {get} {slow_body}
set Timeout 30
set ConnectTimeout 1
call Request {get} {stalled}
set ConnectTimeout 0
set Timeout 1
call Request {get} {stalled}",
        get = q("GET"),
        slow = q(&server.url("/slow/20000")),
        slow_body = q(&server.url("/slow-body/20000")),
        stalled = q(&stall.https_url("/")),
    ));
    assert!(
        run.step(1).err().contains("истекло время ожидания запроса")
            && run.step(1).err().contains("1 с (Таймаут)"),
        "{}",
        run.step(1).err()
    );
    assert!(
        run.step(3).err().contains("timed out after 1 s (Timeout)"),
        "{}",
        run.step(3).err()
    );
    assert!(
        run.step(5)
            .err()
            .contains("timed out after 0.5 s (Timeout)"),
        "{}",
        run.step(5).err()
    );
    assert!(
        run.step(8).err().contains("within 1 s (ConnectTimeout)"),
        "{}",
        run.step(8).err()
    );
    assert!(
        run.step(11).err().contains("timed out after 1 s (Timeout)"),
        "{}",
        run.step(11).err()
    );
    // Generous bound: four one-second limits, not the servers' 20 s.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn proxies_http_connect_and_socks5() {
    let tls = TlsFixtures::shared();
    let server = TestServer::http();
    let secure = TestServer::https(tls.server_config());
    let proxy = HttpProxy::start(None);
    let auth_proxy = HttpProxy::start(Some(("proxyuser", "proxypass")));
    let socks = Socks5Proxy::start(None);
    let auth_socks = Socks5Proxy::start(Some(("sockuser", "sockpass")));
    let run = run_en(&format!(
        "set Proxy {proxy}
call PostJson {plain} {json}
set TrustedCertificates {ca}
call PostJson {secure} {json}
set Proxy {auth_proxy}
call PostJson {plain} {json}
set Proxy {socks}
call PostJson {plain} {json}
set Proxy {auth_socks}
call PostJson {secure} {json}
set Proxy {closed}
call PostJson {plain} {json}
get Proxy",
        proxy = q(&proxy.url()),
        plain = q(&server.url("/echo")),
        secure = q(&secure.url("/echo")),
        json = q(r#"{"via":"proxy"}"#),
        ca = q(&host::path(&tls.ca_path)),
        auth_proxy = q(&auth_proxy.url_with_auth("proxyuser", "proxypass")),
        socks = q(&socks.url()),
        auth_socks = q(&auth_socks.url_with_auth("socks5", "sockuser", "sockpass")),
        closed = q(&format!("http://127.0.0.1:{}", closed_port())),
    ));
    for i in [1, 3, 5, 7, 9] {
        assert_eq!(run.step(i).string(), r#"{"via":"proxy"}"#, "step {i}");
    }
    let seen = proxy.requests();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].target, server.url("/echo"));
    assert_eq!(seen[1].method, "CONNECT");
    assert_eq!(seen[1].target, format!("localhost:{}", secure.port()));
    let authed = auth_proxy.requests();
    let expected = format!("Basic {}", base64(b"proxyuser:proxypass"));
    assert_eq!(
        authed.last().unwrap().proxy_authorization.as_deref(),
        Some(expected.as_str())
    );
    assert_eq!(
        socks.connects()[0].target,
        format!("127.0.0.1:{}", server.port())
    );
    assert_eq!(
        auth_socks.connects()[0].username.as_deref(),
        Some("sockuser")
    );
    assert!(
        run.step(11).err().contains("could not connect"),
        "{}",
        run.step(11).err()
    );
    assert_eq!(server.request_count(), 3);
    assert_eq!(secure.request_count(), 2);
    assert!(!run.shown().contains("proxypass") && !run.shown().contains("sockpass"));
}

#[test]
fn fresh_objects_reuse_one_pooled_connection() {
    let tls = TlsFixtures::shared();
    let plain = TestServer::http();
    let secure = TestServer::https(tls.server_config());
    const N: usize = 8;
    let mut script = String::new();
    for i in 0..N {
        script += &format!(
            "new\ncall PostJson {} {}\n",
            q(&plain.url("/echo")),
            q(&format!("{{\"n\":{i}}}"))
        );
    }
    for i in 0..N {
        script += &format!(
            "new\nset TrustedCertificates {}\ncall PostJson {} {}\n",
            q(&host::path(&tls.ca_path)),
            q(&secure.url("/echo")),
            q(&format!("{{\"n\":{i}}}"))
        );
    }
    let run = run_en(&script);
    assert_eq!(
        run.steps
            .iter()
            .filter(|s| s
                .value
                .as_deref()
                .is_some_and(|v| v.starts_with("string \"{")))
            .count(),
        2 * N
    );
    assert_eq!(plain.request_count(), N);
    assert_eq!(
        plain.connections_accepted(),
        1,
        "one TCP connection for {N} objects"
    );
    assert!(plain.requests().iter().all(|r| r.connection_id == 1));
    assert_eq!(secure.request_count(), N);
    assert_eq!(secure.connections_accepted(), 1);
    assert_eq!(
        secure.tls_handshakes(),
        1,
        "one TLS handshake for {N} objects"
    );
}

#[test]
fn charsets_compression_and_response_headers() {
    let server = TestServer::http();
    let get = q("GET");
    let run = run_en(&format!(
        "call Request {get} {cp1251}
call Request {get} {koi8}
call Request {get} {utf16}
call Request {get} {gzip}
call Request {get} {deflate}
call Request {get} {br}
call Request {get} {headers}
get ResponseHeaders
call GetResponseHeader {x_test}
call GetResponseHeader {missing}
call Request {get} {chunked}",
        cp1251 = q(&server.url("/charset/windows-1251")),
        koi8 = q(&server.url("/charset/koi8-r?text=%D0%AD%D1%85%D0%BE")),
        utf16 = q(&server.url("/charset/utf-16le")),
        gzip = q(&server.url("/gzip")),
        deflate = q(&server.url("/deflate")),
        br = q(&server.url("/br")),
        headers = q(&server.url("/headers")),
        x_test = q("x-TEST-one"),
        missing = q("X-Missing"),
        chunked = q(&server.url("/chunked")),
    ));
    assert_eq!(run.step(0).string(), "Привет, мир");
    assert_eq!(run.step(1).string(), "Эхо");
    assert_eq!(run.step(2).string(), "Привет, мир");
    for i in 3..6 {
        assert_eq!(run.step(i).string(), "compressed hello");
    }
    let headers: serde_json::Value = serde_json::from_str(&run.step(7).string()).unwrap();
    assert_eq!(headers["x-test-one"], "1");
    assert_eq!(headers["set-cookie"], "a=1, b=2");
    assert_eq!(run.step(8).string(), "1");
    assert_eq!(run.step(9).string(), "");
    assert_eq!(run.step(10).string(), "chunked hello");
    let gzip = &server.requests()[3];
    assert!(gzip.header("accept-encoding").unwrap().contains("gzip"));
    assert!(gzip.header("accept-encoding").unwrap().contains("br"));
}

#[test]
fn panics_are_caught_and_in_out_parameters_are_freed_through_the_host() {
    let server = TestServer::http();
    let run = run_en(&format!(
        "call DebugPanic
call PostJson {url} {json}
call ОтладкаПаника
call DebugReplaceParam {abc}
call ОтладкаЗаменитьПараметр {long}
get StatusCode",
        url = q(&server.url("/echo")),
        json = q("{}"),
        abc = q("abc"),
        long = q(&"я".repeat(10_000)),
    ));
    assert_eq!(
        run.step(0).err(),
        "DebugPanic: internal error in Webhook1C: DebugPanic was called"
    );
    assert_eq!(
        run.step(1).string(),
        "{}",
        "the object still works after a panic"
    );
    assert!(run.step(2).err().contains("internal error"));
    assert!(
        run.step(3)
            .notes
            .iter()
            .any(|n| n == "# param 0 = string \"replaced: abc\""),
        "{:?}",
        run.step(3).notes
    );
    assert!(run
        .step(4)
        .notes
        .iter()
        .any(|n| n.starts_with("# param 0 = string \"replaced: яя")));
    assert_eq!(run.step(5).ok(), "number 200");
}

#[test]
fn the_library_survives_unload_and_reload_with_live_connections() {
    let server = TestServer::http();
    let run = run_en(&format!(
        "call PostJson {url} {one}
reload
call PostJson {url} {two}
get StatusCode
reload
new
call PostJson {url} {three}",
        url = q(&server.url("/echo")),
        one = q(r#"{"n":1}"#),
        two = q(r#"{"n":2}"#),
        three = q(r#"{"n":3}"#),
    ));
    assert_eq!(run.step(0).string(), r#"{"n":1}"#);
    assert_eq!(
        run.step(2).string(),
        r#"{"n":2}"#,
        "used after unload and load"
    );
    assert_eq!(run.step(3).ok(), "number 200");
    assert_eq!(run.step(6).string(), r#"{"n":3}"#);
    assert_eq!(server.request_count(), 3);
}

#[test]
fn retries_signing_and_the_audit_log_keep_secrets_out() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let server = TestServer::with_handler(None, move |r| {
        // Two 503s, then the body echoed back.
        if seen.fetch_add(1, Ordering::SeqCst) < 2 {
            return support::Reply::text(503, "busy");
        }
        support::Reply::new(200).with_body(r.body.clone())
    });
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = dir.join("webhooks.log");
    let secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    let with_user_info = server
        .url("/flaky")
        .replace("http://", "http://urluser:url-pa55@");
    let run = run_en(&format!(
        "set LogFile {log}
set SigningSecret {secret}
set User {user}
set Password {password}
call SetHeader {auth} {bearer}
set RetryCount 3
set RetryDelay 0.1
call PostJson {flaky} {json}
get StatusCode
get RetryCount
get RetryDelay
get LogFile
get SigningSecret
set RetryCount 0
call PostJson {refused} {json}
set SigningSecret {bad_secret}
set RetryCount -1
set RetryCount 1.5
get ErrorText",
        log = q(&host::path(&log)),
        secret = q(secret),
        user = q("api-user"),
        password = q("pass-w0rd-secret"),
        auth = q("Authorization"),
        bearer = q("Bearer bearer-t0ken-secret"),
        flaky = q(&with_user_info),
        json = q(r#"{"event":"ping"}"#),
        refused = q(&format!("http://127.0.0.1:{}/x", closed_port())),
        bad_secret = q("whsec_***not base64***"),
    ));
    assert_eq!(
        run.step(7).string(),
        r#"{"event":"ping"}"#,
        "delivered on the third attempt"
    );
    assert_eq!(run.step(8).ok(), "number 200");
    assert_eq!(run.step(9).ok(), "number 3");
    assert_eq!(run.step(10).ok(), "number 0.1");
    assert_eq!(run.step(11).string(), host::path(&log));
    assert_eq!(
        run.step(12).err(),
        "property is not readable: SigningSecret"
    );
    assert!(run.step(14).err().contains("connection refused"));
    assert!(run
        .step(15)
        .err()
        .contains("SigningSecret: a secret starting with whsec_ must continue with base64"));
    assert_eq!(run.step(16).err(), "property RetryCount cannot be negative");
    assert_eq!(run.step(17).err(), "property RetryCount is out of range");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let id = requests[0]
        .header("webhook-id")
        .expect("signed")
        .to_string();
    assert!(id.starts_with("msg_") && id.len() == 31, "{id}");
    let signer = webhook1c::http::sign::Signer::new(secret).unwrap();
    for r in &requests {
        assert_eq!(
            r.header("webhook-id"),
            Some(id.as_str()),
            "one id for every attempt"
        );
        let ts: u64 = r.header("webhook-timestamp").unwrap().parse().unwrap();
        assert_eq!(
            r.header("webhook-signature"),
            Some(signer.signature(&id, ts, &r.body).as_str())
        );
        assert_eq!(
            r.header("authorization"),
            Some("Bearer bearer-t0ken-secret")
        );
    }

    let text = std::fs::read_to_string(&log).expect("the audit log exists");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        4,
        "three attempts and one refused call:\n{text}"
    );
    for (line, status) in lines
        .iter()
        .zip(["status=503", "status=503", "status=200", "status=-"])
    {
        assert!(line.contains(status), "{line}");
    }
    assert!(
        lines[0].contains(&format!("POST {} ", server.url("/flaky"))),
        "{}",
        lines[0]
    );
    assert!(
        lines[2].contains(&format!("attempt=3 id={id}")),
        "{}",
        lines[2]
    );
    assert!(lines[3].contains("connection refused"), "{}", lines[3]);
    let shown = run.shown();
    for secret_text in [
        "C2FVsBQIhrscChlQIMV",
        "pass-w0rd-secret",
        "bearer-t0ken-secret",
        "url-pa55",
        "urluser",
        "api-user:",
        "not base64***",
    ] {
        assert!(
            !text.contains(secret_text),
            "{secret_text} in the audit log:\n{text}"
        );
        assert!(
            !shown.contains(secret_text),
            "{secret_text} shown to 1C:\n{shown}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn queue_dir(name: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("queue-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn enqueue_delivers_in_the_background_and_reports_each_outcome_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let flaky_calls = Arc::new(AtomicUsize::new(0));
    let seen = flaky_calls.clone();
    let server = TestServer::with_handler(None, move |r| match r.path() {
        // The first attempt fails; the retry is delivered.
        "/flaky" if seen.fetch_add(1, Ordering::SeqCst) == 0 => support::Reply::text(503, "busy"),
        "/flaky" => support::Reply::text(200, "ok"),
        _ => support::default_routes(r),
    });
    let dir = queue_dir("events");
    let run = run_ru(&format!(
        "set КаталогОчереди {dir}
set РасписаниеПовторов {schedule}
set СекретПодписи {secret}
call ПоставитьВОчередь {flaky} {json} {empty} {doc_id}
call Enqueue {flaky} {json} {empty} {doc_id}
call Enqueue {gone} {json}
call ДождатьсяОтправки 20
sleep 0.5
call СостояниеСообщения {doc_id}
call QueueStatus
call MessageStatus {unknown}
get КаталогОчереди
call Enqueue {flaky} {bad_json}
call WaitForDelivery -1
call WaitForDelivery 3601
call ПоставитьВОчередь {flaky} {json} {empty} {dotted}",
        dir = q(&host::path(&dir)),
        schedule = q("1,1"),
        secret = q("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        flaky = q(&server.url("/flaky")),
        gone = q(&server.url("/status/410")),
        json = q(r#"{"event":"document_posted","number":"00-000123"}"#),
        empty = q(""),
        doc_id = q("doc-7f3c2a"),
        unknown = q("never-enqueued"),
        bad_json = q("{oops"),
        dotted = q("doc.7f3c2a"),
    ));
    assert_eq!(run.step(3).string(), "doc-7f3c2a");
    assert_eq!(
        run.step(4).string(),
        "doc-7f3c2a",
        "the same id adds nothing"
    );
    let generated = run.step(5).string();
    assert!(generated.starts_with("msg_"), "{generated}");
    assert_eq!(run.step(6).ok(), "bool true");
    let status: serde_json::Value = serde_json::from_str(&run.step(8).string()).unwrap();
    assert_eq!(status["id"], "doc-7f3c2a");
    assert_eq!(status["state"], "delivered");
    assert_eq!(status["attempts"], 2);
    assert_eq!(status["status"], 200);
    let counts: serde_json::Value = serde_json::from_str(&run.step(9).string()).unwrap();
    assert_eq!(
        counts,
        serde_json::json!({"pending": 0, "delivered": 1, "failed": 1})
    );
    let unknown: serde_json::Value = serde_json::from_str(&run.step(10).string()).unwrap();
    assert_eq!(unknown["state"], "unknown");
    assert_eq!(run.step(11).string(), host::path(&dir));
    assert!(
        run.step(12).err().contains("некорректный JSON"),
        "{}",
        run.step(12).err()
    );
    assert!(
        run.step(13).err().contains("не может быть отрицательным"),
        "{}",
        run.step(13).err()
    );
    assert!(
        run.step(14).err().contains("не должно превышать 3600"),
        "{}",
        run.step(14).err()
    );
    assert!(
        run.step(15).err().contains("без точек"),
        "{}",
        run.step(15).err()
    );

    // Two attempts of doc-7f3c2a with one webhook-id, one of the 410.
    let requests = server.requests();
    let flaky: Vec<_> = requests.iter().filter(|r| r.path() == "/flaky").collect();
    assert_eq!(flaky.len(), 2);
    assert!(flaky
        .iter()
        .all(|r| r.header("webhook-id") == Some("doc-7f3c2a")));
    assert!(flaky.iter().all(|r| r
        .header("webhook-signature")
        .is_some_and(|s| s.starts_with("v1,"))));
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.path() == "/status/410")
            .count(),
        1,
        "410 fails at once"
    );

    // Exactly one ExternalEvent per final outcome, from the worker thread.
    let events: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("* event"))
        .collect();
    assert_eq!(events.len(), 2, "{}", run.stdout);
    let delivered = events
        .iter()
        .find(|e| e.contains("\"Delivered\""))
        .expect("a Delivered event");
    assert!(
        delivered.starts_with("* event \"Webhook1C\" \"Delivered\""),
        "{delivered}"
    );
    assert!(
        delivered.contains(r#"\"id\":\"doc-7f3c2a\""#),
        "{delivered}"
    );
    let failed = events
        .iter()
        .find(|e| e.contains("\"Failed\""))
        .expect("a Failed event");
    assert!(
        failed.contains(&generated) && failed.contains(r#"\"status\":410"#),
        "{failed}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// 1C keeps one waiting ExternalEvent by default and drops later ones until
/// the 1C code is idle; the C host plays that buffer. 200 messages whose
/// retries all end while the 1C code waits in WaitForDelivery: all 200
/// events arrive, because the add-in raised the buffer at Init.
#[test]
fn a_burst_of_200_outcomes_reaches_1c_as_200_events() {
    use std::collections::HashSet;
    use std::sync::Mutex;
    let seen = Mutex::new(HashSet::new());
    // Each message's first attempt is answered 503, its retry 200: the
    // retries come due together, after the last Enqueue.
    let server = TestServer::with_handler(None, move |r| {
        let id = r.header("webhook-id").unwrap_or_default().to_string();
        if seen.lock().unwrap().insert(id) {
            support::Reply::new(503)
        } else {
            support::Reply::new(200)
        }
    });
    let dir = queue_dir("burst");
    let url = q(&server.url("/burst"));
    let mut script = format!(
        "set QueueDirectory {}\nset RetrySchedule {}\n",
        q(&host::path(&dir)),
        q("2")
    );
    for i in 0..200 {
        script.push_str(&format!(
            "call Enqueue {url} {} {} {}\n",
            q("{}"),
            q(""),
            q(&format!("burst-{i}"))
        ));
    }
    script.push_str("call WaitForDelivery 120\nsleep 0.2");
    let run = host::run("en", &script);
    run.assert_clean();
    assert_eq!(run.step(202).ok(), "bool true", "{}", run.shown());
    let events: HashSet<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("* event \"Webhook1C\" \"Delivered\""))
        .collect();
    assert_eq!(events.len(), 200, "{}", run.stdout);
    assert!(!run.stdout.contains("# events dropped"), "{}", run.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn destroying_the_object_or_unloading_mid_delivery_neither_crashes_nor_loses_the_message() {
    let server = TestServer::http();
    let dir = queue_dir("destroy");
    let script = |extra: &str| {
        format!(
            "set QueueDirectory {dir}
set Timeout 1
{extra}",
            dir = q(&host::path(&dir)),
        )
    };
    // The first attempt hangs past its timeout while the object is
    // destroyed, the library unloaded and loaded again, and the host exits.
    let first = run_en(&script(&format!(
        "call Enqueue {slow} {json} {empty} {id}
sleep 0.3
new
reload
set QueueDirectory {dir}
call QueueStatus",
        dir = q(&host::path(&dir)),
        slow = q(&server.url("/slow/3000")),
        json = q(r#"{"n":1}"#),
        empty = q(""),
        id = q("in-flight-1"),
    )));
    assert_eq!(first.step(2).string(), "in-flight-1");
    let counts: serde_json::Value = serde_json::from_str(&first.step(7).string()).unwrap();
    assert_eq!(counts["pending"], 1, "still queued: {counts}");
    // A later process still finds it pending (its lease keeps it from being
    // attempted twice at once).
    let second = run_en(&script(&format!("call MessageStatus {}", q("in-flight-1"))));
    let status: serde_json::Value = serde_json::from_str(&second.step(2).string()).unwrap();
    assert_eq!(status["state"], "pending", "{status}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn error_codes_name_each_kind_of_failure_and_clear_after_success() {
    let server = TestServer::http();
    let tls = TlsFixtures::shared();
    let untrusted = TestServer::https(tls.server_config());
    let refused = q(&format!("http://127.0.0.1:{}/hook", closed_port()));
    let (echo, json) = (q(&server.url("/echo")), q(r#"{"a":1}"#));
    // (settings before the call, the call or property write that fails,
    // the ErrorCode it leaves)
    let cases = [
        (
            "",
            format!("call PostJson {refused} {json}"),
            "connection_refused",
        ),
        (
            "",
            format!(
                "call PostJson {} {json}",
                q("http://webhook1c-fault.invalid/")
            ),
            "dns",
        ),
        (
            "set Timeout 1",
            format!("call PostJson {} {json}", q(&server.url("/slow/3000"))),
            "timeout",
        ),
        (
            "set Timeout 30",
            format!("call PostJson {} {json}", q(&untrusted.url("/echo"))),
            "tls_untrusted",
        ),
        (
            "",
            format!("call PostJson {echo} {}", q("{\"a\": }")),
            "invalid_json",
        ),
        (
            "set MaxResponseSize 10",
            format!("call Post {echo} {}", q(&"x".repeat(100))),
            "response_too_large",
        ),
        (
            "set MaxResponseSize 0",
            format!("call PostJson 42 {json}"),
            "invalid_argument",
        ),
        (
            "",
            format!("call PostJson undefined {json}"),
            "missing_argument",
        ),
        ("", format!("set Timeout {}", q("30")), "invalid_argument"),
    ];
    let mut script = String::from("get ErrorCode\n");
    let mut steps = Vec::new();
    let mut next = 1;
    for (setup, failing, code) in &cases {
        if !setup.is_empty() {
            script += &format!("{setup}\n");
            next += 1;
        }
        script += &format!("{failing}\nget ErrorCode\nget ErrorText\n");
        steps.push((next, *code));
        next += 3;
    }
    script += &format!("call PostJson {echo} {json}\nget ErrorCode\nget ErrorText");
    let run = run_en(&script);

    assert_eq!(run.step(0).string(), "", "no failure yet");
    for (step, code) in steps {
        let raised = run.step(step).err();
        assert_eq!(run.step(step + 1).string(), code, "{raised}");
        assert_eq!(
            run.step(step + 2).string(),
            raised,
            "ErrorText: the same failure"
        );
    }
    assert!(run.steps.iter().any(|s| s.exception.as_deref()
        == Some("PostJson: parameter URL must be a String, not Undefined")));
    // A successful call clears both.
    run.step(next).ok();
    assert_eq!(run.step(next + 1).string(), "");
    assert_eq!(run.step(next + 2).string(), "");

    // Russian texts, the same codes.
    let ru = run_ru(&format!(
        "call ОтправитьJson {refused} {json}
get КодОшибки
get ТекстОшибки"
    ));
    assert_eq!(ru.step(1).string(), "connection_refused");
    assert!(
        ru.step(2).string().contains("соединение отклонено"),
        "{}",
        ru.step(2).string()
    );
}

/// A Slack-shaped URL's path secret and its query token are hidden in the
/// exception, ErrorText and the LogFile line, as is a URL that does not
/// parse (shown as `<invalid URL>` with its scheme and host only).
#[test]
fn path_secrets_are_hidden_in_errors_and_the_audit_log() {
    let port = closed_port();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("redaction-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let log = dir.join("audit.log");
    let run = run_en(&format!(
        "set LogFile {log}
call PostJson {slack} {json}
get ErrorText
call PostJson {broken} {json}
get ErrorText",
        log = q(&host::path(&log)),
        slack = q(&format!(
            "http://127.0.0.1:{port}/services/T000/B000/SECRETPATH?token=abc"
        )),
        broken = q("http://user:pw@exa mple/SECRETPATH2?token=abc"),
        json = q("{}"),
    ));
    let shown = format!("http://127.0.0.1:{port}/services/***?token=***");
    assert!(run.step(1).err().contains(&shown), "{}", run.step(1).err());
    assert!(run.step(2).string().contains(&shown));
    assert!(
        run.step(3)
            .err()
            .contains("\"<invalid URL> http://exa mple\""),
        "{}",
        run.step(3).err()
    );
    let audit = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(audit.contains(&shown), "{audit}");
    for secret in ["SECRETPATH", "=abc", "pw@"] {
        for text in [run.shown(), audit.clone()] {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every other place that shows a URL uses the same redactor: a queued
/// message's stored error (MessageStatus, Messages), the ExternalEvent data
/// of its outcome and the audit lines of its attempts.
#[test]
fn path_secrets_are_hidden_in_the_queue_status_events_and_audit_log() {
    let port = closed_port();
    let dir = queue_dir("redaction");
    let log = dir.with_extension("log");
    let _ = std::fs::remove_file(&log);
    let urls = [
        (
            "slack-1",
            format!("http://127.0.0.1:{port}/services/T000/B000/SECRETPATH?token=abc"),
            format!("http://127.0.0.1:{port}/services/***?token=***"),
        ),
        (
            "telegram-1",
            format!("http://127.0.0.1:{port}/bot123456:SECRETBOT/sendMessage"),
            format!("http://127.0.0.1:{port}/bot***/sendMessage"),
        ),
        (
            "discord-1",
            format!("http://127.0.0.1:{port}/api/webhooks/123456/SECRETDISCORD"),
            format!("http://127.0.0.1:{port}/api/webhooks/123456/***"),
        ),
    ];
    let enqueue: String = urls
        .iter()
        .map(|(id, url, _)| format!("call Enqueue {} {} {} {}\n", q(url), q("{}"), q(""), q(id)))
        .collect();
    let run = run_en(&format!(
        "set QueueDirectory {dir}
set RetrySchedule {schedule}
set LogFile {log}
{enqueue}call WaitForDelivery 30
sleep 0.5
call MessageStatus {slack}
call MessageStatus {telegram}
call MessageStatus {discord}
call Messages {failed}",
        dir = q(&host::path(&dir)),
        schedule = q("1"),
        log = q(&host::path(&log)),
        slack = q("slack-1"),
        telegram = q("telegram-1"),
        discord = q("discord-1"),
        failed = q("failed"),
    ));
    let first = 3 + urls.len();
    assert_eq!(run.step(first).ok(), "bool true");
    for (i, (id, _, shown)) in urls.iter().enumerate() {
        let status: serde_json::Value =
            serde_json::from_str(&run.step(first + 2 + i).string()).unwrap();
        assert_eq!(
            (status["id"].as_str(), status["state"].as_str()),
            (Some(*id), Some("failed"))
        );
        let error = status["error"].as_str().unwrap_or_default();
        assert!(error.contains(shown.as_str()), "{id}: {error}");
    }
    let listed = run.step(first + 2 + urls.len()).string();
    let events: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("* event"))
        .collect();
    assert_eq!(events.len(), urls.len(), "{}", run.stdout);
    let audit = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(audit.lines().count(), 2 * urls.len(), "{audit}");
    for (id, _, shown) in &urls {
        assert!(
            listed.contains(shown.as_str()),
            "{id} in Messages: {listed}"
        );
        let event = events.iter().find(|e| e.contains(id)).expect("an event");
        // The event data is JSON inside a quoted string: slashes as they are.
        assert!(event.contains(shown.as_str()), "{event}");
        assert!(
            audit.contains(shown.as_str()),
            "{id} in the audit log: {audit}"
        );
    }
    for secret in ["SECRETPATH", "=abc", "SECRETBOT", "SECRETDISCORD"] {
        for text in [run.shown(), audit.clone()] {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&log);
}

/// The redirect matrix of the contract ("Redirects (direct calls)"): a hop
/// within the origin keeps every header; a hop to another host, port or
/// scheme drops Authorization, Proxy-Authorization, Cookie, the webhook-*
/// headers and every header masked as secret, and keeps the rest and the
/// body; https to http is refused; nothing ever sends Referer.
#[test]
fn redirects_to_another_origin_carry_no_credentials_and_https_never_falls_to_http() {
    let tls = TlsFixtures::shared();
    let b = TestServer::http();
    let secure = TestServer::https(tls.server_config());
    let landing = b.url_with_host("localhost", "/echo?landing=1");
    let a = TestServer::with_handler(None, move |r| {
        if r.path().starts_with("/services/") {
            support::Reply::text(307, "moved").with_header("Location", landing.clone())
        } else {
            support::default_routes(r)
        }
    });
    let hop = |from: &str, to: &str| q(&format!("{from}?to={to}"));
    let cases = [
        // (what the hop changes, the URL called, the server that lands it)
        ("nothing", hop(&a.url_ip("/redirect/307"), "/echo"), &a),
        (
            "host",
            hop(
                &a.url_ip("/redirect/307"),
                &a.url_with_host("localhost", "/echo"),
            ),
            &a,
        ),
        (
            "port",
            hop(&a.url_ip("/redirect/308"), &b.url_ip("/echo")),
            &b,
        ),
        (
            "host and port",
            q(&a.url_ip("/services/T000/B000/SECRETPATH?token=abc")),
            &b,
        ),
        (
            "scheme and port",
            hop(
                &a.url_with_host("localhost", "/redirect/307"),
                &secure.url("/echo"),
            ),
            &secure,
        ),
    ];
    let calls: String = cases
        .iter()
        .map(|(_, url, _)| format!("call PostJson {url} {}\n", q(r#"{"n":1}"#)))
        .collect();
    let run = run_en(&format!(
        "set TrustedCertificates {ca}
set SigningSecret {secret}
set User {user}
set Password {password}
call SetHeader {key} {key_value}
call SetHeader {cookie} {cookie_value}
call SetHeader {proxy_auth} {proxy_value}
call SetHeader {plain} {plain_value}
{calls}call PostJson {down} {json}
get ErrorCode
get ErrorText",
        ca = q(&host::path(&tls.ca_path)),
        secret = q("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"),
        user = q("api-user"),
        password = q("pass-w0rd-secret"),
        key = q("X-Api-Key"),
        key_value = q("key-s3cret"),
        cookie = q("Cookie"),
        cookie_value = q("session=c00kie-s3cret"),
        proxy_auth = q("Proxy-Authorization"),
        proxy_value = q("Basic cHJveHk6czNjcmV0"),
        plain = q("X-Plain"),
        plain_value = q("plain"),
        down = hop(&secure.url("/redirect/302"), &b.url_ip("/echo")),
        json = q(r#"{"n":2}"#),
    ));
    let secret_headers = [
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-api-key",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    ];
    let mut landed = std::collections::HashMap::<u16, usize>::new();
    for (i, (change, _, server)) in cases.iter().enumerate() {
        assert_eq!(run.step(8 + i).string(), r#"{"n":1}"#, "{change}");
        let seen = landed.entry(server.port()).or_default();
        let requests = server.requests();
        let r = requests
            .iter()
            .filter(|r| r.path() == "/echo")
            .nth(*seen)
            .unwrap_or_else(|| panic!("{change}: the hop did not arrive"));
        *seen += 1;
        assert_eq!(
            (r.method.as_str(), r.body_text().as_str()),
            ("POST", r#"{"n":1}"#)
        );
        assert_eq!(r.header("x-plain"), Some("plain"), "{change}");
        assert_eq!(
            r.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        let kept: Vec<&str> = secret_headers
            .iter()
            .copied()
            .filter(|h| r.header(h).is_some())
            .collect();
        if *change == "nothing" {
            assert_eq!(kept, secret_headers, "a same-origin hop keeps everything");
        } else {
            assert!(kept.is_empty(), "{change}: {kept:?} went to another origin");
        }
    }
    let down = 8 + cases.len();
    assert!(
        run.step(down).err().contains(&format!(
            "redirected to an http address (http://127.0.0.1:{}/echo)",
            b.port()
        )),
        "{}",
        run.step(down).err()
    );
    assert_eq!(run.step(down + 1).string(), "insecure_redirect");
    assert_eq!(
        b.requests().len(),
        2,
        "the https to http hop never reached the http server"
    );
    for server in [&a, &b, &secure] {
        for r in server.requests() {
            assert!(
                r.header("referer").is_none(),
                "Referer sent to {}",
                r.target
            );
        }
    }
    for secret in ["SECRETPATH", "=abc", "s3cret", "pass-w0rd"] {
        assert!(!run.shown().contains(secret), "{secret}: {}", run.shown());
    }
}
