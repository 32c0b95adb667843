//! Transports against real redis-server processes: TLS (rustls) on a
//! server's `tls-port`, with certificates made by rcgen at test time, and
//! Unix domain sockets.
//!
//! The TLS tests need the `tls` feature (on by default); built without it,
//! one test checks that TLS fails saying the feature is off.
//!
//! Each TLS failure test checks the error's kind and that its message names
//! the check that failed and the setting that fixes it; every test that
//! holds a password checks it never shows in an error or `Debug` output.

mod support;

#[cfg(feature = "tls")]
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::{Config, ErrorKind, Multiplexer};
use support::RedisServer;
#[cfg(feature = "tls")]
use support::TestCertificates;

/// Connects, panicking with the error's message on failure.
async fn connect(config: &str) -> Multiplexer {
    match Multiplexer::connect(config).await {
        Ok(mux) => mux,
        Err(e) => panic!("connect with {config:?} failed: {e}"),
    }
}

/// The error of a connect that must fail (one attempt, no retries).
async fn connect_error(config: &str) -> redmux::Error {
    let once = match (config.contains("://"), config.contains('?')) {
        (false, _) => format!("{config},connectRetry=1"),
        (true, false) => format!("{config}?connectRetry=1"),
        (true, true) => format!("{config}&connectRetry=1"),
    };
    match Multiplexer::connect(once.as_str()).await {
        Ok(_) => panic!("connect with {config:?} should fail"),
        Err(e) => e,
    }
}

/// SET then GET through `mux`, proving commands run over its transport.
async fn assert_round_trip(mux: &Multiplexer, key: &str) {
    let db = mux.database(0);
    assert!(db.set(key, "over the transport").await.expect("SET"));
    assert_eq!(
        db.get::<Option<String>>(key).await.expect("GET").as_deref(),
        Some("over the transport")
    );
}

fn path(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_with_ssl_true_and_a_custom_ca_runs_commands() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, false, &[]);
    let tls_port = server.tls_port.expect("TLS port");
    let config = format!(
        "127.0.0.1:{tls_port},ssl=true,sslCaCert={}",
        path(&certs.ca_cert)
    );
    let mux = connect(&config).await;
    assert_round_trip(&mux, "tls:string").await;
    // The key really reached this server (read back on its plain port).
    assert_eq!(server.command(&["GET", "tls:string"]), "over the transport");
    // And the port speaks only TLS: the same connect without ssl=true fails.
    let e = connect_error(&format!("127.0.0.1:{tls_port},connectTimeout=1000")).await;
    assert!(e.is_connection_error() || e.is_timeout(), "{e}");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_with_a_rediss_url_and_ca_query_key_runs_commands() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, false, &[]);
    let url = format!(
        "rediss://localhost:{}/2?sslCaCert={}",
        server.tls_port.expect("TLS port"),
        path(&certs.ca_cert)
    );
    let mux = connect(&url).await;
    let db = mux.default_database();
    assert!(db.set("rediss:key", "v").await.expect("SET"));
    assert_eq!(
        db.get::<Option<String>>("rediss:key")
            .await
            .expect("GET")
            .as_deref(),
        Some("v")
    );
    // Database 2, from the URL's path, on this server.
    let keyspace = server.command(&["INFO", "keyspace"]);
    assert!(keyspace.contains("db2:keys=1"), "{keyspace}");
    assert!(!keyspace.contains("db0:"), "{keyspace}");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn server_requiring_a_client_certificate_accepts_ssl_cert_and_ssl_key() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, true, &[]);
    let config = format!(
        "localhost:{},ssl=true,sslCaCert={},sslCert={},sslKey={}",
        server.tls_port.expect("TLS port"),
        path(&certs.ca_cert),
        path(&certs.client_cert),
        path(&certs.client_key)
    );
    let mux = connect(&config).await;
    assert_round_trip(&mux, "tls:client-cert").await;
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn server_requiring_a_client_certificate_refuses_a_client_without_one_clearly() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, true, &[]);
    let e = connect_error(&format!(
        "localhost:{},ssl=true,sslCaCert={}",
        server.tls_port.expect("TLS port"),
        path(&certs.ca_cert)
    ))
    .await;
    eprintln!("refused as expected: {e}");
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    let text = e.to_string();
    assert!(text.contains("client certificate"), "{text}");
    assert!(text.contains("sslCert"), "{text}");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn wrong_host_name_fails_naming_the_name_check() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, false, &[]);
    let e = connect_error(&format!(
        "127.0.0.1:{},ssl=true,sslCaCert={},sslHost=wrong.example",
        server.tls_port.expect("TLS port"),
        path(&certs.ca_cert)
    ))
    .await;
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(
        e.to_string().contains(
            "TLS: the server's certificate is not valid for the name 'wrong.example' \
             (check sslHost)"
        ),
        "{e}"
    );
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn unknown_certificate_authority_fails_naming_the_ca_check() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, false, &[]);
    let tls_port = server.tls_port.expect("TLS port");
    // Trusting another CA only, and trusting the system's roots (which do
    // not include the test CA), both fail the same check.
    for config in [
        format!(
            "localhost:{tls_port},ssl=true,sslCaCert={}",
            path(&certs.other_ca_cert)
        ),
        format!("rediss://localhost:{tls_port}"),
    ] {
        let e = connect_error(&config).await;
        assert_eq!(e.kind(), ErrorKind::Connect, "{config}: {e}");
        let text = e.to_string();
        assert!(
            text.contains("issued by an unknown certificate authority"),
            "{config}: {text}"
        );
        assert!(text.contains("set sslCaCert"), "{config}: {text}");
    }
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn reconnects_reuse_the_tls_configuration_built_on_the_first_connect() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, true, &[]);
    // Copies of the PEM files that disappear after the first connect: the
    // reconnect can only succeed if it does not read them again.
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = |from: &std::path::Path, name: &str| {
        let to = dir.path().join(name);
        std::fs::copy(from, &to).expect("copy PEM file");
        path(&to)
    };
    let config = format!(
        "localhost:{},ssl=true,sslCaCert={},sslCert={},sslKey={}",
        server.tls_port.expect("TLS port"),
        copy(&certs.ca_cert, "ca.pem"),
        copy(&certs.client_cert, "client.pem"),
        copy(&certs.client_key, "client.key")
    );
    let mux = connect(&config).await;
    assert_round_trip(&mux, "tls:before").await;
    drop(dir);

    server.command(&["CLIENT", "KILL", "TYPE", "normal"]);
    let db = mux.database(0);
    let until = Instant::now() + Duration::from_secs(10);
    while mux.stats().reconnects == 0 && Instant::now() < until {
        let _ = db.ping().timeout(Duration::from_millis(500)).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(mux.stats().reconnects >= 1, "{:?}", mux.stats());
    assert_round_trip(&mux, "tls:after").await;
}

/// Counts `WARN` events whose message mentions sslInsecure.
#[cfg(feature = "tls")]
#[derive(Clone, Default)]
struct WarningCounter(Arc<Mutex<Vec<String>>>);

#[cfg(feature = "tls")]
impl tracing::Subscriber for WarningCounter {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        if *event.metadata().level() == tracing::Level::WARN {
            let mut message = Message(String::new());
            event.record(&mut message);
            if message.0.contains("sslInsecure") {
                if let Ok(mut seen) = self.0.lock() {
                    seen.push(message.0);
                }
            }
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn ssl_insecure_connects_despite_an_unknown_ca_and_warns_on_every_connection() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, false, &[]);
    let warnings = WarningCounter::default();
    // Current-thread runtime: the driver's reconnects run on this thread too.
    let _guard = tracing::subscriber::set_default(warnings.clone());
    let count = || warnings.0.lock().map(|seen| seen.len()).unwrap_or(0);

    let mux = connect(&format!(
        "localhost:{},ssl=true,sslInsecure=true,sslCaCert={}",
        server.tls_port.expect("TLS port"),
        path(&certs.other_ca_cert)
    ))
    .await;
    assert_round_trip(&mux, "tls:insecure").await;
    assert_eq!(count(), 1, "one warning for the first connection");

    // Drop the connection on the server side; the reconnect warns again.
    server.command(&["CLIENT", "KILL", "TYPE", "normal"]);
    let until = Instant::now() + Duration::from_secs(10);
    while count() < 2 && Instant::now() < until {
        let _ = mux.database(0).ping().await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(), 2, "a second warning for the reconnect");
    assert!(mux.stats().reconnects >= 1, "{:?}", mux.stats());
    assert_round_trip(&mux, "tls:insecure:after").await;
}

#[tokio::test]
async fn unix_socket_via_url_runs_commands_and_reconnects_after_a_restart() {
    let mut server = RedisServer::start_unix(&[]);
    let socket = server.unix_socket.clone().expect("socket path");
    let mux = connect(&format!("unix://{}?defaultDatabase=3", path(&socket))).await;
    let db = mux.default_database();
    let info: String = db.execute("CLIENT", ["INFO"]).await.expect("CLIENT INFO");
    assert!(info.contains("flags=U"), "not a Unix-socket client: {info}");
    assert!(info.contains("db=3"), "{info}");
    assert!(db.set("unix:key", "1").await.expect("SET"));

    server.restart();
    let until = Instant::now() + Duration::from_secs(10);
    let mut ok = false;
    while !ok && Instant::now() < until {
        ok = db
            .set("unix:after", "2")
            .timeout(Duration::from_millis(500))
            .await
            .is_ok();
        if !ok {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    assert!(ok, "no command succeeded within 10 s of the restart");
    assert!(mux.stats().reconnects >= 1, "{:?}", mux.stats());
    assert_eq!(
        db.get::<Option<String>>("unix:after")
            .await
            .expect("GET")
            .as_deref(),
        Some("2")
    );
}

#[tokio::test]
async fn unix_socket_via_a_path_in_the_config_string_runs_commands() {
    let server = RedisServer::start_unix(&[]);
    let socket = path(&server.unix_socket.clone().expect("socket path"));
    let mux = connect(&format!("{socket},name=via-path")).await;
    assert_round_trip(&mux, "unix:path").await;
    let info: String = mux
        .database(0)
        .execute("CLIENT", ["INFO"])
        .await
        .expect("CLIENT INFO");
    assert!(
        info.contains("flags=U") && info.contains("name=via-path"),
        "{info}"
    );
    assert_eq!(server.command(&["GET", "unix:path"]), "over the transport");
    assert_eq!(mux.config().endpoints[0].to_string(), socket);
    let mux = connect(&format!("redis+unix://{socket}")).await;
    assert_round_trip(&mux, "unix:redis+unix").await;
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn passwords_are_never_echoed_over_tls_or_unix_sockets() {
    const PASSWORD: &str = "tr4nsp0rt-s3cret";
    let certs = TestCertificates::generate();
    let tls = RedisServer::start_tls(&certs, false, &["--requirepass", "right-one"]);
    let unix = RedisServer::start_unix(&["--requirepass", "right-one"]);
    let tls_port = tls.tls_port.expect("TLS port");
    let ca = path(&certs.ca_cert);
    let socket = path(&unix.unix_socket.clone().expect("socket path"));
    let failing = [
        // Rejected by the server.
        format!("localhost:{tls_port},ssl=true,sslCaCert={ca},password={PASSWORD}"),
        format!("rediss://:{PASSWORD}@localhost:{tls_port}?sslCaCert={ca}"),
        format!("unix://{socket}?password={PASSWORD}"),
        // Failing TLS checks, with a password set.
        format!("rediss://:{PASSWORD}@localhost:{tls_port}?sslHost=wrong.example&sslCaCert={ca}"),
        format!("rediss://:{PASSWORD}@localhost:{tls_port}"),
        format!("rediss://:{PASSWORD}@localhost:{tls_port}?sslCaCert=/nonexistent/ca.pem"),
    ];
    for config in &failing {
        let parsed = Config::parse(config).expect("valid configuration");
        assert!(!format!("{parsed:?}").contains(PASSWORD), "{config}");
        assert!(!parsed.to_string().contains(PASSWORD), "{config}");
        let e = connect_error(config).await;
        eprintln!("refused as expected: {e}");
        for text in [e.to_string(), format!("{e:?}")] {
            assert!(!text.contains(PASSWORD), "{config}: {text}");
        }
    }
    // With the right password both work, and Debug still hides it.
    let mux = connect(&format!(
        "localhost:{tls_port},ssl=true,sslCaCert={ca},password=right-one"
    ))
    .await;
    assert_round_trip(&mux, "tls:auth").await;
    assert!(!format!("{mux:?}").contains("right-one"));
    let mux = connect(&format!("{socket},password=right-one")).await;
    assert_round_trip(&mux, "unix:auth").await;
    assert!(!format!("{mux:?}").contains("right-one"));
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn tls_towards_a_plain_port_fails_saying_so() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, false, &[]);
    let e = connect_error(&format!(
        "localhost:{},ssl=true,sslCaCert={},connectTimeout=2000",
        server.port,
        path(&certs.ca_cert)
    ))
    .await;
    eprintln!("refused as expected: {e}");
    assert_eq!(e.kind(), ErrorKind::Connect, "{e}");
    assert!(e.to_string().contains("tls-port"), "{e}");
}

#[cfg(feature = "tls")]
#[tokio::test]
async fn unreadable_certificate_files_are_config_errors_naming_key_and_path() {
    let certs = TestCertificates::generate();
    let server = RedisServer::start_tls(&certs, false, &[]);
    let tls_port = server.tls_port.expect("TLS port");
    let e = connect_error(&format!(
        "localhost:{tls_port},ssl=true,sslCaCert=/nonexistent/ca.pem"
    ))
    .await;
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("key 'sslCaCert'") && text.contains("'/nonexistent/ca.pem' cannot be read"),
        "{text}"
    );
    // A certificate where the key should be: named, content not shown.
    let e = connect_error(&format!(
        "localhost:{tls_port},ssl=true,sslCaCert={ca},sslCert={cert},sslKey={cert}",
        ca = path(&certs.ca_cert),
        cert = path(&certs.client_cert)
    ))
    .await;
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    let text = e.to_string();
    assert!(
        text.contains("key 'sslKey'") && text.contains("holds no private key"),
        "{text}"
    );
    let body = std::fs::read_to_string(&certs.client_cert).expect("read PEM");
    for line in body.lines().filter(|l| !l.starts_with("-----")) {
        assert!(!text.contains(line), "{text}");
    }
}

#[cfg(not(feature = "tls"))]
#[tokio::test]
async fn tls_without_the_tls_feature_fails_saying_the_feature_is_off() {
    let server = RedisServer::start();
    let config = format!("{},ssl=true,sslCaCert=/etc/redis/ca.pem", server.addr());
    // The keys still parse ...
    assert!(Config::parse(&config).expect("parses").tls.is_some());
    // ... but connecting says why it cannot work.
    let e = connect_error(&config).await;
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    assert!(
        e.to_string().contains("without its 'tls' cargo feature"),
        "{e}"
    );
}
