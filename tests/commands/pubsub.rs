//! Pub/sub publishing and introspection against a real server, with
//! redis-cli child processes as subscribers.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redmux::prelude::*;
use redmux::ChannelCounts;

use crate::connect;

/// A redis-cli subscriber, killed when dropped.
struct Subscriber(Child);

impl Subscriber {
    fn start(addr: &str, args: &[&str]) -> Subscriber {
        let port = addr.rsplit(':').next().expect("port");
        let child = Command::new("redis-cli")
            .args(["-p", port])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-cli");
        Subscriber(child)
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `PUBSUB NUMPAT` and the NUMSUB of `channel` reach the
/// expected counts (the subscribers connect in the background).
async fn wait_for(db: &Database, channel: &str, subs: u64, patterns: u64) {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let numsub = db.pubsub_numsub([channel]).await.unwrap();
        let numpat = db.pubsub_numpat().await.unwrap();
        if numsub.get(channel) == Some(subs) && numpat == patterns {
            return;
        }
        assert!(Instant::now() < until, "subscribers never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn nobody_listening() {
    for protocol in ["resp2", "resp3"] {
        let (_server, mux) = connect(protocol).await;
        let db = mux.database(0);
        assert_eq!(db.publish("ch", "hi").await.unwrap(), 0);
        assert_eq!(db.spublish("sch", "hi").await.unwrap(), 0);
        assert!(db.pubsub_channels(None::<&str>).await.unwrap().is_empty());
        assert!(db.pubsub_channels(Some("c*")).await.unwrap().is_empty());
        assert!(db
            .pubsub_shardchannels(None::<&str>)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(db.pubsub_numpat().await.unwrap(), 0);
        let counts = db.pubsub_numsub(["a", "b"]).await.unwrap();
        assert_eq!(
            counts.into_vec(),
            [("a".to_string(), 0), ("b".to_string(), 0)],
            "{protocol}"
        );
        let none = db.pubsub_numsub(Vec::<&str>::new()).await.unwrap();
        assert!(none.is_empty());
        let shard = db.pubsub_shardnumsub(["s1"]).await.unwrap();
        assert_eq!(shard.into_vec(), [("s1".to_string(), 0)]);
    }
}

#[tokio::test]
async fn with_subscribers() {
    for protocol in ["resp2", "resp3"] {
        let (server, mux) = connect(protocol).await;
        let db = mux.database(0);
        let addr = server.addr();
        let _a = Subscriber::start(&addr, &["SUBSCRIBE", "news", "alerts"]);
        let _b = Subscriber::start(&addr, &["SUBSCRIBE", "news"]);
        let _p = Subscriber::start(&addr, &["PSUBSCRIBE", "n*"]);
        let _s = Subscriber::start(&addr, &["SSUBSCRIBE", "shard1"]);
        wait_for(&db, "news", 2, 1).await;
        let until = Instant::now() + Duration::from_secs(10);
        while db
            .pubsub_shardnumsub(["shard1"])
            .await
            .unwrap()
            .get("shard1")
            != Some(1)
        {
            assert!(Instant::now() < until, "shard subscriber never arrived");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // Two channel subscribers plus the pattern one.
        assert_eq!(db.publish("news", "hello").await.unwrap(), 3, "{protocol}");
        assert_eq!(
            db.publish("alerts", b"\x00bin".as_slice()).await.unwrap(),
            1
        );
        assert_eq!(db.spublish("shard1", "x").await.unwrap(), 1);

        let mut channels: Vec<String> = db.pubsub_channels(None::<&str>).await.unwrap();
        channels.sort();
        assert_eq!(channels, ["alerts", "news"]);
        assert_eq!(db.pubsub_channels(Some("ne*")).await.unwrap(), ["news"]);
        assert_eq!(db.pubsub_numpat().await.unwrap(), 1);

        let counts: ChannelCounts = db.pubsub_numsub(["news", "alerts", "none"]).await.unwrap();
        assert_eq!(
            counts.to_vec(),
            [
                ("news".to_string(), 2),
                ("alerts".to_string(), 1),
                ("none".to_string(), 0)
            ],
            "{protocol}"
        );
        assert_eq!(
            db.pubsub_shardchannels(Some("shard*")).await.unwrap(),
            ["shard1"]
        );
        let shard = db.pubsub_shardnumsub(["shard1", "shard2"]).await.unwrap();
        assert_eq!(shard.get("shard1"), Some(1));
        assert_eq!(shard.get("shard2"), Some(0));

        // The same methods in a batch.
        let mut batch = db.batch();
        let published = batch.publish("news", "again");
        let numsub = batch.pubsub_numsub(["news"]);
        let numpat = batch.pubsub_numpat();
        let mut replies = batch.execute().await.unwrap();
        assert_eq!(replies.take(published).unwrap(), 3);
        assert_eq!(replies.take(numsub).unwrap().get("news"), Some(2));
        assert_eq!(replies.take(numpat).unwrap(), 1);
    }
}
