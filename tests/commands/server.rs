//! server commands: see main.rs.

use std::time::{Duration, SystemTime};

use redmux::prelude::*;
use redmux::{ClientKillFilter, ClientPauseMode, ErrorKind, FlushMode, Info, Value};

use crate::{connect, connect_admin};

const NONE: [&str; 0] = [];

#[test]
fn info_text_parses_into_sections() {
    let info = Info::parse("# Server\r\nredis_version:7.0.15\r\nrun_id:abc\r\n\r\n# Keyspace\r\ndb0:keys=1,expires=0\r\n");
    let names: Vec<&str> = info.sections().map(|(n, _)| n).collect();
    assert_eq!(names, ["Server", "Keyspace"]);
    assert_eq!(info.get("server", "redis_version"), Some("7.0.15"));
    assert_eq!(info.get("Keyspace", "db0"), Some("keys=1,expires=0"));
    assert_eq!(info.section("SERVER").map(|s| s.len()), Some(2));
    assert_eq!(info.field("run_id"), Some("abc"));
    assert_eq!(info.get("server", "missing"), None);
    assert!(info.section("memory").is_none());
}

#[tokio::test]
async fn info_dbsize_time_memory_and_introspection() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        server.command(&["SET", "k", "hello"]);
        server.command(&["RPUSH", "list", "a", "b", "c"]);

        let info = db.info().await.unwrap();
        assert!(
            info.get("server", "redis_version")
                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit())),
            "{protocol}: {info:?}"
        );
        assert_eq!(
            info.get("keyspace", "db0").map(|v| v.starts_with("keys=2")),
            Some(true)
        );
        assert!(info.sections().count() > 5);
        let memory = db.info_sections(["memory"]).await.unwrap();
        assert!(memory.get("memory", "used_memory").is_some());
        assert!(memory.section("server").is_none());
        let two = db.info_sections(["server", "clients"]).await.unwrap();
        assert_eq!(two.sections().count(), 2);
        let unknown = db.info_sections(["no-such-section"]).await.unwrap();
        assert_eq!(unknown.sections().count(), 0);

        assert_eq!(db.dbsize().await.unwrap(), 2);
        assert_eq!(mux.database(1).dbsize().await.unwrap(), 0);

        let now = SystemTime::now();
        let time = db.time().await.unwrap();
        let skew = time.duration_since(now).unwrap_or_else(|e| e.duration());
        assert!(skew < Duration::from_secs(5), "{skew:?}");
        let lastsave = db.lastsave().await.unwrap();
        assert!(lastsave <= time + Duration::from_secs(1));
        assert!(time.duration_since(lastsave).unwrap_or_default() < Duration::from_secs(60));

        let usage = db.memory_usage("k").await.unwrap();
        assert!(usage.is_some_and(|n| n > 0), "{usage:?}");
        assert_eq!(db.memory_usage("missing").await.unwrap(), None);
        let sampled = db.memory_usage_samples("list", 0).await.unwrap();
        assert!(sampled.is_some_and(|n| n > 0));
        let stats = db.memory_stats().await.unwrap();
        assert_eq!(stats.get("keys.count"), Some(&Value::Int(2)), "{stats:?}");
        assert!(stats.contains_key("peak.allocated"));
        assert!(!db.memory_doctor().await.unwrap().is_empty());
        assert!(!db.memory_malloc_stats().await.unwrap().is_empty());

        let id = db.client_id().await.unwrap();
        let me = db.client_info().await.unwrap();
        assert_eq!(me.id(), Some(id), "{me:?}");
        assert_eq!(me.db(), Some(0));
        assert_eq!(me.user(), Some("default"));
        assert_eq!(me.cmd(), Some("client|info"));
        assert!(me.addr().is_some_and(|a| a.contains(':')));
        assert_eq!(me.get("resp"), Some(&protocol[4..]));
        let clients = db.client_list().await.unwrap();
        assert!(clients.iter().any(|c| c.id() == Some(id)), "{clients:?}");
        assert!(clients.iter().all(|c| c.id().is_some()));
        assert_eq!(db.client_getname().await.unwrap(), None);

        let config = db.config_get("maxmemory").await.unwrap();
        assert_eq!(config.get("maxmemory").map(String::as_str), Some("0"));
        assert!(db.config_get("no-such-*").await.unwrap().is_empty());
        let many = db
            .config_get_many(["maxmemory", "databases"])
            .await
            .unwrap();
        assert_eq!(many.get("databases").map(String::as_str), Some("16"));

        // A loaded machine can push a command past the 10 ms slowlog
        // threshold: check the two agree rather than that nothing was slow.
        let slow = db.slowlog_len().await.unwrap();
        assert_eq!(db.slowlog_get(10).await.unwrap().len() as u64, slow.min(10));
        assert!(db.latency_latest().await.unwrap().is_empty());
        assert!(db.latency_history("command").await.unwrap().is_empty());
        assert!(!db.latency_doctor().await.unwrap().is_empty());

        let role = db.role().await.unwrap();
        match role {
            Value::Array(items) => {
                assert_eq!(items.first(), Some(&Value::BulkString("master".into())))
            }
            other => panic!("{other:?}"),
        }
        assert!(db.lolwut().await.unwrap().contains("Redis ver"));

        assert!(db.command_count().await.unwrap() > 100);
        let names = db.command_list().await.unwrap();
        assert!(names.iter().any(|n| n == "get"));
        let keys: Vec<String> = db
            .command_getkeys(["MSET", "a", "1", "b", "2"])
            .await
            .unwrap();
        assert_eq!(keys, ["a", "b"]);
        let err = db
            .command_getkeys::<Vec<String>, _>(["PING"])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        let docs = db.command_docs(["get"]).await.unwrap();
        assert!(
            matches!(docs, Value::Map(ref m) if m.len() == 1)
                || matches!(docs, Value::Array(ref a) if a.len() == 2),
            "{docs:?}"
        );
        let infos = db.command_info_many(["get", "nosuch"]).await.unwrap();
        match infos {
            Value::Array(items) => {
                assert_eq!(items.len(), 2);
                assert_eq!(items[1], Value::Nil);
            }
            other => panic!("{other:?}"),
        }

        let cats = db.acl_cat().await.unwrap();
        assert!(cats.iter().any(|c| c == "keyspace"));
        let keyspace = db.acl_cat_commands("keyspace").await.unwrap();
        assert!(keyspace.iter().any(|c| c == "del"));
        let err = db.acl_cat_commands("nope").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert_eq!(db.acl_whoami().await.unwrap(), "default");
        let pass = db.acl_genpass().await.unwrap();
        assert_eq!(pass.len(), 64);
        assert!(pass.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(db.acl_users().await.unwrap(), ["default"]);
        assert!(db.acl_list().await.unwrap()[0].starts_with("user default"));
        let user = db.acl_getuser("default").await.unwrap().unwrap();
        assert!(user.contains_key("flags"), "{user:?}");
        assert_eq!(db.acl_getuser("nobody").await.unwrap(), None);
        assert!(db.acl_log(10).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn admin_server_commands_with_allow_admin() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect_admin(protocol).await;
        let db = mux.database(0);

        db.config_set("maxmemory-samples", 7).await.unwrap();
        let got = db.config_get("maxmemory-samples").await.unwrap();
        assert_eq!(got.get("maxmemory-samples").map(String::as_str), Some("7"));
        db.config_set_many([("maxmemory-samples", "6"), ("lfu-log-factor", "11")])
            .await
            .unwrap();
        let got = db
            .config_get_many(["maxmemory-samples", "lfu-log-factor"])
            .await
            .unwrap();
        assert_eq!(got.get("lfu-log-factor").map(String::as_str), Some("11"));
        let err = db.config_set("no-such-parameter", 1).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("no-such-parameter"), "{err}");
        db.config_resetstat().await.unwrap();
        let err = db.config_rewrite().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("config file"), "{err}");

        // Slow log: log everything, run a command, read it back.
        db.config_set("slowlog-log-slower-than", 0).await.unwrap();
        let _: Option<String> = db.get("slow-key").await.unwrap();
        let entries = db.slowlog_get(10).await.unwrap();
        let entry = entries
            .iter()
            .find(|e| e.args.first().map(String::as_str) == Some("GET"))
            .unwrap_or_else(|| panic!("{entries:?}"));
        assert_eq!(entry.args, ["GET", "slow-key"]);
        assert!(entry.client_addr.contains(':'));
        assert!(entry.time <= SystemTime::now() + Duration::from_secs(5));
        assert!(db.slowlog_len().await.unwrap() >= 2);
        db.config_set("slowlog-log-slower-than", 10_000_000)
            .await
            .unwrap();
        db.slowlog_reset().await.unwrap();
        assert_eq!(db.slowlog_len().await.unwrap(), 0);

        // Latency: a script busy for 30 ms is a "command" spike.
        db.config_set("latency-monitor-threshold", 1).await.unwrap();
        let busy = "local t = redis.call('TIME') local start = t[1] * 1000000 + t[2] \
                    repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 30000 return 1";
        let _: i64 = db.eval(busy, NONE, NONE).await.unwrap();
        let latest = db.latency_latest().await.unwrap();
        let spike = latest
            .iter()
            .find(|(event, ..)| event == "command")
            .unwrap_or_else(|| panic!("{latest:?}"));
        assert!(spike.2 >= 25 && spike.3 >= spike.2, "{spike:?}");
        let history = db.latency_history("command").await.unwrap();
        assert!(history.iter().any(|(_, ms)| *ms >= 25), "{history:?}");
        assert!(db.latency_reset(NONE).await.unwrap() >= 1);
        assert!(db.latency_latest().await.unwrap().is_empty());
        assert_eq!(db.latency_reset(["command"]).await.unwrap(), 0);

        // Clients: another multiplexer's connection, killed by id.
        let other = redmux::Multiplexer::connect(server.addr().as_str())
            .await
            .unwrap();
        let other_id = other.database(0).client_id().await.unwrap();
        assert_eq!(
            db.client_kill(ClientKillFilter::new().id(other_id))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            db.client_kill(ClientKillFilter::new().id(u64::MAX >> 1))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            db.client_kill(ClientKillFilter::new().user("default").skip_me(true))
                .await
                .unwrap(),
            0
        );
        let err = db
            .client_kill(ClientKillFilter::new().user("nobody"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("No such user"), "{err}");
        db.client_pause(Duration::from_millis(20), ClientPauseMode::Write)
            .await
            .unwrap();
        db.client_unpause().await.unwrap();
        db.client_pause(Duration::from_millis(1), ClientPauseMode::All)
            .await
            .unwrap();
        db.client_no_evict(true).await.unwrap();
        assert!(db
            .client_info()
            .await
            .unwrap()
            .get("flags")
            .is_some_and(|f| f.contains('e')));
        db.client_no_evict(false).await.unwrap();

        // ACL users and the ACL log.
        db.acl_setuser("alice", ["on", ">secret", "~*", "+get"])
            .await
            .unwrap();
        let mut users = db.acl_users().await.unwrap();
        users.sort();
        assert_eq!(users, ["alice", "default"]);
        let alice = db.acl_getuser("alice").await.unwrap().unwrap();
        assert!(alice.contains_key("passwords"));
        assert!(db
            .acl_list()
            .await
            .unwrap()
            .iter()
            .any(|l| l.starts_with("user alice on")));
        let err = db.acl_setuser("bob", ["no-such-rule"]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        server.try_command(&["AUTH", "alice", "wrong"]).ok();
        let log = db.acl_log(10).await.unwrap();
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(
            log[0].get("reason"),
            Some(&Value::BulkString("auth".into()))
        );
        db.acl_log_reset().await.unwrap();
        assert!(db.acl_log(10).await.unwrap().is_empty());
        assert_eq!(db.acl_deluser(["alice", "ghost"]).await.unwrap(), 1);

        // Databases: swap, flush.
        db.set("k", "v").await.unwrap();
        db.swapdb(0, 1).await.unwrap();
        assert_eq!(db.dbsize().await.unwrap(), 0);
        let db1 = mux.database(1);
        assert_eq!(db1.dbsize().await.unwrap(), 1);
        db1.flushdb().await.unwrap();
        assert_eq!(db1.dbsize().await.unwrap(), 0);
        db.set("a", 1).await.unwrap();
        db1.set("b", 1).await.unwrap();
        db1.flushdb_with(FlushMode::Sync).await.unwrap();
        assert_eq!(db.dbsize().await.unwrap(), 1);
        db1.set("b", 1).await.unwrap();
        db.flushall().await.unwrap();
        assert_eq!(db.dbsize().await.unwrap() + db1.dbsize().await.unwrap(), 0);
        db.set("a", 1).await.unwrap();
        db.flushall_with(FlushMode::Async).await.unwrap();
        assert_eq!(db.dbsize().await.unwrap(), 0);

        // Persistence and modules.
        let before = db.lastsave().await.unwrap();
        db.save().await.unwrap();
        assert!(db.lastsave().await.unwrap() >= before);
        let started = db.bgrewriteaof().await.unwrap();
        assert!(started.contains("rewriting"), "{started}");
        let err_or_started = db.bgsave().await;
        match err_or_started {
            Ok(text) => assert!(
                text.contains("saving") || text.contains("scheduled"),
                "{text}"
            ),
            Err(err) => assert_eq!(err.kind(), ErrorKind::Server, "{err}"),
        }
        assert!(db.module_list().await.unwrap().is_empty());
        db.memory_purge().await.unwrap();
    }
}

#[tokio::test]
async fn admin_server_commands_are_refused_without_allow_admin() {
    let (server, mux) = connect("resp2").await;
    let db = mux.database(0);
    server.command(&["SET", "k", "v"]);
    let refused = [
        db.flushall().await.unwrap_err(),
        db.flushall_with(FlushMode::Sync).await.unwrap_err(),
        db.flushdb().await.unwrap_err(),
        db.flushdb_with(FlushMode::Async).await.unwrap_err(),
        db.swapdb(0, 1).await.unwrap_err(),
        db.save().await.unwrap_err(),
        db.bgsave().await.unwrap_err(),
        db.bgrewriteaof().await.unwrap_err(),
        db.module_list().await.unwrap_err(),
        db.memory_purge().await.unwrap_err(),
        db.config_set("maxmemory", 1).await.unwrap_err(),
        db.config_set_many([("maxmemory", 1)]).await.unwrap_err(),
        db.config_resetstat().await.unwrap_err(),
        db.config_rewrite().await.unwrap_err(),
        db.client_kill(ClientKillFilter::new().id(1))
            .await
            .unwrap_err(),
        db.client_pause(Duration::from_millis(1), ClientPauseMode::All)
            .await
            .unwrap_err(),
        db.client_unpause().await.unwrap_err(),
        db.client_no_evict(true).await.unwrap_err(),
        db.slowlog_reset().await.unwrap_err(),
        db.latency_reset(NONE).await.unwrap_err(),
        db.acl_setuser("u", ["on"]).await.unwrap_err(),
        db.acl_deluser(["u"]).await.unwrap_err(),
        db.acl_log_reset().await.unwrap_err(),
    ];
    for err in refused {
        assert_eq!(err.kind(), ErrorKind::AdminRefused, "{err}");
        assert!(err.to_string().contains("allowAdmin"), "{err}");
    }
    assert_eq!(server.command(&["DBSIZE"]).trim(), ":1");
    let maxmemory = db.config_get("maxmemory").await.unwrap();
    assert_eq!(maxmemory.get("maxmemory").map(String::as_str), Some("0"));
    // Read-only introspection the policy allows.
    assert!(!db.client_list().await.unwrap().is_empty());
    assert!(!db.config_get("maxmemory").await.unwrap().is_empty());
    assert_eq!(db.slowlog_len().await.unwrap(), 0);
    assert_eq!(db.acl_users().await.unwrap(), ["default"]);
}

#[tokio::test]
async fn server_commands_in_a_batch() {
    let (server, mux) = connect("resp3").await;
    server.command(&["SET", "k", "v"]);
    let db = mux.database(0);
    let mut batch = db.batch();
    let size = batch.dbsize();
    let info = batch.info_sections(["keyspace"]);
    let time = batch.time();
    let usage = batch.memory_usage("k");
    let me = batch.client_info();
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(size).unwrap(), 1);
    assert!(replies
        .take(info)
        .unwrap()
        .get("keyspace", "db0")
        .is_some_and(|v| v.starts_with("keys=1")));
    assert!(replies.take(time).unwrap() > SystemTime::UNIX_EPOCH);
    assert!(replies.take(usage).unwrap().is_some());
    assert_eq!(replies.take(me).unwrap().get("resp"), Some("3"));
}

#[tokio::test]
async fn latency_reads_command_keys_with_flags_and_acl_dryrun() {
    use redmux::prelude::*;
    let (server, mux) = crate::connect_admin("resp2").await;
    let db = mux.database(0);
    // No samples yet: the server says so as an error naming the event.
    let err = db.latency_graph("command").await.unwrap_err();
    assert_eq!(err.kind(), redmux::ErrorKind::Server, "{err}");
    assert!(err.to_string().contains("command"), "{err}");
    let histogram: redmux::Value = db.latency_histogram(["set"]).await.unwrap();
    assert!(matches!(
        histogram,
        redmux::Value::Array(_) | redmux::Value::Map(_)
    ));
    let keys: Vec<(String, Vec<String>)> = db
        .command_getkeysandflags(["LMOVE", "src", "dst", "LEFT", "RIGHT"])
        .await
        .unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].0, "src");
    assert!(keys[0].1.iter().any(|f| f == "RW"), "{keys:?}");
    assert_eq!(db.acl_dryrun("default", ["GET", "k"]).await.unwrap(), "OK");
    // ACL SAVE without an ACL file is the server's error, not a refusal.
    let err = db.acl_save().await.unwrap_err();
    assert_eq!(err.kind(), redmux::ErrorKind::Server, "{err}");
    drop(server);
    let (_server, plain) = crate::connect("resp2").await;
    let err = plain.database(0).acl_load().await.unwrap_err();
    assert_eq!(err.kind(), redmux::ErrorKind::AdminRefused, "{err}");
}
