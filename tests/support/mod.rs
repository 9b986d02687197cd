//! Local test servers for the integration tests: a recording HTTP/1.1 server
//! (plain or TLS), a stalling server, a fault-injecting raw server, an HTTP
//! forward proxy, a SOCKS5 proxy and rcgen-made certificates. Every server
//! binds 127.0.0.1 on port 0 and stops on drop. Also the C host driver, the
//! load-test builds and the BSL lexer of the samples check.

// Each test file uses a different subset of this module.
#![allow(dead_code, unused_imports)]

pub mod bsl;
pub mod host;
pub mod load;
pub mod net;
pub mod pg;
pub mod proxy;
pub mod server;
pub mod tls;

pub use net::{basic_auth_value, closed_port};
pub use proxy::{HttpProxy, ProxyRecord, Socks5Proxy, SocksAddressType, SocksRecord};
pub use server::{default_routes, Recorded, Reply, StallServer, TestServer};
pub use tls::{TlsFixtures, CLIENT_CN};
