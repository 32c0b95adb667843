//! scripting commands: see main.rs.

use bytes::Bytes;
use redmux::prelude::*;
use redmux::{ErrorKind, FlushMode, FunctionListOptions, FunctionRestorePolicy, Value};

use crate::{connect, connect_admin};

const NO_KEYS: [&str; 0] = [];

const LIB: &str = "#!lua name=mylib\n\
    redis.register_function{function_name='my_get', callback=function(keys, args) return redis.call('GET', keys[1]) end, flags={'no-writes'}, description='reads a key'}\n\
    redis.register_function('my_set', function(keys, args) return redis.call('SET', keys[1], args[1]) end)";

const LIB_V2: &str = "#!lua name=mylib\n\
    redis.register_function{function_name='my_get', callback=function(keys, args) return 'v2' end, flags={'no-writes'}}";

fn server_error(err: &Error, code: &str, text: &str) {
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.server_code(), Some(code), "{err}");
    assert!(err.to_string().contains(text), "{err}");
}

#[tokio::test]
async fn eval_evalsha_and_the_script_cache() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);

        let echoed: Vec<String> = db
            .eval("return {KEYS[1], ARGV[1], ARGV[2]}", ["k"], ["a", "b"])
            .await
            .unwrap();
        assert_eq!(echoed, ["k", "a", "b"], "{protocol}");
        let n: i64 = db
            .eval("return redis.call('INCRBY', KEYS[1], ARGV[1])", ["n"], [5])
            .await
            .unwrap();
        assert_eq!(n, 5);
        assert_eq!(server.command(&["GET", "n"]).trim(), "5");
        let nil: Option<String> = db.eval("return nil", NO_KEYS, NO_KEYS).await.unwrap();
        assert_eq!(nil, None);

        let sha = db.script_load("return ARGV[1] .. '!'").await.unwrap();
        assert_eq!(sha.len(), 40);
        let missing = "0".repeat(40);
        assert_eq!(
            db.script_exists([sha.as_str(), missing.as_str()])
                .await
                .unwrap(),
            [true, false]
        );
        let v: String = db.evalsha(&sha, NO_KEYS, ["hi"]).await.unwrap();
        assert_eq!(v, "hi!");
        let v: String = db.evalsha_ro(&sha, NO_KEYS, ["ro"]).await.unwrap();
        assert_eq!(v, "ro!");
        let err = db
            .evalsha::<String, _, _>(&missing, NO_KEYS, NO_KEYS)
            .await
            .unwrap_err();
        server_error(&err, "NOSCRIPT", "NOSCRIPT");

        let v: Option<String> = db
            .eval_ro("return redis.call('GET', KEYS[1])", ["n"], NO_KEYS)
            .await
            .unwrap();
        assert_eq!(v.as_deref(), Some("5"));
        let err = db
            .eval_ro::<(), _, _>("return redis.call('SET', KEYS[1], 1)", ["n"], NO_KEYS)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        assert!(
            err.to_string().contains("Write commands are not allowed"),
            "{err}"
        );

        server.command(&["RPUSH", "list", "x"]);
        let err = db
            .eval::<Option<String>, _, _>("return redis.call('GET', KEYS[1])", ["list"], NO_KEYS)
            .await
            .unwrap_err();
        server_error(&err, "WRONGTYPE", "WRONGTYPE");
    }
}

#[tokio::test]
async fn functions_load_call_list_dump_restore_delete() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect_admin(protocol).await;
        let db = mux.database(0);

        assert_eq!(db.function_load(LIB).await.unwrap(), "mylib");
        let err = db.function_load(LIB).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("already exists"), "{err}");

        let _: () = db.fcall("my_set", ["fk"], ["fv"]).await.unwrap();
        assert_eq!(server.command(&["GET", "fk"]).trim(), "fv");
        let v: Option<String> = db.fcall_ro("my_get", ["fk"], NO_KEYS).await.unwrap();
        assert_eq!(v.as_deref(), Some("fv"));
        let v: Option<String> = db.fcall("my_get", ["nothing"], NO_KEYS).await.unwrap();
        assert_eq!(v, None);
        let err = db
            .fcall_ro::<(), _, _>("my_set", ["fk"], ["x"])
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        let err = db
            .fcall::<(), _, _>("nope", NO_KEYS, NO_KEYS)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("Function not found"), "{err}");

        let libs = db.function_list().await.unwrap();
        assert_eq!(libs.len(), 1, "{protocol}");
        let lib = &libs[0];
        assert_eq!(lib.name, "mylib");
        assert_eq!(lib.engine, "LUA");
        assert_eq!(lib.code, None);
        let mut names: Vec<&str> = lib.functions.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["my_get", "my_set"]);
        let get = lib.functions.iter().find(|f| f.name == "my_get").unwrap();
        assert_eq!(get.description.as_deref(), Some("reads a key"));
        assert_eq!(get.flags, ["no-writes"]);
        let set = lib.functions.iter().find(|f| f.name == "my_set").unwrap();
        assert_eq!(set.description, None);
        assert!(set.flags.is_empty());

        let with_code = db
            .function_list_with(FunctionListOptions::new().library_name("my*").with_code())
            .await
            .unwrap();
        assert_eq!(with_code[0].code.as_deref(), Some(LIB));
        let none = db
            .function_list_with(FunctionListOptions::new().library_name("other*"))
            .await
            .unwrap();
        assert!(none.is_empty());

        let stats = db.function_stats().await.unwrap();
        assert!(
            matches!(stats, Value::Map(_) | Value::Array(_)),
            "{stats:?}"
        );

        let dump: Bytes = db.function_dump().await.unwrap();
        assert!(!dump.is_empty());
        db.function_flush().await.unwrap();
        assert!(db.function_list().await.unwrap().is_empty());
        db.function_restore(&dump).await.unwrap();
        assert_eq!(db.function_list().await.unwrap().len(), 1);
        let err = db.function_restore(&dump).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server, "{err}");
        db.function_restore_with(&dump, FunctionRestorePolicy::Replace)
            .await
            .unwrap();
        db.function_restore_with(&dump, FunctionRestorePolicy::Flush)
            .await
            .unwrap();

        assert_eq!(db.function_load_replace(LIB_V2).await.unwrap(), "mylib");
        let v: String = db.fcall("my_get", ["fk"], NO_KEYS).await.unwrap();
        assert_eq!(v, "v2");

        db.function_delete("mylib").await.unwrap();
        assert!(db.function_list().await.unwrap().is_empty());
        let err = db.function_delete("mylib").await.unwrap_err();
        assert!(err.to_string().contains("Library not found"), "{err}");
        db.function_flush_with(FlushMode::Sync).await.unwrap();

        let err = db.function_kill().await.unwrap_err();
        server_error(&err, "NOTBUSY", "NOTBUSY");
        let err = db.script_kill().await.unwrap_err();
        server_error(&err, "NOTBUSY", "NOTBUSY");

        let sha = db.script_load("return 1").await.unwrap();
        db.script_flush().await.unwrap();
        assert_eq!(db.script_exists([&sha]).await.unwrap(), [false]);
        db.script_load("return 1").await.unwrap();
        db.script_flush_with(FlushMode::Async).await.unwrap();
        assert_eq!(db.script_exists([&sha]).await.unwrap(), [false]);
    }
}

#[tokio::test]
async fn admin_scripting_commands_are_refused_without_allow_admin() {
    let (server, mux) = connect("resp3").await;
    let db = mux.database(0);
    let refused = [
        db.function_load(LIB).await.unwrap_err(),
        db.function_load_replace(LIB).await.unwrap_err(),
        db.function_delete("mylib").await.unwrap_err(),
        db.function_flush().await.unwrap_err(),
        db.function_restore(b"x".as_slice()).await.unwrap_err(),
        db.function_kill().await.unwrap_err(),
        db.script_flush().await.unwrap_err(),
        db.script_kill().await.unwrap_err(),
    ];
    for err in refused {
        assert_eq!(err.kind(), ErrorKind::AdminRefused, "{err}");
    }
    assert_eq!(server.command(&["FUNCTION", "LIST"]).trim(), "*0");
    // The read-only ones are not admin.
    assert!(db.function_list().await.unwrap().is_empty());
    assert!(!db.function_dump().await.unwrap().is_empty());
    assert_eq!(db.script_exists(["0".repeat(40)]).await.unwrap(), [false]);
}

#[tokio::test]
async fn scripting_commands_in_a_batch() {
    let (server, mux) = connect_admin("resp2").await;
    let db = mux.database(0);
    server.command(&["FUNCTION", "LOAD", LIB]);
    let sha = db.script_load("return KEYS[1] .. ARGV[1]").await.unwrap();

    let mut batch = db.batch();
    let evaluated = batch.evalsha::<String, _, _>(&sha, ["k"], ["v"]);
    let set = batch.fcall::<(), _, _>("my_set", ["bk"], ["bv"]);
    let got = batch.fcall_ro::<Option<String>, _, _>("my_get", ["bk"], NO_KEYS);
    let exists = batch.script_exists([&sha]);
    let libs = batch.function_list();
    let mut replies = batch.execute().await.unwrap();
    assert_eq!(replies.take(evaluated).unwrap(), "kv");
    replies.take(set).unwrap();
    assert_eq!(replies.take(got).unwrap().as_deref(), Some("bv"));
    assert_eq!(replies.take(exists).unwrap(), [true]);
    assert_eq!(replies.take(libs).unwrap()[0].name, "mylib");
}
