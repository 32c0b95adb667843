//! HyperLogLog commands against a real server.

use redmux::prelude::*;
use redmux::ErrorKind;

use crate::connect;

#[tokio::test]
async fn add_count_merge_both_protocols() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);

        assert!(db.pfadd("a", ["x", "y", "z"]).await.unwrap());
        assert!(!db.pfadd("a", ["x", "y"]).await.unwrap(), "nothing new");
        assert!(
            db.pfadd("empty", Vec::<&str>::new()).await.unwrap(),
            "created"
        );
        assert_eq!(server.command(&["EXISTS", "empty"]), ":1\r\n");
        assert_eq!(db.pfcount("a").await.unwrap(), 3, "{protocol}");
        assert_eq!(db.pfcount("empty").await.unwrap(), 0);
        assert_eq!(db.pfcount("missing").await.unwrap(), 0);

        db.pfadd("b", ["z", "w"]).await.unwrap();
        assert_eq!(db.pfcount_many(["a", "b"]).await.unwrap(), 4);
        assert_eq!(db.pfcount_many(["a", "missing"]).await.unwrap(), 3);

        db.pfmerge("union", ["a", "b"]).await.unwrap();
        assert_eq!(db.pfcount("union").await.unwrap(), 4);
        assert_eq!(server.command(&["PFCOUNT", "union"]), ":4\r\n");
        db.pfadd("c", ["v"]).await.unwrap();
        db.pfmerge("union", ["c"]).await.unwrap();
        assert_eq!(db.pfcount("union").await.unwrap(), 5, "destination kept");

        server.command(&["RPUSH", "list", "a"]);
        let err = db.pfadd("list", ["x"]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("WRONGTYPE"), "{err}");
        server.command(&["SET", "plain", "not a hll"]);
        let err = db.pfcount("plain").await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("WRONGTYPE"), "{err}");
        let err = db.pfmerge("union", ["plain"]).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.to_string().contains("WRONGTYPE"), "{err}");
    }
}

#[tokio::test]
async fn hyperloglog_in_a_batch() {
    let (_server, mux) = connect("resp3").await;
    let db = mux.database(0);
    let mut batch = db.batch();
    let added = batch.pfadd("h", [1, 2, 3]);
    let merged = batch.pfmerge("h2", ["h"]);
    let count = batch.pfcount_many(["h", "h2"]);
    let mut replies = batch.execute().await.unwrap();
    assert!(replies.take(added).unwrap());
    replies.take(merged).unwrap();
    assert_eq!(replies.take(count).unwrap(), 3);
}
